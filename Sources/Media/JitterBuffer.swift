/// Per-stream reordering in front of the depacketizer: packets come out in sequence order,
/// duplicates are dropped, 16-bit sequence numbers are unwrapped (so 65535 → 0 does not look
/// like a huge jump or purge the buffer), missing packets are offered for NACK, and a gap that
/// stays open longer than `maxWait` is given up (the next packet carries `discontinuity`).
///
/// What a sender's sequence numbers can cost is bounded, as in libwebrtc's NackRequester: the
/// buffer spans at most `capacity` sequence numbers (a packet further ahead gives up everything
/// before it at once), the NACK list holds at most `maxNackPackets` (more missing at once
/// clears it and asks for a key frame instead, see `takeKeyFrameRequest`), and entries leave
/// it after `maxTries` or `maxWait`.
public struct JitterBuffer<Element: Sendable>: Sendable {
    public struct Output: Sendable {
        public var element: Element
        public var sequenceNumber: UInt16
        /// Packets before this one were given up as lost.
        public var discontinuity: Bool
    }

    private struct Slot: Sendable {
        var element: Element
        var arrival: Double
    }

    private struct NackEntry: Sendable {
        var firstMissed: Double
        var lastSent: Double?
        var tries: Int
    }

    /// NACK list length limit (libwebrtc's kMaxNackPackets).
    public static var maxNackPackets: Int { 1000 }

    public let maxWait: Double
    public let capacity: Int
    private var slots: [Int64: Slot] = [:]
    private var next: Int64?
    private var highest: Int64?
    /// When each hole between `next` and `highest` was noticed (at most `capacity` entries).
    private var missingSince: [Int64: Double] = [:]
    /// The holes still worth a NACK (at most `maxNackPackets` entries).
    private var nackState: [Int64: NackEntry] = [:]
    /// Packets handed out by the next `pop` ahead of the slots: what was buffered when a jump
    /// past `capacity` gave the rest up.
    private var flushed: [Output] = []
    private var pendingDiscontinuity = false
    private var keyFrameRequest = false
    public private(set) var duplicates = 0
    public private(set) var lost = 0
    public private(set) var late = 0
    /// Times the NACK list overflowed or a jump reset the buffer (each asks for a key frame).
    public private(set) var keyFrameRequests = 0

    /// - Parameters:
    ///   - maxWait: seconds a gap may stay open waiting for a retransmission.
    ///   - capacity: sequence numbers spanned at most, from the oldest undelivered to the newest.
    public init(maxWait: Double, capacity: Int = 1024) {
        self.maxWait = maxWait
        self.capacity = max(capacity, 1)
    }

    /// Whether the buffer gave up on repairing by retransmission since the last call: the NACK
    /// list overflowed or the sequence jumped past `capacity`. The caller should ask the sender
    /// for a key frame (PLI/FIR). Reading it clears it.
    public mutating func takeKeyFrameRequest() -> Bool {
        defer { keyFrameRequest = false }
        return keyFrameRequest
    }

    /// The extended sequence number closest to the highest seen.
    private func unwrap(_ sequence: UInt16) -> Int64 {
        guard let highest else { return Int64(sequence) }
        let delta = Int64(Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highest)))
        return highest + delta
    }

    public mutating func insert(_ element: Element, sequenceNumber: UInt16, arrival: Double) {
        let extended = unwrap(sequenceNumber)
        if let next, extended < next {
            // Already delivered or given up: a late retransmission or a duplicate.
            late += 1
            return
        }
        if slots[extended] != nil {
            duplicates += 1
            return
        }
        if let next, extended - next >= Int64(capacity) {
            restart(at: extended)
        }
        if next == nil { next = extended }
        slots[extended] = Slot(element: element, arrival: arrival)
        missingSince[extended] = nil
        nackState[extended] = nil
        guard let h = highest else {
            highest = extended
            return
        }
        guard extended > h else { return }
        // Fewer than `capacity` new holes: the span check above bounds the gap.
        let holes = (h + 1)..<extended
        for missing in holes { missingSince[missing] = arrival }
        if nackState.count + holes.count > Self.maxNackPackets {
            // Too much to repair by retransmission: a key frame is cheaper (NackRequester).
            nackState.removeAll()
            requestKeyFrame()
        } else {
            for missing in holes { nackState[missing] = NackEntry(firstMissed: arrival, lastSent: nil, tries: 0) }
        }
        highest = extended
    }

    /// A packet `capacity` or more ahead of the oldest undelivered one: queue what is buffered,
    /// in order, give up every hole before the new packet and continue from it.
    private mutating func restart(at extended: Int64) {
        guard let start = next else { return }
        var cursor = start
        for key in slots.keys.sorted() {
            guard let slot = slots[key] else { continue }
            if key > cursor {
                lost += Int(key - cursor)
                pendingDiscontinuity = true
            }
            flushed.append(Output(element: slot.element, sequenceNumber: UInt16(truncatingIfNeeded: key),
                                  discontinuity: pendingDiscontinuity))
            pendingDiscontinuity = false
            cursor = key + 1
        }
        lost += Int(extended - cursor)
        pendingDiscontinuity = true
        slots.removeAll()
        missingSince.removeAll()
        nackState.removeAll()
        next = extended
        highest = extended
        requestKeyFrame()
    }

    private mutating func requestKeyFrame() {
        keyFrameRequest = true
        keyFrameRequests += 1
    }

    /// Packets ready in order; gives up gaps older than `maxWait`.
    public mutating func pop(now: Double) -> [Output] {
        var out = flushed
        flushed = []
        guard var cursor = next else { return out }
        while let highest, cursor <= highest {
            if let slot = slots.removeValue(forKey: cursor) {
                out.append(Output(element: slot.element, sequenceNumber: UInt16(truncatingIfNeeded: cursor),
                                  discontinuity: pendingDiscontinuity))
                pendingDiscontinuity = false
                cursor += 1
                continue
            }
            // A hole: wait for it unless it is too old.
            let firstMissed = missingSince[cursor] ?? now
            guard now - firstMissed >= maxWait else { break }
            let resume = slots.keys.filter { $0 > cursor }.min() ?? highest + 1
            lost += Int(resume - cursor)
            for skipped in cursor..<resume {
                missingSince[skipped] = nil
                nackState[skipped] = nil
            }
            pendingDiscontinuity = true
            cursor = resume
        }
        next = cursor
        return out
    }

    /// Sequence numbers to NACK now: missing, not asked about in the last `interval`, at most
    /// `maxTries` times each, and no older than `maxWait` (by then the gap is given up). Costs
    /// in proportion to the list (at most `maxNackPackets`), whatever the sequence jumps.
    public mutating func nackList(now: Double, interval: Double = 0.05, maxTries: Int = 8) -> [UInt16] {
        var out: [UInt16] = []
        for (sequence, state) in nackState {
            if state.tries >= maxTries || now - state.firstMissed > maxWait {
                nackState[sequence] = nil
                continue
            }
            if let last = state.lastSent, now - last < interval { continue }
            nackState[sequence] = NackEntry(firstMissed: state.firstMissed, lastSent: now, tries: state.tries + 1)
            out.append(UInt16(truncatingIfNeeded: sequence))
        }
        // In sequence order across a wrap (the list spans less than half the number space).
        return out.sorted { Int16(bitPattern: $0 &- $1) < 0 }
    }
}
