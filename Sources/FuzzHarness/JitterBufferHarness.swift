import Media

/// Packet sequences into `JitterBuffer`: fuzzed sequence numbers, arrival times, pops and
/// NACK lists, with a fuzzed wait and capacity.
///
/// Input: maxWait (u8, in 10 ms), capacity (u8; 0 means the default 1024), then operations:
///   0  insert a packet: delay u8 ms, sequence number u16
///   1  insert a packet near the last one: delay u8 ms, signed 8-bit step
///   2  pop: delay u16 ms
///   3  NACK list: delay u8 ms, interval u8 ms, at most u8 % 12 tries
/// Invariants: each packet comes out at most once, with the sequence number it went in with;
/// sequence numbers come out in order, with `discontinuity` over gaps; NACK lists are sorted.
public enum JitterBufferHarness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let maxWait = Double(input.u8()) / 100
        let capacity = Int(input.u8())
        var buffer = JitterBuffer<Int>(maxWait: maxWait, capacity: capacity == 0 ? 1024 : capacity)
        var inserted: [UInt16] = []  // sequence number by packet id
        var released = Set<Int>()
        var order = OrderCheck()
        var now = 0.0

        func pop() {
            for output in buffer.pop(now: now) {
                require(released.insert(output.element).inserted, "packet #\(output.element) released twice")
                require(inserted[output.element] == output.sequenceNumber,
                        "packet #\(output.element) went in as \(inserted[output.element]), came out as \(output.sequenceNumber)")
                order.released(output.sequenceNumber, discontinuity: output.discontinuity)
            }
        }

        while !input.isAtEnd {
            switch input.u8() % 4 {
            case 0:
                now += Double(input.u8()) / 1000
                inserted.append(input.u16())
                buffer.insert(inserted.count - 1, sequenceNumber: inserted[inserted.count - 1], arrival: now)
            case 1:
                now += Double(input.u8()) / 1000
                let step = Int16(Int8(bitPattern: input.u8()))
                inserted.append((inserted.last ?? 0) &+ UInt16(bitPattern: step))
                buffer.insert(inserted.count - 1, sequenceNumber: inserted[inserted.count - 1], arrival: now)
            case 2:
                now += Double(input.u16()) / 1000
                pop()
            default:
                now += Double(input.u8()) / 1000
                let interval = Double(input.u8()) / 1000
                // Sorted in 16-bit serial order (65535 before 0): the buffer spans at most
                // `capacity` ≤ 32768 numbers, so that order is total and names each at most once.
                let list = buffer.nackList(now: now, interval: interval, maxTries: Int(input.u8() % 12))
                require(zip(list, list.dropFirst()).allSatisfy { Int16(bitPattern: $1 &- $0) > 0 }, "NACK list not sorted: \(list)")
            }
        }
        now = .infinity
        pop()
        require(buffer.duplicates >= 0 && buffer.lost >= 0 && buffer.late >= 0, "negative counters")
    }
}
