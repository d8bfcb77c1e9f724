import Congestion
import XCTest

final class SimulcastAllocationTests: XCTestCase {
    func testNothingFitsPausesEveryLayer() {
        let layers = [SimulcastAllocation.Layer(minBitrate: 50_000, targetBitrate: 150_000, maxBitrate: 200_000)]
        XCTAssertEqual(SimulcastAllocation.allocate(10_000, to: layers), [nil])
    }

    /// Three layers like a 320/640/1280 simulcast (kbit/s min/target/max: 30/150/200,
    /// 150/500/700, 600/1500/2500).
    func testThreeLayerTable() {
        let layers = [
            SimulcastAllocation.Layer(minBitrate: 30_000, targetBitrate: 150_000, maxBitrate: 200_000),
            SimulcastAllocation.Layer(minBitrate: 150_000, targetBitrate: 500_000, maxBitrate: 700_000),
            SimulcastAllocation.Layer(minBitrate: 600_000, targetBitrate: 1_500_000, maxBitrate: 2_500_000),
        ]
        let cases: [(bitrate: Int, expected: [Int?], why: String)] = [
            (0, [nil, nil, nil], "nothing: all paused"),
            (29_999, [nil, nil, nil], "below the first minimum"),
            (30_000, [30_000, nil, nil], "the first minimum exactly"),
            (100_000, [100_000, nil, nil], "the only active layer takes all"),
            (170_000, [170_000, nil, nil], "second needs 150 k, 20 k left: first takes it (up to its max)"),
            (250_000, [200_000, nil, nil], "second needs 150 k, 100 k left: first at its max, 50 k unused"),
            (300_000, [150_000, 150_000, nil], "first at its target, second at its minimum"),
            (649_999, [150_000, 499_999, nil], "second below its target"),
            (1_000_000, [150_000, 700_000, nil], "third needs 600 k of 350 k left: second up to its max"),
            (1_250_000, [150_000, 500_000, 600_000], "third at its minimum"),
            (2_150_000, [150_000, 500_000, 1_500_000], "every layer at its target"),
            (5_000_000, [150_000, 500_000, 2_500_000], "the top layer stops at its max"),
        ]
        for entry in cases {
            XCTAssertEqual(SimulcastAllocation.allocate(entry.bitrate, to: layers), entry.expected, "\(entry.bitrate): \(entry.why)")
        }
    }

    func testOddInputsAreReadSensibly() {
        let cases: [(bitrate: Int, layers: [SimulcastAllocation.Layer], expected: [Int?], why: String)] = [
            (500_000, [], [], "no layers"),
            (-5, [.init(minBitrate: 0, targetBitrate: 100, maxBitrate: 200)], [nil], "negative total"),
            (1_000, [.init(minBitrate: -10, targetBitrate: -10, maxBitrate: -10)], [nil], "negative figures read as 0: no room, paused"),
            (1_000, [.init(minBitrate: -10, targetBitrate: -10, maxBitrate: 600)], [600], "negative min and target read as 0"),
            (300_000, [.init(minBitrate: 100_000, targetBitrate: 50_000, maxBitrate: 10)], [100_000],
             "target below min is the min, max below it too"),
            (Int.max, [.init(minBitrate: Int.max, targetBitrate: Int.max, maxBitrate: Int.max),
                       .init(minBitrate: Int.max, targetBitrate: Int.max, maxBitrate: Int.max)],
             [1_000_000_000_000, nil], "huge figures do not overflow"),
        ]
        for entry in cases {
            XCTAssertEqual(SimulcastAllocation.allocate(entry.bitrate, to: entry.layers), entry.expected, entry.why)
        }
    }

    /// The sum never exceeds what was given, and a paused layer is never below an active one.
    func testAllocationNeverExceedsTheTotalAndPausesFromTheTop() {
        let layers = [
            SimulcastAllocation.Layer(minBitrate: 50_000, targetBitrate: 100_000, maxBitrate: 150_000),
            SimulcastAllocation.Layer(minBitrate: 100_000, targetBitrate: 300_000, maxBitrate: 450_000),
            SimulcastAllocation.Layer(minBitrate: 300_000, targetBitrate: 900_000, maxBitrate: 1_200_000),
        ]
        for bitrate in stride(from: 0, through: 3_000_000, by: 7_919) {
            let allocation = SimulcastAllocation.allocate(bitrate, to: layers)
            XCTAssertLessThanOrEqual(allocation.compactMap { $0 }.reduce(0, +), bitrate)
            let active = allocation.prefix { $0 != nil }.count
            XCTAssertTrue(allocation.dropFirst(active).allSatisfy { $0 == nil }, "\(bitrate): \(allocation)")
            for (layer, rate) in zip(layers, allocation) {
                guard let rate else { continue }
                XCTAssertGreaterThanOrEqual(rate, layer.minBitrate)
                XCTAssertLessThanOrEqual(rate, layer.maxBitrate)
            }
        }
    }
}
