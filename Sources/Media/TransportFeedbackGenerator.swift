import RTP

/// The receive side of transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-
/// extensions-01), without I/O: every arriving packet's transport-wide sequence number and
/// arrival time go in; every `interval` the packets since the last feedback come out as
/// transport-cc messages, the missing ones as not received, so the sender's estimator (the
/// SFU's, for what nacho receives) sees the real downlink. libwebrtc's RemoteEstimatorProxy and
/// mediasoup's TransportCongestionControlServer do this job in the two real clients.
///
/// Arrival times are kept in a ring indexed by sequence number (no allocation per packet). The
/// ring starts small and doubles only when one feedback interval's window needs more (a
/// subscriber's 100 ms is a few dozen packets; every bot has a generator), up to `capacity`. A
/// packet older than the window already reported is ignored; one so far ahead that the window
/// would pass `capacity` moves the window (the skipped ones are never reported, which a
/// sender reads as "no news", not as loss).
public struct TransportFeedbackGenerator: Sendable {
    /// How often feedback goes out, seconds (mediasoup and libwebrtc default: 100 ms).
    public let interval: Double
    public let senderSSRC: UInt32
    /// Arrival time in 250 µs ticks per ring slot, or `notReceived`.
    private var arrivals: [Int64]
    private static let notReceived = Int64.min
    /// Slots the ring starts with, and may grow to (powers of two).
    private static let initialSlots = 64
    public let capacity: Int
    /// First unreported and one past the highest received, unwrapped.
    private var windowStart: Int64?
    private var windowEnd: Int64 = 0
    private var highest: Int64?
    private var mediaSSRC: UInt32 = 0
    private var feedbackCount: UInt8 = 0
    private var nextFeedback = -Double.infinity
    /// Packets that came after their place had been reported.
    public private(set) var lateArrivals = 0
    /// Feedback messages written.
    public private(set) var messagesSent = 0

    /// - Parameter capacity: packets one window can hold (a power of two).
    public init(senderSSRC: UInt32, interval: Double = 0.1, capacity: Int = 4096) {
        self.senderSSRC = senderSSRC
        self.interval = interval
        var size = 1
        while size < max(capacity, Self.initialSlots) { size <<= 1 }
        self.capacity = size
        arrivals = [Int64](repeating: Self.notReceived, count: Self.initialSlots)
    }

    /// Slots the ring holds now.
    public var slots: Int { arrivals.count }

    /// A packet carrying transport-wide sequence `sequence` of stream `ssrc` arrived at
    /// `arrival` (seconds, monotonic).
    public mutating func received(sequence: UInt16, ssrc: UInt32, arrival: Double) {
        let unwrapped = unwrap(sequence)
        mediaSSRC = ssrc
        let ticks = Self.ticks(arrival)
        guard let start = windowStart else {
            windowStart = unwrapped
            windowEnd = unwrapped + 1
            arrivals[slot(unwrapped)] = ticks
            return
        }
        guard unwrapped >= start else { lateArrivals += 1; return }
        if unwrapped - start >= Int64(arrivals.count), arrivals.count < capacity { grow(toHold: unwrapped - start + 1) }
        if unwrapped >= windowEnd {
            // Slots between the old end and this one are reused: clear what they held.
            let clearFrom = max(windowEnd, unwrapped - Int64(arrivals.count) + 1)
            for sequence in clearFrom..<unwrapped { arrivals[slot(sequence)] = Self.notReceived }
            windowEnd = unwrapped + 1
            if windowEnd - start > Int64(arrivals.count) { windowStart = windowEnd - Int64(arrivals.count) }
        }
        arrivals[slot(unwrapped)] = ticks
    }

    /// The feedback due at `now` (empty when it is not yet time or nothing arrived): one
    /// message per `TransportCCFeedback.maxStatuses` packets, or sooner where a gap in arrival
    /// times does not fit a delta.
    public mutating func feedback(now: Double) -> [TransportCCFeedback] {
        guard now >= nextFeedback, var start = windowStart, start < windowEnd else { return [] }
        nextFeedback = now + interval
        var messages: [TransportCCFeedback] = []
        while start < windowEnd, let (message, next) = message(from: start) {
            messages.append(message)
            start = next
        }
        windowStart = windowEnd
        return messages
    }

    /// One message from `start`; returns it and where the next begins. Its reference time is
    /// the first received packet's arrival (the window always ends with a received packet).
    private mutating func message(from start: Int64) -> (TransportCCFeedback, Int64)? {
        guard let firstReceived = (start..<windowEnd).first(where: { arrivals[slot($0)] != Self.notReceived }) else { return nil }
        // 64 ms units are 256 ticks; the field is 24 bits, read as signed.
        let reference = arrivals[slot(firstReceived)] >> 8
        var previous = reference << 8
        var statuses: [TransportCCFeedback.Status] = []
        var deltas: [Int32] = []
        var sequence = start
        while sequence < windowEnd, statuses.count < TransportCCFeedback.maxStatuses {
            let arrival = arrivals[slot(sequence)]
            if arrival == Self.notReceived {
                statuses.append(.notReceived)
            } else {
                // A gap no delta can hold ends the message; the next one has its own reference.
                let delta = arrival - previous
                guard (-32_768...32_767).contains(delta) else { break }
                statuses.append((0...255).contains(delta) ? .smallDelta : .largeDelta)
                deltas.append(Int32(delta) * 250)
                previous = arrival
            }
            sequence += 1
        }
        let referenceField = (Int32(truncatingIfNeeded: reference & 0xFF_FFFF) << 8) >> 8
        guard let message = try? TransportCCFeedback(
            senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, baseSequence: UInt16(truncatingIfNeeded: start),
            referenceTime: referenceField, feedbackPacketCount: feedbackCount, statuses: statuses, receiveDeltas: deltas) else { return nil }
        feedbackCount &+= 1
        messagesSent += 1
        return (message, sequence)
    }

    /// Doubles the ring until it holds `span` slots (at most `capacity`), the window's arrivals
    /// moved to their slots in it. Only while the window outgrows the ring: rare, not per packet.
    private mutating func grow(toHold span: Int64) {
        var size = arrivals.count
        while Int64(size) < span, size < capacity { size <<= 1 }
        var grown = [Int64](repeating: Self.notReceived, count: size)
        if let start = windowStart {
            // The window never spans more than the old ring, so this walks at most its size.
            for sequence in start..<windowEnd { grown[Int(truncatingIfNeeded: sequence) & (size - 1)] = arrivals[slot(sequence)] }
        }
        arrivals = grown
    }

    private func slot(_ sequence: Int64) -> Int { Int(truncatingIfNeeded: sequence) & (arrivals.count - 1) }

    /// Arrival seconds in 250 µs ticks (to the nearest: 1.005 s is 4020, not 4019.99… cut to
    /// 4019), clamped to what the arithmetic above can hold.
    private static func ticks(_ seconds: Double) -> Int64 {
        guard seconds.isFinite else { return 0 }
        return Int64((min(max(seconds, 0), 1e12) * 4000).rounded())
    }

    /// The sequence number unwrapped next to the highest seen (RFC 3550 A.1's idea).
    private mutating func unwrap(_ sequence: UInt16) -> Int64 {
        guard let highest else {
            let first = Int64(sequence) + (1 << 16)
            highest = first
            return first
        }
        let unwrapped = SequenceNumber.extend(sequence, near: highest)
        if unwrapped > highest { self.highest = unwrapped }
        return unwrapped
    }
}
