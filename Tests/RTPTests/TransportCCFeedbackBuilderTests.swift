import Bytes
import Foundation
@testable import RTP
import XCTest

/// The transport-cc writer against mediasoup 3.14's own messages (captured) and the parser.
final class TransportCCFeedbackBuilderTests: XCTestCase {
    private func fixture(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), name)
        return Array(try Data(contentsOf: url))
    }

    private func rebuilt(_ parsed: TransportCCFeedback) throws -> TransportCCFeedback {
        try TransportCCFeedback(senderSSRC: parsed.senderSSRC, mediaSSRC: parsed.mediaSSRC, baseSequence: parsed.baseSequence,
                                referenceTime: parsed.referenceTime, feedbackPacketCount: parsed.feedbackPacketCount,
                                statuses: parsed.statuses, receiveDeltas: parsed.receiveDeltas)
    }

    private func bytes(_ feedback: TransportCCFeedback) -> [UInt8] {
        var writer = ByteWriter()
        feedback.write(to: &writer)
        return writer.bytes
    }

    /// Where mediasoup chose the chunks nacho chooses (a run ending the list; a vector with a
    /// large delta), the bytes are mediasoup's; elsewhere the same statuses and deltas read back.
    func testMediasoupCapturesRebuild() throws {
        for (name, sameBytes) in [("rtcp-transport-cc-to-producer.bin", false), ("rtcp-transport-cc-largedelta-to-producer.bin", true),
                                  ("rtcp-transport-cc-noloss-to-producer.bin", true)] {
            let captured = try fixture(name)
            let parsed = try TransportCCFeedback(parsing: captured[...])
            let built = try rebuilt(parsed)
            XCTAssertEqual(built.statuses, parsed.statuses, name)
            XCTAssertEqual(built.receiveDeltas, parsed.receiveDeltas, name)
            XCTAssertEqual(built.referenceTime, parsed.referenceTime, name)
            XCTAssertEqual(built.baseSequence, parsed.baseSequence, name)
            XCTAssertEqual(bytes(built).count, captured.count, name)
            if sameBytes { XCTAssertEqual(bytes(built), captured, name) }
        }
    }

    func testChunkKindsRoundTrip() throws {
        let cases: [(String, [TransportCCFeedback.Status], UInt16)] = [
            ("one long run", Array(repeating: .smallDelta, count: 100), 0x2064),
            ("run of losses then one", Array(repeating: .notReceived, count: 20) + [.smallDelta], 0x0014),
            ("one-bit vector", [.smallDelta, .notReceived, .smallDelta, .smallDelta, .notReceived, .smallDelta, .smallDelta,
                                .smallDelta, .notReceived, .smallDelta, .smallDelta, .smallDelta, .smallDelta, .notReceived, .smallDelta], 0xADDE),
            ("two-bit vector", [.largeDelta, .notReceived, .smallDelta, .smallDelta, .notReceived, .largeDelta, .smallDelta, .smallDelta], 0xE149),
        ]
        for (name, statuses, firstChunk) in cases {
            let deltas = statuses.filter { $0 != .notReceived }.map { $0 == .largeDelta ? Int32(-1000) : 750 }
            let built = try TransportCCFeedback(senderSSRC: 1, mediaSSRC: 2, baseSequence: 65530, referenceTime: -5,
                                                feedbackPacketCount: 9, statuses: statuses, receiveDeltas: deltas)
            let written = bytes(built)
            XCTAssertEqual(written.count % 4, 0, name)
            XCTAssertEqual(UInt16(written[20]) << 8 | UInt16(written[21]), firstChunk, name)
            let reparsed = try TransportCCFeedback(parsing: written[...])
            XCTAssertEqual(reparsed.statuses, statuses, name)
            XCTAssertEqual(reparsed.receiveDeltas, deltas, name)
            XCTAssertEqual(reparsed.referenceTime, -5, name)
            XCTAssertEqual(reparsed.baseSequence, 65530, name)
            XCTAssertEqual(reparsed.feedbackPacketCount, 9, name)
        }
    }

    func testWhatCannotBeWrittenIsRefused() {
        let tooLarge: [(String, [TransportCCFeedback.Status], [Int32], Int32)] = [
            ("no statuses", [], [], 0),
            ("small delta past 63.75 ms", [.smallDelta], [64_000], 0),
            ("negative small delta", [.smallDelta], [-250], 0),
            ("delta not in 250 µs units", [.largeDelta], [100], 0),
            ("large delta past 16 bits", [.largeDelta], [8_192_000], 0),
            ("deltas do not match statuses", [.smallDelta, .smallDelta], [250], 0),
            ("reference time past 24 bits", [.smallDelta], [250], 1 << 23),
            ("too many statuses", Array(repeating: .notReceived, count: TransportCCFeedback.maxStatuses) + [.smallDelta], [250], 0),
        ]
        for (name, statuses, deltas, reference) in tooLarge {
            XCTAssertThrowsError(try TransportCCFeedback(senderSSRC: 1, mediaSSRC: 2, baseSequence: 0, referenceTime: reference,
                                                         feedbackPacketCount: 0, statuses: statuses, receiveDeltas: deltas), name)
        }
    }
}
