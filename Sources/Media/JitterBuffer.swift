/// Per-stream reordering in front of the depacketizer: packets come out in sequence order,
/// duplicates are dropped, 16-bit sequence numbers are unwrapped (so 65535 → 0 does not look
/// like a huge jump or purge the buffer), missing packets are offered for NACK, and a gap that
/// stays open longer than `maxWait` is given up (the next packet carries `discontinuity`).
///
/// Storage is a fixed ring of `capacity` slots indexed by sequence number, made once: inserting
/// and popping allocate nothing. An owner that keeps packet bytes elsewhere (`InboundStream`)
/// keeps them at the slot index `insert` returns.
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
        /// The ring slot the packet occupied (free again once handed out).
        public var slot: Int
    }

    private enum Slot: Sendable {
        case empty
        /// A hole between delivered and newest, noticed at this time.
        case missing(since: Double)
        case present(Element)
    }

    private struct NackEntry: Sendable {
        var firstMissed: Double
        var lastSent: Double?
        var tries: Int
    }

    /// NACK list length limit (libwebrtc's kMaxNackPackets).
    public static var maxNackPackets: Int { 1000 }

    public let maxWait: Double
    /// Sequence numbers spanned at most, from the oldest undelivered to the newest.
    public let capacity: Int
    private var ring: [Slot]
    private var next: Int64?
    private var highest: Int64?
    /// The holes still worth a NACK (at most `maxNackPackets` entries).
    private var nackState: [Int64: NackEntry] = [:]
    /// Packets handed out by the next `pop` ahead of the ring: what was buffered when a jump
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
        self.capacity = min(max(capacity, 1), 32768)
        ring = Array(repeating: .empty, count: self.capacity)
        // The NACK list grows with the holes (none on a clean path), not up front.
    }

    /// Whether the buffer gave up on repairing by retransmission since the last call: the NACK
    /// list overflowed or the sequence jumped past `capacity`. The caller should ask the sender
    /// for a key frame (PLI/FIR). Reading it clears it.
    public mutating func takeKeyFrameRequest() -> Bool {
        defer { keyFrameRequest = false }
        return keyFrameRequest
    }

    /// The ring slot of an extended sequence number.
    @inline(__always) private func index(_ extended: Int64) -> Int {
        Int(extended % Int64(capacity) + (extended < 0 ? Int64(capacity) : 0)) % capacity
    }

    /// The extended sequence number closest to the highest seen.
    private func unwrap(_ sequence: UInt16) -> Int64 {
        guard let highest else { return Int64(sequence) }
        return SequenceNumber.extend(sequence, near: highest)
    }

    /// Takes a packet in; returns the ring slot it occupies, or nil when it was a duplicate or
    /// came after its place was delivered or given up.
    @discardableResult
    public mutating func insert(_ element: Element, sequenceNumber: UInt16, arrival: Double) -> Int? {
        let extended = unwrap(sequenceNumber)
        if let next, extended < next {
            // Already delivered or given up: a late retransmission or a duplicate.
            late += 1
            return nil
        }
        if let next, extended - next >= Int64(capacity) {
            restart(at: extended)
        }
        if next == nil { next = extended }
        let slot = index(extended)
        if let highest, extended <= highest, case .present = ring[slot] {
            duplicates += 1
            return nil
        }
        ring[slot] = .present(element)
        nackState[extended] = nil
        guard let h = highest else {
            highest = extended
            return slot
        }
        guard extended > h else { return slot }
        // Fewer than `capacity` new holes: the span check above bounds the gap.
        let holes = (h + 1)..<extended
        for missing in holes { ring[index(missing)] = .missing(since: arrival) }
        if nackState.count + holes.count > Self.maxNackPackets {
            // Too much to repair by retransmission: a key frame is cheaper (NackRequester).
            nackState.removeAll(keepingCapacity: true)
            requestKeyFrame()
        } else {
            for missing in holes { nackState[missing] = NackEntry(firstMissed: arrival, lastSent: nil, tries: 0) }
        }
        highest = extended
        return slot
    }

    /// A packet `capacity` or more ahead of the oldest undelivered one: queue what is buffered,
    /// in order, give up every hole before the new packet and continue from it.
    private mutating func restart(at extended: Int64) {
        guard let start = next, let end = highest else { return }
        var cursor = start
        var sequence = start
        while sequence <= end {
            let slot = index(sequence)
            if case .present(let element) = ring[slot] {
                if sequence > cursor {
                    lost += Int(sequence - cursor)
                    pendingDiscontinuity = true
                }
                flushed.append(Output(element: element, sequenceNumber: UInt16(truncatingIfNeeded: sequence),
                                      discontinuity: pendingDiscontinuity, slot: slot))
                pendingDiscontinuity = false
                cursor = sequence + 1
            }
            ring[slot] = .empty
            sequence += 1
        }
        lost += Int(extended - cursor)
        pendingDiscontinuity = true
        nackState.removeAll(keepingCapacity: true)
        next = extended
        highest = extended - 1
        requestKeyFrame()
    }

    private mutating func requestKeyFrame() {
        keyFrameRequest = true
        keyFrameRequests += 1
    }

    /// Hands out the packets ready in order, without allocating; gives up gaps older than
    /// `maxWait`. A packet's slot is free again once `body` returns.
    public mutating func pop(now: Double, _ body: (Output) -> Void) {
        if !flushed.isEmpty {
            for output in flushed { body(output) }
            flushed.removeAll(keepingCapacity: true)
        }
        guard var cursor = next, let highest else { return }
        while cursor <= highest {
            let slot = index(cursor)
            switch ring[slot] {
            case .present(let element):
                ring[slot] = .empty
                body(Output(element: element, sequenceNumber: UInt16(truncatingIfNeeded: cursor),
                            discontinuity: pendingDiscontinuity, slot: slot))
                pendingDiscontinuity = false
                cursor += 1
                continue
            case .missing(let since) where now - since < maxWait:
                break  // may still be retransmitted
            case .missing, .empty:
                // Too old: give up every hole up to the next packet that is here.
                var resume = cursor
                while resume <= highest {
                    if case .present = ring[index(resume)] { break }
                    ring[index(resume)] = .empty
                    nackState[resume] = nil
                    resume += 1
                }
                lost += Int(resume - cursor)
                pendingDiscontinuity = true
                cursor = resume
                continue
            }
            break
        }
        next = cursor
    }

    /// The packets ready in order (allocates the array: for tests and tools).
    public mutating func pop(now: Double) -> [Output] {
        var out: [Output] = []
        pop(now: now) { out.append($0) }
        return out
    }

    /// Sequence numbers to NACK now: missing, not asked about in the last `interval`, at most
    /// `maxTries` times each, and no older than `maxWait` (by then the gap is given up). Costs
    /// in proportion to the list (at most `maxNackPackets`), whatever the sequence jumps.
    public mutating func nackList(now: Double, interval: Double = 0.05, maxTries: Int = 8) -> [UInt16] {
        guard !nackState.isEmpty else { return [] }
        var out: [UInt16] = []
        var expired: [Int64] = []
        // Walked by index and updated in place: iterating the dictionary while assigning to it
        // would copy the whole list on every call.
        var index = nackState.startIndex
        while index != nackState.endIndex {
            let (sequence, state) = nackState[index]
            if state.tries >= maxTries || now - state.firstMissed > maxWait {
                expired.append(sequence)
            } else if !(state.lastSent.map { now - $0 < interval } ?? false) {
                nackState.values[index] = NackEntry(firstMissed: state.firstMissed, lastSent: now, tries: state.tries + 1)
                out.append(UInt16(truncatingIfNeeded: sequence))
            }
            nackState.formIndex(after: &index)
        }
        for sequence in expired { nackState[sequence] = nil }
        // In sequence order across a wrap (the list spans less than half the number space).
        return out.sorted { Int16(bitPattern: $0 &- $1) < 0 }
    }
}
