@testable import Congestion
import XCTest

final class InterArrivalTests: XCTestCase {
    /// Packets (send, arrival) in ms; the deltas each one yields.
    private func run(_ packets: [(send: Double, arrival: Double)]) -> [InterArrival.Deltas?] {
        var interArrival = InterArrival()
        return packets.map {
            // Feedback reaches the sender 100 ms after the packet left (its own clock).
            interArrival.add(sendTime: $0.send / 1000, arrivalTime: $0.arrival / 1000, systemTime: $0.send / 1000 + 0.1, size: 100)
        }
    }

    func testGroupsOfFiveMillisecondsYieldDeltasWhenTheNextButOneStarts() {
        // Groups: {0, 3}, {10, 14}, {20}: the first deltas come with the third group's first packet.
        let deltas = run([(0, 100), (3, 103), (10, 112), (14, 118), (20, 125)])
        XCTAssertEqual(deltas.prefix(4).compactMap { $0 }.count, 0)
        let last = deltas[4]
        XCTAssertEqual(last?.sendDelta ?? 0, 0.014 - 0.003, accuracy: 1e-9)
        XCTAssertEqual(last?.arrivalDelta ?? 0, 0.118 - 0.103, accuracy: 1e-9)
        XCTAssertEqual(last?.sizeDelta, 0)
    }

    func testTable() {
        let cases: [(packets: [(send: Double, arrival: Double)], deltas: Int, why: String)] = [
            ([(0, 100), (10, 110), (20, 120), (30, 130)], 2, "one packet a group"),
            ([(0, 100), (1, 101), (2, 102), (3, 103), (4, 104), (5, 105)], 0, "all within 5 ms: one group"),
            ([(0, 100), (10, 130), (20, 131), (30, 132), (40, 160)], 1,
             "sent 10 ms apart but arriving in a burst (1 ms, shrinking delay): one group with the one before"),
            ([(0, 100), (10, 110), (5, 111), (20, 120), (30, 130)], 2, "sent before the current group: ignored"),
            ([(0, 100), (10, 200), (20, 90), (30, 300), (40, 310), (50, 320), (60, 330), (70, 340), (80, 350)], 1,
             "a group completing before the one before it (reordered), three times in a row: reset, start again"),
            ([(0, 100), (10, 110), (20, 105), (30, 130)], 1, "an arrival going back joins its group as a burst"),
            ([(0, 100), (10, 110), (20, 5_000), (30, 5_010), (40, 5_020)], 1,
             "the receiver clock jumps by seconds more than ours: reset"),
        ]
        for entry in cases {
            XCTAssertEqual(run(entry.packets).compactMap { $0 }.count, entry.deltas, entry.why)
        }
    }

    func testNonFiniteTimesAreIgnored() {
        var interArrival = InterArrival()
        XCTAssertNil(interArrival.add(sendTime: .nan, arrivalTime: 1, systemTime: 1, size: 1))
        XCTAssertNil(interArrival.add(sendTime: 1, arrivalTime: .infinity, systemTime: 1, size: 1))
    }
}
