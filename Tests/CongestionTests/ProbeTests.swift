@testable import Congestion
import XCTest

final class ProbeControllerTests: XCTestCase {
    func testInitialExponentialProbesThenFurtherWhileResultsKeepUp() {
        var controller = ProbeController(startBitrate: 300_000, maxBitrate: 10_000_000)
        XCTAssertTrue(controller.takeClusters().isEmpty, "nothing before the transport is up")
        controller.start(now: 0)
        let initial = controller.takeClusters()
        XCTAssertEqual(initial.map(\.bitrate), [900_000, 1_800_000])
        XCTAssertEqual(initial.map(\.minPackets), [5, 5])
        XCTAssertEqual(initial.map(\.minBytes), [1_687, 3_375], "15 ms at the probe rate")
        XCTAssertNotEqual(initial[0].id, initial[1].id)
        controller.start(now: 0.1)
        XCTAssertTrue(controller.takeClusters().isEmpty, "started once")
        controller.setEstimate(1_500_000, now: 0.2) // above 70 % of 1.8 M: probe further at 2×
        XCTAssertEqual(controller.takeClusters().map(\.bitrate), [3_000_000])
        controller.setEstimate(1_600_000, now: 0.3) // below 70 % of 3 M: done
        XCTAssertTrue(controller.takeClusters().isEmpty)
        controller.process(now: 1.5)
        XCTAssertEqual(controller.state, .complete, "no result within 1 s")
    }

    func testProbesAreCappedAtTheMaximum() {
        var controller = ProbeController(startBitrate: 300_000, maxBitrate: 1_000_000)
        controller.start(now: 0)
        XCTAssertEqual(controller.takeClusters().map(\.bitrate), [900_000, 1_000_000])
        XCTAssertEqual(controller.state, .complete, "capped: nothing further to learn")
    }

    func testMaximumRisingAboveTheEstimateProbesIt() {
        var controller = ProbeController(startBitrate: 300_000, maxBitrate: 500_000)
        controller.start(now: 0)
        _ = controller.takeClusters()
        controller.setEstimate(450_000, now: 0.5)
        controller.setMaxBitrate(400_000, now: 1)
        XCTAssertTrue(controller.takeClusters().isEmpty, "a lower maximum")
        controller.setMaxBitrate(2_000_000, now: 2)
        XCTAssertEqual(controller.takeClusters().map(\.bitrate), [2_000_000])
    }

    func testProbeAfterALargeDropOnceTheDelayRecovered() {
        var controller = ProbeController(startBitrate: 300_000, maxBitrate: 1_000_000)
        controller.start(now: 0)
        _ = controller.takeClusters()
        controller.setEstimate(1_000_000, now: 1)
        controller.setEstimate(500_000, now: 2) // below 66 %: a large drop
        controller.recoveredFromOveruse(now: 3)
        XCTAssertEqual(controller.takeClusters().map(\.bitrate), [850_000])
        controller.recoveredFromOveruse(now: 4)
        XCTAssertTrue(controller.takeClusters().isEmpty, "at most once in 5 s")
        controller.recoveredFromOveruse(now: 8.5)
        XCTAssertTrue(controller.takeClusters().isEmpty, "more than 5 s after the drop")
    }

    func testPeriodicProbeWhileBelowTheMaximum() {
        var controller = ProbeController(startBitrate: 300_000, maxBitrate: 5_000_000)
        controller.start(now: 0)
        _ = controller.takeClusters()
        controller.setEstimate(400_000, now: 0.5)
        controller.process(now: 1.5)
        controller.process(now: 2.9)
        XCTAssertTrue(controller.takeClusters().isEmpty)
        controller.process(now: 3.0)
        XCTAssertEqual(controller.takeClusters().map(\.bitrate), [800_000])
        controller.setEstimate(5_000_000, now: 3.5)
        XCTAssertEqual(controller.takeClusters().map(\.bitrate), [5_000_000], "the result kept up: further, capped")
        controller.process(now: 10)
        XCTAssertTrue(controller.takeClusters().isEmpty, "at the maximum: nothing to find")
    }
}

final class ProbeBitrateEstimatorTests: XCTestCase {
    private let cluster = ProbeCluster(id: 7, bitrate: 1_000_000, minPackets: 5, minBytes: 5_000)

    /// Packets of `size` sent every `sendInterval`, arriving every `receiveInterval`; the last estimate.
    private func estimate(count: Int, size: Int = 1000, sendInterval: Double, receiveInterval: Double) -> Double? {
        var estimator = ProbeBitrateEstimator()
        var result: Double?
        for index in 0..<count {
            let packet = PacketResult(sent: SentPacket(transportSequence: Int64(index), sendTime: Double(index) * sendInterval,
                                                       size: size, probeCluster: 7),
                                      arrivalTime: 50 + Double(index) * receiveInterval)
            result = estimator.add(packet, cluster: cluster, now: 1) ?? result
        }
        return result
    }

    func testTable() {
        let cases: [(count: Int, send: Double, receive: Double, expected: Double?, why: String)] = [
            (6, 0.008, 0.008, 1_000_000, "carried as sent"),
            (6, 0.008, 0.016, 0.95 * 500_000, "received at half: the link is saturated, 95 % of it"),
            (6, 0.008, 0.0085, 8000 / 0.0085, "slightly slower: the lower of the two"),
            (3, 0.008, 0.008, nil, "too few packets (under 80 % of 5)"),
            (6, 0.008, 0.003, nil, "received over twice as fast as sent: not believed"),
            (6, 0.4, 0.4, nil, "spread over more than 1 s"),
            (6, 0, 0.008, nil, "sent all at once: no send interval"),
        ]
        for entry in cases {
            let result = estimate(count: entry.count, sendInterval: entry.send, receiveInterval: entry.receive)
            if let expected = entry.expected {
                XCTAssertEqual(result ?? -1, expected, accuracy: 1, entry.why)
            } else {
                XCTAssertNil(result, entry.why)
            }
        }
    }

    func testLostProbePacketsDoNotCount() {
        var estimator = ProbeBitrateEstimator()
        let lost = PacketResult(sent: SentPacket(transportSequence: 0, sendTime: 0, size: 1000, probeCluster: 7), arrivalTime: nil)
        for _ in 0..<10 { XCTAssertNil(estimator.add(lost, cluster: cluster, now: 1)) }
        XCTAssertNil(estimator.takeEstimate())
    }
}
