import XCTest
@testable import LoadReport

final class ExpectationParsingTests: XCTestCase {
    /// Every form the flag takes, and what it means in the figure's own unit.
    func testValidExpressions() throws {
        let table: [(String, String?, ExpectationMetric, ComparisonOperator, ExpectationThreshold)] = [
            ("joined=all", nil, .joined, .equal, .all),
            ("joined>=all", nil, .joined, .greaterOrEqual, .all),
            ("joined>=40", nil, .joined, .greaterOrEqual, .value(40)),
            ("joined>=95%", nil, .joined, .greaterOrEqual, .percentOfPlanned(95)),
            ("joined>=99.5%", nil, .joined, .greaterOrEqual, .percentOfPlanned(99.5)),
            ("loss<2%", nil, .loss, .less, .value(0.02)),
            ("loss<=0.5%", nil, .loss, .lessOrEqual, .value(0.005)),
            ("loss=0%", nil, .loss, .equal, .value(0)),
            ("loss==0%", nil, .loss, .equal, .value(0)),
            ("video.loss<1%", "video", .loss, .less, .value(0.01)),
            ("bitrate>=250k", nil, .bitrate, .greaterOrEqual, .value(250_000)),
            ("bitrate>=250K", nil, .bitrate, .greaterOrEqual, .value(250_000)),
            ("bitrate>1.5M", nil, .bitrate, .greater, .value(1_500_000)),
            ("bitrate>=250kbps", nil, .bitrate, .greaterOrEqual, .value(250_000)),
            ("bitrate>=2Mbps", nil, .bitrate, .greaterOrEqual, .value(2_000_000)),
            ("bitrate>=24000", nil, .bitrate, .greaterOrEqual, .value(24_000)),
            ("video.bitrate>=250k", "video", .bitrate, .greaterOrEqual, .value(250_000)),
            ("audio.bitrate>=20k", "audio", .bitrate, .greaterOrEqual, .value(20_000)),
            ("freezes=0", nil, .freezes, .equal, .value(0)),
            ("freezes<=3", nil, .freezes, .lessOrEqual, .value(3)),
            ("delay_p95<400ms", nil, .delayP95, .less, .value(400)),
            ("delay_p95<0.4s", nil, .delayP95, .less, .value(400)),
            ("delay_p50<150ms", nil, .delayP50, .less, .value(150)),
            ("delay_p50 < 1s", nil, .delayP50, .less, .value(1000)),
            ("packets>0", nil, .packets, .greater, .value(0)),
            ("audio.packets>=100", "audio", .packets, .greaterOrEqual, .value(100)),
            ("jitter<30ms", nil, .jitter, .less, .value(30)),
            ("jitter<.03s", nil, .jitter, .less, .value(30)),
            ("tracks=all", nil, .tracks, .equal, .all),
            ("video.tracks>=2", "video", .tracks, .greaterOrEqual, .value(2)),
            ("  loss < 2 %  ", nil, .loss, .less, .value(0.02)),
        ]
        for (text, kind, metric, op, threshold) in table {
            let e = try Expectation(parsing: text)
            XCTAssertEqual(e.kind, kind, text)
            XCTAssertEqual(e.metric, metric, text)
            XCTAssertEqual(e.comparison, op, text)
            switch (e.threshold, threshold) {
            case (.value(let a), .value(let b)): XCTAssertEqual(a, b, accuracy: 1e-9, text)
            default: XCTAssertEqual(e.threshold, threshold, text)
            }
            XCTAssertEqual(e.text, text.trimmingCharacters(in: .whitespaces), text)
        }
    }

    /// Each mistake is a usage error that says what to write instead.
    func testInvalidExpressionsSayWhy() {
        let table: [(String, String)] = [
            ("", "empty"),
            ("loss", "no comparison"),
            ("loss!=2%", "unknown operator"),
            ("loss<", "no value after <"),
            ("<2%", "no figure before <"),
            ("lost<2%", #"unknown figure "lost"; known: joined, loss, bitrate"#),
            ("loss<2", "loss is a percentage, e.g. loss<2%"),
            ("loss<0.02", "loss is a percentage"),
            ("loss<200%", "cannot exceed 100%"),
            ("loss<-1%", "loss is a percentage"),
            ("loss<2%%", "loss is a percentage"),
            ("bitrate>=250x", "bits per second with an optional k or M"),
            ("bitrate>=2m", "m would be milli"),
            ("bitrate>=k", "bits per second"),
            ("bitrate>=1e6", "bits per second"),
            ("bitrate>=inf", "bits per second"),
            ("delay_p95<400", "needs a unit, ms or s"),
            ("delay_p95<fast", "needs a unit"),
            ("delay_p95<400us", "is a duration"),
            ("jitter<30", "needs a unit"),
            ("freezes=0.5", "whole number"),
            ("freezes=none", "whole number"),
            ("packets>some", "whole number"),
            ("joined=most", "joined is all, a number of bots or a percentage"),
            ("joined<all", "joined=all takes = or >="),
            ("joined>=120%", "0% to 100%"),
            ("tracks<all", "tracks=all takes = or >="),
            ("tracks=many", "tracks is all or a whole number"),
            ("video.joined=all", "no video./audio. prefix"),
            ("screen.loss<2%", #"unknown figure "screen.loss""#),
            ("0<loss<2%", "one comparison per expression"),
            ("loss<2%<3%", "one comparison per expression"),
        ]
        for (text, reason) in table {
            XCTAssertThrowsError(try Expectation(parsing: text), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("--expect \"\(text.trimmingCharacters(in: .whitespaces))\": "), message)
                XCTAssertTrue(message.contains(reason), "\(text): \(message) lacks \(reason)")
            }
        }
    }

    func testSeveralAreParsedInOrderAndTheFirstBadOneIsTheError() throws {
        XCTAssertEqual(try Expectations.parse(["joined=all", "loss<2%"]).map(\.metric), [.joined, .loss])
        XCTAssertThrowsError(try Expectations.parse(["joined=all", "loss<2", "freezes=x"])) { error in
            XCTAssertEqual((error as? ExpectationError)?.expression, "loss<2")
        }
    }
}
