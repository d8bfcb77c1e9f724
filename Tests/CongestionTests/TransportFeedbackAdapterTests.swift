@testable import Congestion
import RTP
import XCTest

final class TransportFeedbackAdapterTests: XCTestCase {
    private func feedback(base: UInt16, arrivals: [Double?], count: UInt8 = 0) throws -> TransportCCFeedback {
        try TransportCCFeedback(parsing: FeedbackWriter.bytes(base: base, arrivals: arrivals, feedbackCount: count)[...])
    }

    private func adapter(sending sequences: ClosedRange<Int64>) -> TransportFeedbackAdapter {
        var adapter = TransportFeedbackAdapter()
        for sequence in sequences {
            adapter.sent(SentPacket(transportSequence: sequence, sendTime: Double(sequence) * 0.01, size: 1000 + Int(sequence % 7)))
        }
        return adapter
    }

    func testMatchesFeedbackToSentPackets() throws {
        var adapter = adapter(sending: 0...9)
        let report = adapter.process(try feedback(base: 2, arrivals: [1.000, nil, 1.020, 1.031]))
        XCTAssertEqual(report.results.map(\.sent.transportSequence), [2, 3, 4, 5])
        XCTAssertEqual(report.results.map(\.sent.size), [1002, 1003, 1004, 1005])
        XCTAssertEqual(report.results[1].arrivalTime, nil)
        // Arrival differences survive the 250 µs ticks.
        let arrivals = report.results.compactMap(\.arrivalTime)
        XCTAssertEqual(arrivals[1] - arrivals[0], 0.020, accuracy: 0.000_25)
        XCTAssertEqual(arrivals[2] - arrivals[1], 0.011, accuracy: 0.000_25)
        XCTAssertEqual(report.newlyReported, 4)
        XCTAssertEqual(report.newlyLost, 1)
    }

    /// Table: what a second feedback yields after a first one.
    func testRepeatedAndReorderedFeedback() throws {
        let cases: [(first: (UInt16, [Double?]), second: (UInt16, [Double?]), sequences: [Int64], reported: Int, lost: Int, why: String)] = [
            ((2, [1.0, 1.01]), (2, [1.0, 1.01]), [], 0, 0, "a duplicate yields nothing"),
            ((2, [1.0, nil]), (3, [1.02]), [3], 0, 0, "lost, then received: the arrival, counted once"),
            ((2, [1.0, nil]), (3, [nil, 1.03]), [4], 1, 0, "still lost: not again; the new one counts"),
            ((5, [1.05, 1.06]), (2, [1.0, 1.01, 1.02]), [2, 3, 4], 3, 0, "an older feedback after a newer one"),
        ]
        for entry in cases {
            var adapter = adapter(sending: 0...9)
            _ = adapter.process(try feedback(base: entry.first.0, arrivals: entry.first.1))
            let report = adapter.process(try feedback(base: entry.second.0, arrivals: entry.second.1))
            XCTAssertEqual(report.results.map(\.sent.transportSequence), entry.sequences, entry.why)
            XCTAssertEqual(report.newlyReported, entry.reported, entry.why)
            XCTAssertEqual(report.newlyLost, entry.lost, entry.why)
        }
    }

    func testUnknownAndAncientPacketsAreIgnored() throws {
        var adapter = adapter(sending: 0...(Int64(TransportFeedbackAdapter.capacity) + 99))
        // Sequence 50 left the ring long ago: its slot now holds capacity + 50.
        XCTAssertTrue(adapter.process(try feedback(base: 50, arrivals: [1.0, 1.01])).results.isEmpty, "ancient")
        let recent = adapter.process(try feedback(base: UInt16(TransportFeedbackAdapter.capacity + 50), arrivals: [1.0]))
        XCTAssertEqual(recent.results.map(\.sent.transportSequence), [Int64(TransportFeedbackAdapter.capacity) + 50])
        var fresh = self.adapter(sending: 0...9)
        XCTAssertTrue(fresh.process(try feedback(base: 10, arrivals: [1.0, 1.01])).results.isEmpty, "never sent")
        XCTAssertTrue(fresh.process(try feedback(base: 40_000, arrivals: [1.0])).results.isEmpty, "far away")
        var empty = TransportFeedbackAdapter()
        XCTAssertTrue(empty.process(try feedback(base: 0, arrivals: [1.0])).results.isEmpty, "nothing sent yet")
    }

    func testSequenceNumbersUnwrapAcrossTheSixteenBitWrap() throws {
        var adapter = TransportFeedbackAdapter()
        for sequence in Int64(65_530)...Int64(65_540) {
            adapter.sent(SentPacket(transportSequence: sequence, sendTime: 0, size: 100))
        }
        let report = adapter.process(try feedback(base: 65_534, arrivals: [1.0, 1.01, 1.02, 1.03]))
        XCTAssertEqual(report.results.map(\.sent.transportSequence), [65_534, 65_535, 65_536, 65_537])
    }

    func testReferenceTimeUnwrapsAcrossItsTwentyFourBitWrap() throws {
        var adapter = adapter(sending: 0...9)
        let last = Int32(0xFF_FFFF)
        let before = adapter.process(try TransportCCFeedback(parsing: FeedbackWriter.bytes(
            base: 0, referenceTime: last, feedbackCount: 0, symbols: [.received(deltaTicks: 0)])[...]))
        let after = adapter.process(try TransportCCFeedback(parsing: FeedbackWriter.bytes(
            base: 1, referenceTime: 0, feedbackCount: 1, symbols: [.received(deltaTicks: 0)])[...]))
        let gap = try XCTUnwrap(after.results.first?.arrivalTime) - XCTUnwrap(before.results.first?.arrivalTime)
        XCTAssertEqual(gap, 0.064, accuracy: 1e-9)
    }

    func testSequenceNumbersOutsideTheCounterAreNotKept() throws {
        var adapter = TransportFeedbackAdapter()
        adapter.sent(SentPacket(transportSequence: .max, sendTime: 0, size: 100))
        adapter.sent(SentPacket(transportSequence: -1, sendTime: 0, size: 100))
        XCTAssertNil(adapter.highestSentSequence)
        XCTAssertTrue(adapter.process(try feedback(base: 0xFFFF, arrivals: [1.0, 1.01])).results.isEmpty)
    }

    func testDeltasMissingFromAShortListEndTheFeedback() {
        var adapter = adapter(sending: 0...9)
        var feedback = try! TransportCCFeedback(parsing: FeedbackWriter.bytes(base: 0, arrivals: [1.0, 1.01, 1.02], feedbackCount: 0)[...])
        feedback.receiveDeltas.removeLast()
        XCTAssertEqual(adapter.process(feedback).results.map(\.sent.transportSequence), [0, 1])
    }
}
