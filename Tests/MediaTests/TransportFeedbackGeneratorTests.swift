import Bytes
import Media
import RTP
import XCTest

final class TransportFeedbackGeneratorTests: XCTestCase {
    /// Each reported packet's sequence number and arrival time (µs on the message's clock), or
    /// nil arrival when reported lost; read back through the wire format.
    private func reported(_ messages: [TransportCCFeedback]) throws -> [(UInt16, Int64?)] {
        var packets: [(UInt16, Int64?)] = []
        for message in messages {
            var writer = ByteWriter()
            message.write(to: &writer)
            let parsed = try TransportCCFeedback(parsing: writer.bytes[...])
            var time = Int64(parsed.referenceTime) * 64_000
            var deltas = parsed.receiveDeltas.makeIterator()
            for (offset, status) in parsed.statuses.enumerated() {
                let sequence = parsed.baseSequence &+ UInt16(truncatingIfNeeded: offset)
                if status == .notReceived {
                    packets.append((sequence, nil))
                } else {
                    time += Int64(try XCTUnwrap(deltas.next()))
                    packets.append((sequence, time))
                }
            }
        }
        return packets
    }

    func testEveryPacketIsReportedOnceWithItsArrivalAcrossTheWrap() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 7)
        var arrivals: [(UInt16, Double)] = []
        for index in 0..<20 {
            let sequence = UInt16(65530) &+ UInt16(index)
            let arrival = 1000.0 + Double(index) * 0.005
            arrivals.append((sequence, arrival))
            generator.received(sequence: sequence, ssrc: 0xABCD, arrival: arrival)
        }
        let messages = generator.feedback(now: 1000.1)
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(messages.first?.mediaSSRC, 0xABCD)
        XCTAssertEqual(messages.first?.senderSSRC, 7)
        let packets = try reported(messages)
        XCTAssertEqual(packets.map(\.0), arrivals.map(\.0))
        // Arrival differences survive to the 250 µs tick.
        let times = packets.compactMap(\.1)
        for (index, time) in times.enumerated().dropFirst() {
            XCTAssertEqual(time - times[index - 1], 5000, accuracy: 250)
        }
        XCTAssertEqual(generator.feedback(now: 1000.3), [], "nothing new arrived")
    }

    func testLossesAreReportedAlsoAcrossMessages() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 1)
        for sequence: UInt16 in [10, 11, 14] { generator.received(sequence: sequence, ssrc: 2, arrival: 5 + Double(sequence) / 1000) }
        let first = try reported(generator.feedback(now: 5.1))
        XCTAssertEqual(first.map(\.0), [10, 11, 12, 13, 14])
        XCTAssertEqual(first.map { $0.1 == nil }, [false, false, true, true, false])
        // 15 and 16 never come; 17 does: the next message starts with the two lost.
        generator.received(sequence: 17, ssrc: 2, arrival: 5.15)
        XCTAssertEqual(generator.feedback(now: 5.15), [], "not before the interval")
        let second = try reported(generator.feedback(now: 5.2))
        XCTAssertEqual(second.map(\.0), [15, 16, 17])
        XCTAssertEqual(second.map { $0.1 == nil }, [true, true, false])
    }

    func testAPacketAfterItsReportIsCountedLateAndNotReportedAgain() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 1)
        generator.received(sequence: 1, ssrc: 2, arrival: 1)
        generator.received(sequence: 3, ssrc: 2, arrival: 1.01)
        _ = generator.feedback(now: 1.1)
        generator.received(sequence: 2, ssrc: 2, arrival: 1.12)
        generator.received(sequence: 4, ssrc: 2, arrival: 1.13)
        XCTAssertEqual(try reported(generator.feedback(now: 1.25)).map(\.0), [4])
        XCTAssertEqual(generator.lateArrivals, 1)
    }

    func testManyPacketsAndLongGapsSplitIntoMessagesThatStillCoverAll() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 1)
        for index in 0..<1200 { generator.received(sequence: UInt16(index), ssrc: 2, arrival: 10 + Double(index) * 0.0001) }
        // Ten seconds between two packets: no 16-bit delta holds it.
        generator.received(sequence: 1200, ssrc: 2, arrival: 20.2)
        let messages = generator.feedback(now: 20.2)
        XCTAssertGreaterThanOrEqual(messages.count, 4)
        XCTAssertTrue(messages.allSatisfy { $0.statuses.count <= TransportCCFeedback.maxStatuses })
        let packets = try reported(messages)
        XCTAssertEqual(packets.map(\.0), (0...1200).map { UInt16($0) })
        XCTAssertTrue(packets.allSatisfy { $0.1 != nil })
        XCTAssertEqual(Set(messages.map(\.feedbackPacketCount)).count, messages.count, "each message has its own count")
    }

    /// The ring starts small and grows only when one window holds more packets than it has
    /// slots; what arrived before the growth (out of order too) is still reported with its
    /// arrival time.
    func testTheRingGrowsWithTheWindowAndKeepsWhatArrived() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 1)
        for sequence: UInt16 in 0..<40 { generator.received(sequence: sequence, ssrc: 2, arrival: 1 + Double(sequence) / 10_000) }
        _ = generator.feedback(now: 1.1)
        XCTAssertEqual(generator.slots, 64, "40 packets a window fit the first ring")
        // 300 packets in one window, every third one late (after its successors).
        var order: [UInt16] = []
        for base in stride(from: UInt16(40), to: 340, by: 3) { order += [base + 1, base + 2, base].filter { $0 < 340 } }
        for sequence in order { generator.received(sequence: sequence, ssrc: 2, arrival: 2 + Double(sequence) / 10_000) }
        XCTAssertEqual(generator.slots, 512)
        let packets = try reported(generator.feedback(now: 2.1))
        XCTAssertEqual(packets.map(\.0), (40..<340).map { UInt16($0) })
        XCTAssertTrue(packets.allSatisfy { $0.1 != nil }, "every packet reported as received")
        let times = packets.compactMap(\.1)
        for (index, time) in times.enumerated().dropFirst() {
            XCTAssertEqual(time - times[index - 1], 100, accuracy: 250)
        }
    }

    func testAJumpFarAheadMovesTheWindowInsteadOfGrowingIt() throws {
        var generator = TransportFeedbackGenerator(senderSSRC: 1, capacity: 256)
        generator.received(sequence: 0, ssrc: 2, arrival: 1)
        generator.received(sequence: 30_000, ssrc: 2, arrival: 1.001)
        let packets = try reported(generator.feedback(now: 1.1))
        XCTAssertLessThanOrEqual(packets.count, 256)
        XCTAssertEqual(packets.last?.0, 30_000)
        XCTAssertNotNil(packets.last?.1)
    }

    /// Whatever arrives (any order, any time, NaN) never traps and always writes messages the
    /// parser reads back.
    func testArbitraryArrivalsKeepTheOutputWellFormed() throws {
        var random = SplitMix64(seed: 16)
        var generator = TransportFeedbackGenerator(senderSSRC: 1, capacity: 512)
        var now = 0.0
        for _ in 0..<20_000 {
            now += Double(random.next() % 2000) / 1e6
            let arrival: Double = switch random.next() % 50 {
            case 0: .nan
            case 1: -now
            case 2: now + 20
            default: now
            }
            generator.received(sequence: UInt16(truncatingIfNeeded: random.next() % 3 == 0 ? random.next() : UInt64(now * 1000)),
                               ssrc: 3, arrival: arrival)
            for message in generator.feedback(now: now) {
                var writer = ByteWriter()
                message.write(to: &writer)
                XCTAssertNoThrow(try TransportCCFeedback(parsing: writer.bytes[...]))
            }
        }
        XCTAssertGreaterThan(generator.messagesSent, 100)
    }
}
