import Bytes
import Congestion
import RTP
import XCTest

final class GoogCongestionControllerTests: XCTestCase {
    typealias Configuration = GoogCongestionController.Configuration

    func testStartsAtTheStartBitrateAndSanitizesTheConfiguration() {
        let controller = GoogCongestionController()
        XCTAssertEqual(controller.target, CongestionTarget(targetBitrate: 300_000, pacingRate: 750_000, paddingRate: 0, roundTrip: nil))
        let cases: [(given: Configuration, start: Int, min: Int, max: Int, why: String)] = [
            (Configuration(startBitrate: 10, minBitrate: 30_000, maxBitrate: 100_000), 30_000, 30_000, 100_000, "start below min"),
            (Configuration(startBitrate: 500_000, minBitrate: 30_000, maxBitrate: 100_000), 100_000, 30_000, 100_000, "start above max"),
            (Configuration(startBitrate: 1, minBitrate: -5, maxBitrate: -9), 0, 0, 0, "negative figures"),
            (Configuration(startBitrate: .max, minBitrate: .max, maxBitrate: .max), 100_000_000_000, 100_000_000_000,
             100_000_000_000, "beyond 100 Gbit/s"),
        ]
        for entry in cases {
            let controller = GoogCongestionController(configuration: entry.given)
            XCTAssertEqual(controller.configuration.startBitrate, entry.start, entry.why)
            XCTAssertEqual(controller.configuration.minBitrate, entry.min, entry.why)
            XCTAssertEqual(controller.configuration.maxBitrate, entry.max, entry.why)
            XCTAssertEqual(controller.target.targetBitrate, entry.start, entry.why)
            XCTAssertEqual(controller.target.pacingRate, entry.start * 5 / 2, entry.why)
        }
    }

    func testInitialProbesOnceTheTransportIsUp() {
        var controller = GoogCongestionController(configuration: Configuration(startBitrate: 300_000, maxBitrate: 1_500_000))
        let clusters = controller.takeProbeClusters(now: 10)
        XCTAssertEqual(clusters.map(\.bitrate), [900_000, 1_500_000])
        XCTAssertTrue(controller.takeProbeClusters(now: 10.01).isEmpty, "each cluster once")
    }

    func testAMaximumSetBeforeTheStartCapsTheInitialProbes() {
        var controller = GoogCongestionController(configuration: Configuration(startBitrate: 300_000, maxBitrate: 2_500_000))
        controller.setMaxBitrate(1_000_000, now: 0)
        XCTAssertEqual(controller.takeProbeClusters(now: 0.1).map(\.bitrate), [900_000, 1_000_000])
    }

    func testRaisingTheMaximumProbesIt() {
        var controller = GoogCongestionController(configuration: Configuration(startBitrate: 300_000, maxBitrate: 600_000))
        _ = controller.takeProbeClusters(now: 0)
        controller.setMaxBitrate(400_000, now: 1)
        XCTAssertEqual(controller.target.targetBitrate, 300_000)
        XCTAssertEqual(controller.configuration.maxBitrate, 400_000)
        controller.setMaxBitrate(200_000, now: 1.5)
        XCTAssertEqual(controller.target.targetBitrate, 200_000, "a lower maximum lowers the target at once")
        controller.setMaxBitrate(3_000_000, now: 2)
        XCTAssertEqual(controller.takeProbeClusters(now: 2).map(\.bitrate), [3_000_000])
    }

    func testREMBCapsTheTarget() {
        var controller = GoogCongestionController()
        XCTAssertEqual(controller.remb(bitrate: 100_000, now: 0)?.targetBitrate, 100_000)
        XCTAssertEqual(controller.remb(bitrate: 0, now: 0.1)?.targetBitrate, 30_000, "never below the minimum")
        _ = controller.remb(bitrate: .max, now: 0.2)
        XCTAssertLessThanOrEqual(controller.target.targetBitrate, controller.configuration.maxBitrate)
    }

    func testReceiverReportsGiveTheRoundTripAndLossWithoutTransportFeedback() {
        var controller = GoogCongestionController()
        XCTAssertEqual(controller.receiverReport(fractionLost: 0, roundTrip: 0.08, now: 0)?.roundTrip, 0.08)
        for bad in [Double.nan, -1, .infinity, 1e9] {
            _ = controller.receiverReport(fractionLost: 0, roundTrip: bad, now: 0.5)
            XCTAssertEqual(controller.target.roundTrip, 0.08, "\(bad) is no round trip")
        }
        // 50 % loss (128/256) reported by receiver reports alone: past the start phase, cut.
        _ = controller.receiverReport(fractionLost: 128, roundTrip: 0.08, now: 3)
        XCTAssertEqual(controller.lossFraction, 0.5)
        XCTAssertLessThan(controller.target.targetBitrate, 300_000)
    }

    /// Without transport-wide feedback (REMB and receiver reports only, as libwebrtc without
    /// transport-cc) the target grows at most 8 % a second while loss stays under 2 %, up to REMB.
    func testWithoutTransportFeedbackReceiverReportsAndREMBDriveTheTarget() {
        var controller = GoogCongestionController()
        _ = controller.remb(bitrate: 450_000, now: 0)
        for second in 1...20 {
            _ = controller.receiverReport(fractionLost: 0, roundTrip: 0.05, now: Double(second))
            _ = controller.process(now: Double(second) + 0.5)
            if second == 5 { XCTAssertEqual(controller.target.targetBitrate, 450_000, "REMB in the start phase, then capped") }
        }
        XCTAssertEqual(controller.target.targetBitrate, 450_000)
        _ = controller.remb(bitrate: 5_000_000, now: 21)
        var previous = controller.target.targetBitrate
        for second in 22...30 {
            _ = controller.receiverReport(fractionLost: 0, roundTrip: 0.05, now: Double(second))
            let now = controller.target.targetBitrate
            XCTAssertGreaterThan(now, previous)
            XCTAssertLessThanOrEqual(Double(now), Double(previous) * 1.08 + 1_000 + 1)
            previous = now
        }
    }

    func testReceiverReportLossIsIgnoredWhileTransportFeedbackCountsIt() throws {
        var controller = GoogCongestionController()
        for sequence in 0..<30 {
            controller.sent(SentPacket(transportSequence: Int64(sequence), sendTime: Double(sequence) * 0.01, size: 1000))
        }
        let arrivals: [Double?] = (0..<30).map { 5 + Double($0) * 0.01 }
        _ = controller.transportFeedback(try TransportCCFeedback(parsing: FeedbackWriter.bytes(base: 0, arrivals: arrivals, feedbackCount: 0)[...]),
                                         now: 0.35)
        XCTAssertEqual(controller.lossFraction, 0)
        _ = controller.receiverReport(fractionLost: 200, roundTrip: 0.05, now: 0.5)
        XCTAssertEqual(controller.lossFraction, 0, "transport-wide feedback is recent: its count stands")
    }

    /// Random bytes and random-but-well-formed feedback, fed as they parse: no trap, the target
    /// stays within [min, max].
    func testFuzzedFeedbackKeepsTheTargetInRange() {
        var rng = SplitMix64(seed: 0xFEED)
        var controller = GoogCongestionController(configuration: Configuration(startBitrate: 300_000, minBitrate: 50_000, maxBitrate: 1_000_000))
        var now = 0.0
        var sequence: Int64 = 0
        for round in 0..<3_000 {
            now += Double(rng.next() % 50) / 1000
            for _ in 0..<Int(rng.next() % 5) {
                controller.sent(SentPacket(transportSequence: sequence, sendTime: now, size: Int(rng.next() % 1500),
                                           probeCluster: rng.next() % 10 == 0 ? Int(rng.next() % 4) : nil))
                sequence += 1
            }
            var bytes: [UInt8]
            if round % 2 == 0 {
                var symbols: [FeedbackWriter.Symbol] = []
                for _ in 0..<Int(rng.next() % 100) {
                    symbols.append(rng.next() % 3 == 0 ? .lost : .received(deltaTicks: Int(Int16(truncatingIfNeeded: rng.next()))))
                }
                bytes = FeedbackWriter.bytes(base: UInt16(truncatingIfNeeded: sequence) &- UInt16(rng.next() % 120),
                                             referenceTime: Int32(truncatingIfNeeded: rng.next()) & 0xFF_FFFF,
                                             feedbackCount: UInt8(truncatingIfNeeded: rng.next()), symbols: symbols)
            } else {
                // A header that makes it a transport-cc message, then noise.
                bytes = [0x8F, 205, 0, 0] + (0..<Int(8 + rng.next() % 80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                bytes.removeLast(bytes.count % 4)
                bytes[3] = UInt8(bytes.count / 4 - 1)
            }
            if let feedback = try? TransportCCFeedback(parsing: bytes[...]) {
                _ = controller.transportFeedback(feedback, now: now)
            }
            _ = controller.process(now: now)
            _ = controller.takeProbeClusters(now: now)
            if round % 97 == 0 { _ = controller.receiverReport(fractionLost: UInt8(truncatingIfNeeded: rng.next()), roundTrip: nil, now: now) }
            XCTAssertGreaterThanOrEqual(controller.target.targetBitrate, 50_000)
            XCTAssertLessThanOrEqual(controller.target.targetBitrate, 1_000_000)
        }
        // A maximal feedback: 65535 statuses, the largest reference time and deltas.
        let huge = FeedbackWriter.bytes(base: 0, referenceTime: 0x7F_FFFF, feedbackCount: 255,
                                        symbols: (0..<65_535).map { $0 % 2 == 0 ? .received(deltaTicks: 32_767) : .lost })
        let feedback = try? TransportCCFeedback(parsing: huge[...])
        XCTAssertNotNil(feedback)
        if let feedback { _ = controller.transportFeedback(feedback, now: now + 1) }
        XCTAssertGreaterThanOrEqual(controller.target.targetBitrate, 50_000)
        XCTAssertLessThanOrEqual(controller.target.targetBitrate, 1_000_000)
    }

    func testNonFiniteTimesDoNotTrap() {
        var controller = GoogCongestionController()
        controller.sent(SentPacket(transportSequence: 0, sendTime: .nan, size: 100))
        controller.sent(SentPacket(transportSequence: -5, sendTime: 0, size: -100))
        _ = controller.process(now: .infinity)
        _ = controller.process(now: .nan)
        _ = controller.remb(bitrate: 500_000, now: .nan)
        XCTAssertGreaterThanOrEqual(controller.target.targetBitrate, controller.configuration.minBitrate)
    }
}
