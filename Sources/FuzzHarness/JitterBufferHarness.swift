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
/// sequence numbers come out in order, with `discontinuity` over gaps; NACK lists are sorted;
/// every packet is accounted for: refused on the way in (counted as a duplicate or late, one
/// count per refusal) or, once time runs out, released.
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

        var refused = 0
        func insert(_ sequenceNumber: UInt16) {
            inserted.append(sequenceNumber)
            let counted = buffer.duplicates + buffer.late
            let slot = buffer.insert(inserted.count - 1, sequenceNumber: sequenceNumber, arrival: now)
            let countedNow = buffer.duplicates + buffer.late
            if slot == nil {
                refused += 1
                require(countedNow == counted + 1, "packet #\(inserted.count - 1) refused but counted \(countedNow - counted) times")
            } else {
                require(countedNow == counted, "packet #\(inserted.count - 1) taken in but counted as a duplicate or late")
                require((0..<buffer.capacity).contains(slot!), "slot \(slot!) outside the ring of \(buffer.capacity)")
            }
        }

        while !input.isAtEnd {
            switch input.u8() % 4 {
            case 0:
                now += Double(input.u8()) / 1000
                insert(input.u16())
            case 1:
                now += Double(input.u8()) / 1000
                let step = Int16(Int8(bitPattern: input.u8()))
                insert((inserted.last ?? 0) &+ UInt16(bitPattern: step))
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
        require(released.count + refused == inserted.count,
                "\(inserted.count) packets in, \(released.count) out and \(refused) refused: some went missing")
        require(buffer.duplicates + buffer.late == refused, "duplicates \(buffer.duplicates) + late \(buffer.late) != \(refused) refused")
        require(buffer.pop(now: now).isEmpty, "packets left after time ran out")
    }
}
