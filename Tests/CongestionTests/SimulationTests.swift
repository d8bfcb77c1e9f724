import Bytes
import Congestion
import XCTest

/// The whole controller against a simulated bottleneck (LinkSimulation): simulated time,
/// seeded randomness, feedback as bytes through the real parser. The bounds are the issue's
/// robust properties, not tuned figures; each test prints its per-second figures.
final class SimulationTests: XCTestCase {
    func testSettlesOnAConstrainedLinkAndRecoversWhenItLifts() {
        var simulation = LinkSimulation(capacity: 500_000, maxQueue: 0.3)
        simulation.run(until: 20)
        print(simulation.report(from: 0, to: 20))
        let settled = simulation.targetStatistics(from: 10, to: 20)
        let loss = simulation.lossFraction(from: 10, to: 20)
        print("500 kbit/s link, 300 ms queue, 10-20 s: target mean \(Int(settled.mean)) min \(settled.min) max \(settled.max), loss \(loss)")
        XCTAssertGreaterThanOrEqual(settled.mean, 0.70 * 500_000)
        XCTAssertLessThanOrEqual(settled.mean, 0.95 * 500_000)
        XCTAssertLessThan(loss, 0.02)

        simulation.link.capacity = 2_000_000
        simulation.run(until: 30)
        print(simulation.report(from: 20, to: 30))
        // Recovered within 5 s: from then on the target holds at least 70 % of the new link.
        let recovered = simulation.targetStatistics(from: 25, to: 30)
        print("link lifted to 2 Mbit/s at 20 s: first at 1.4 Mbit/s at \(simulation.firstTime(from: 20, targetAtLeast: 1_400_000) ?? -1) s; "
              + "25-30 s: target mean \(Int(recovered.mean)) min \(recovered.min) max \(recovered.max), "
              + "loss \(simulation.lossFraction(from: 20, to: 30))")
        XCTAssertGreaterThanOrEqual(recovered.min, 1_400_000)
        XCTAssertLessThan(simulation.lossFraction(from: 20, to: 30), 0.02)
    }

    /// The same properties over a table of links, path delays and feedback intervals.
    func testSettlesAndRecoversAcrossDelaysAndFeedbackIntervals() {
        let paths: [(propagation: Double, feedbackInterval: Double, seed: UInt64)] = [
            (0.005, 0.05, 3), (0.02, 0.05, 1), (0.03, 0.1, 5), (0.05, 0.1, 2), (0.1, 0.075, 4),
        ]
        for path in paths {
            for capacity in [300_000.0, 500_000, 1_000_000] {
                var simulation = LinkSimulation(capacity: capacity, maxQueue: 0.3)
                simulation.link.propagation = path.propagation
                simulation.feedbackInterval = path.feedbackInterval
                simulation.rng = SplitMix64(seed: path.seed)
                simulation.run(until: 20)
                let settled = simulation.targetStatistics(from: 10, to: 20)
                let loss = simulation.lossFraction(from: 10, to: 20)
                simulation.link.capacity = 2_000_000
                simulation.run(until: 30)
                let recovered = simulation.targetStatistics(from: 25, to: 30)
                let name = "one-way \(Int(path.propagation * 1000)) ms, feedback every \(Int(path.feedbackInterval * 1000)) ms, "
                    + "\(Int(capacity / 1000)) kbit/s"
                print("\(name): settled at \(Int(100 * settled.mean / capacity)) % (min \(settled.min) max \(settled.max)), "
                      + "loss \(loss); after the lift min \(recovered.min) mean \(Int(recovered.mean))")
                XCTAssertGreaterThanOrEqual(settled.mean, 0.70 * capacity, name)
                XCTAssertLessThanOrEqual(settled.mean, 0.95 * capacity, name)
                XCTAssertLessThan(loss, 0.02, name)
                // Recovered within 5 s: from then on at 70 % of the new link on average, never under 60 %.
                XCTAssertGreaterThanOrEqual(recovered.mean, 1_400_000, name)
                XCTAssertGreaterThanOrEqual(recovered.min, 1_200_000, name)
            }
        }
    }

    /// Delay jitter after the queue (order kept) is not a queue: no false over-use pulls the
    /// target far under the link.
    func testJitterDoesNotLookLikeCongestion() {
        for jitter in [0.01, 0.04] {
            for capacity in [500_000.0, 1_000_000] {
                var simulation = LinkSimulation(capacity: capacity, maxQueue: 0.3)
                simulation.link.jitter = jitter
                simulation.run(until: 20)
                let settled = simulation.targetStatistics(from: 10, to: 20)
                let loss = simulation.lossFraction(from: 10, to: 20)
                let name = "\(Int(capacity / 1000)) kbit/s, jitter up to \(Int(jitter * 1000)) ms"
                print("\(name): settled at \(Int(100 * settled.mean / capacity)) % (min \(settled.min) max \(settled.max)), loss \(loss)")
                XCTAssertGreaterThanOrEqual(settled.mean, 0.70 * capacity, name)
                XCTAssertLessThanOrEqual(settled.mean, 0.95 * capacity, name)
                XCTAssertLessThan(loss, 0.02, name)
            }
        }
    }

    func testFollowsALinkThatDropsToAThird() {
        var simulation = LinkSimulation(capacity: 1_500_000, maxQueue: 0.3)
        simulation.run(until: 15)
        simulation.link.capacity = 500_000
        simulation.run(until: 30)
        print(simulation.report(from: 10, to: 30))
        let below = simulation.targets.first { $0.time >= 15 && $0.target <= 500_000 }?.time
        let settled = simulation.targetStatistics(from: 20, to: 30)
        print("1.5 Mbit/s dropping to 500 kbit/s at 15 s: under the new link at \(below ?? -1) s; 20-30 s: target mean \(Int(settled.mean)) "
              + "min \(settled.min) max \(settled.max), loss 15-17 s \(simulation.lossFraction(from: 15, to: 17)), "
              + "17-30 s \(simulation.lossFraction(from: 17, to: 30))")
        XCTAssertLessThanOrEqual(below ?? .infinity, 16.5, "within 1.5 s")
        XCTAssertGreaterThanOrEqual(settled.mean, 0.70 * 500_000)
        XCTAssertLessThanOrEqual(settled.mean, 0.95 * 500_000)
        XCTAssertLessThan(simulation.lossFraction(from: 17, to: 30), 0.02)
    }

    func testStartsBelowALinkSlowerThanTheStartBitrate() {
        var simulation = LinkSimulation(capacity: 200_000, maxQueue: 0.3)
        simulation.run(until: 15)
        print(simulation.report(from: 0, to: 15))
        let settled = simulation.targetStatistics(from: 8, to: 15)
        print("200 kbit/s link: target mean \(Int(settled.mean)) min \(settled.min) max \(settled.max), loss \(simulation.lossFraction(from: 8, to: 15))")
        XCTAssertGreaterThanOrEqual(settled.mean, 0.70 * 200_000)
        XCTAssertLessThanOrEqual(settled.mean, 0.95 * 200_000)
        XCTAssertLessThan(simulation.lossFraction(from: 8, to: 15), 0.02)
    }

    func testRandomLossDoesNotCollapseTheTargetBelowTheLossFloor() {
        var simulation = LinkSimulation(capacity: 1_000_000, maxQueue: 0.3)
        simulation.link.randomLoss = 0.10
        simulation.run(until: 30)
        print(simulation.report(from: 0, to: 30))
        let floor = simulation.controller.configuration.lossBasedFloor
        let late = simulation.targetStatistics(from: 5, to: 30)
        print("1 Mbit/s link, 10 % random loss: target mean \(Int(late.mean)) min \(late.min) max \(late.max), floor \(floor), "
              + "loss seen \(simulation.controller.lossFraction ?? -1)")
        XCTAssertGreaterThanOrEqual(late.min, floor)
        // The loss was seen and acted on: above the floor the target is held or cut, not grown to the link.
        XCTAssertGreaterThan(simulation.controller.lossFraction ?? 0, 0.02)
        XCTAssertLessThan(late.mean, 0.95 * 1_000_000)
    }

    func testGarbageFeedbackNeverTrapsAndKeepsTheTargetInRange() {
        let configuration = GoogCongestionController.Configuration(startBitrate: 300_000, minBitrate: 30_000, maxBitrate: 2_500_000)
        var simulation = LinkSimulation(capacity: 800_000, maxQueue: 0.3, configuration: configuration)
        simulation.garbagePerFeedback = 3
        var least = Int.max
        var greatest = 0
        for second in 1...20 {
            simulation.run(until: Double(second))
            least = min(least, simulation.targets.map(\.target).min() ?? least)
            greatest = max(greatest, simulation.targets.map(\.target).max() ?? greatest)
        }
        print(simulation.report(from: 0, to: 20))
        print("garbage feedback: target min \(least) max \(greatest)")
        XCTAssertGreaterThanOrEqual(least, configuration.minBitrate)
        XCTAssertLessThanOrEqual(greatest, configuration.maxBitrate)
        let target = simulation.controller.target
        XCTAssertEqual(target.pacingRate, target.targetBitrate * 5 / 2)
    }
}
