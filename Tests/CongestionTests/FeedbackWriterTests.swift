import RTP
import XCTest

/// The test-side writer must produce what the real parser reads, or the simulations prove nothing.
final class FeedbackWriterTests: XCTestCase {
    func testRoundTripThroughTheParser() throws {
        let symbols: [FeedbackWriter.Symbol] = [
            .received(deltaTicks: 0), .lost, .received(deltaTicks: 255), .received(deltaTicks: 256),
            .received(deltaTicks: -1), .lost, .lost, .received(deltaTicks: 32_767), .received(deltaTicks: -32_768),
        ]
        let bytes = FeedbackWriter.bytes(base: 65_530, referenceTime: 0x80_0001, feedbackCount: 7, symbols: symbols)
        XCTAssertEqual(bytes.count % 4, 0)
        let feedback = try TransportCCFeedback(parsing: bytes[...])
        XCTAssertEqual(feedback.baseSequence, 65_530)
        XCTAssertEqual(feedback.feedbackPacketCount, 7)
        XCTAssertEqual(feedback.referenceTime, Int32(bitPattern: 0xFF80_0001), "24-bit two's complement, sign-extended")
        XCTAssertEqual(feedback.statuses, [.smallDelta, .notReceived, .smallDelta, .largeDelta, .largeDelta,
                                           .notReceived, .notReceived, .largeDelta, .largeDelta])
        XCTAssertEqual(feedback.receiveDeltas, [0, 255, 256, -1, 32_767, -32_768].map { Int32($0) * 250 })
        XCTAssertEqual(feedback.serializedSize, bytes.count)
    }

    func testArrivalsBecomeDeltasFromTheReferenceTime() throws {
        let feedback = try TransportCCFeedback(parsing: FeedbackWriter.bytes(base: 9, arrivals: [10.000_5, nil, 10.010_5, 10.011],
                                                                             feedbackCount: 0)[...])
        XCTAssertEqual(feedback.referenceTime, 156) // 10.0005 s / 64 ms
        let start = Double(feedback.referenceTime) * 0.064
        var time = start
        var arrivals: [Double] = []
        for delta in feedback.receiveDeltas {
            time += Double(delta) / 1_000_000
            arrivals.append(time)
        }
        XCTAssertEqual(arrivals[0], 10.000_5, accuracy: 0.000_13)
        XCTAssertEqual(arrivals[1], 10.010_5, accuracy: 0.000_13)
        XCTAssertEqual(arrivals[2], 10.011, accuracy: 0.000_13)
    }
}
