/// The pacer's waiting packets: one first-in first-out line per kind, taken in priority order.
/// Each line is an array read from a moving head and reset once empty, so a steady flow of
/// packets reuses the same storage (no allocation per packet once the lines have grown).
public struct PacingQueue: Sendable {
    private var lines: [[PacedPacket]] = PacedPacket.Kind.allCases.map { _ in [] }
    private var heads: [Int] = PacedPacket.Kind.allCases.map { _ in 0 }
    public private(set) var count = 0
    /// Bytes of everything queued.
    public private(set) var bytes = 0
    /// Sum of the queued packets' enqueue times, for their mean time in the queue.
    private var enqueueTimes = 0.0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func push(_ packet: PacedPacket) {
        lines[packet.kind.rawValue].append(packet)
        count += 1
        bytes += packet.size
        enqueueTimes += packet.enqueuedAt
    }

    /// The packet that goes next (highest priority, oldest), without taking it.
    public func peek() -> PacedPacket? {
        for kind in lines.indices where heads[kind] < lines[kind].count { return lines[kind][heads[kind]] }
        return nil
    }

    public mutating func pop() -> PacedPacket? {
        for kind in lines.indices where heads[kind] < lines[kind].count {
            let packet = lines[kind][heads[kind]]
            heads[kind] += 1
            if heads[kind] == lines[kind].count {
                lines[kind].removeAll(keepingCapacity: true)
                heads[kind] = 0
            } else if heads[kind] >= 1024, heads[kind] * 2 >= lines[kind].count {
                // A line that never empties: drop what was read, in place.
                lines[kind].removeFirst(heads[kind])
                heads[kind] = 0
            }
            count -= 1
            bytes -= packet.size
            enqueueTimes -= packet.enqueuedAt
            if count == 0 { enqueueTimes = 0 }
            return packet
        }
        return nil
    }

    /// How long the queued packets have waited, on average (0 when empty).
    public func averageQueueTime(now: Double) -> Double {
        count == 0 ? 0 : max(0, now - enqueueTimes / Double(count))
    }

    /// How long the oldest queued packet has waited (0 when empty).
    public func oldestQueueTime(now: Double) -> Double {
        var oldest = Double.infinity
        for kind in lines.indices where heads[kind] < lines[kind].count { oldest = min(oldest, lines[kind][heads[kind]].enqueuedAt) }
        return oldest.isFinite ? max(0, now - oldest) : 0
    }
}
