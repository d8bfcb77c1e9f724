import Foundation
import XCTest
@testable import LoadReport

/// `TrackLine.jsonLine` writes what JSONEncoder wrote for a track line, byte for byte.
final class TrackLineJSONTests: XCTestCase {
    func testTrackLinesMatchJSONEncoderByteForByte() throws {
        var lines: [TrackLine] = StatsFixture().records.compactMap {
            if case .track(let line) = $0 { return line } else { return nil }
        }
        XCTAssertFalse(lines.isEmpty)
        var odd = TrackFigures(direction: .receive, kind: "vid\"eo\\/\n\t\u{01}\u{1F}é😀", codec: "video/VP8", track: "t/1",
                               peer: nil, elapsedS: 1e16, intervalS: 0.1, packets: Int.max, bytes: -3, bitrate: .nan,
                               packetsLost: 0, loss: -0.0, jitterMs: .infinity, rttMs: 1e-7, delayMsP50: 123456789.125,
                               delayMsP95: 2, targetBitrate: .leastNonzeroMagnitude, pacerDelayMs: 1.7976931348623157e308)
        lines.append(TrackLine(run: "r\u{7F}", time: nil, bot: "1001", role: nil, figures: odd))
        odd.codec = nil
        odd.peer = "p\r\u{08}\u{0C}"
        lines.append(TrackLine(run: "", time: "2026-12-07T20:00:00.000+0000", bot: "", role: "subscriber", figures: odd))
        for line in lines {
            XCTAssertEqual(line.jsonLine(), try StatsRecord.track(line).encodedLine())
        }
    }
}
