/// Per-stream reordering in front of the depacketizer: packets come out in sequence order,
/// duplicates are dropped, 16-bit sequence numbers are unwrapped (so 65535 → 0 does not look
/// like a huge jump or purge the buffer), missing packets are offered for NACK, and a gap that
/// stays open longer than `maxWait` is given up (the next packet carries `discontinuity`).
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

    public let maxWait: Double
    public let capacity: Int
    private var slots: [Int64: Slot] = [:]
    private var next: Int64?
    private var highest: Int64?
    private var nackState: [Int64: (firstMissed: Double, lastSent: Double?, tries: Int)] = [:]
    private var pendingDiscontinuity = false
    public private(set) var duplicates = 0
    public private(set) var lost = 0
    public private(set) var late = 0

    /// - Parameters:
    ///   - maxWait: seconds a gap may stay open waiting for a retransmission.
    ///   - capacity: packets held at most; beyond it the oldest gap is given up.
    public init(maxWait: Double, capacity: Int = 1024) {
        self.maxWait = maxWait
        self.capacity = capacity
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
        if next == nil { next = extended }
        slots[extended] = Slot(element: element, arrival: arrival)
        nackState[extended] = nil
        if let h = highest {
            if extended > h {
                for missing in (h + 1)..<extended where missing - h < 1000 { nackState[missing] = (arrival, nil, 0) }
                highest = extended
            }
        } else {
            highest = extended
        }
    }

    /// Packets ready in order; gives up gaps older than `maxWait` (or when over capacity).
    public mutating func pop(now: Double) -> [Output] {
        var out: [Output] = []
        guard var cursor = next else { return out }
        while let highest, cursor <= highest {
            if let slot = slots.removeValue(forKey: cursor) {
                out.append(Output(element: slot.element, sequenceNumber: UInt16(truncatingIfNeeded: cursor),
                                  discontinuity: pendingDiscontinuity))
                pendingDiscontinuity = false
                cursor += 1
                continue
            }
            // A hole: wait for it unless it is too old or the buffer too full.
            let firstMissed = nackState[cursor]?.firstMissed ?? now
            guard now - firstMissed >= maxWait || slots.count >= capacity else { break }
            let resume = slots.keys.filter { $0 > cursor }.min() ?? highest + 1
            lost += Int(resume - cursor)
            for skipped in cursor..<resume { nackState[skipped] = nil }
            pendingDiscontinuity = true
            cursor = resume
        }
        next = cursor
        return out
    }

    /// Sequence numbers to NACK now: missing, not asked about in the last `interval`, at most
    /// `maxTries` times each.
    public mutating func nackList(now: Double, interval: Double = 0.05, maxTries: Int = 8) -> [UInt16] {
        var out: [UInt16] = []
        for (sequence, state) in nackState where state.tries < maxTries {
            if let last = state.lastSent, now - last < interval { continue }
            nackState[sequence] = (state.firstMissed, now, state.tries + 1)
            out.append(UInt16(truncatingIfNeeded: sequence))
        }
        return out.sorted()
    }
}
