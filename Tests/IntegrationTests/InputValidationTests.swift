import Foundation
import XCTest

/// Local input that cannot work is a usage error: exit 64 and one line naming the flag or the
/// setting, before any network traffic (these runs point at a port nobody listens on).
final class InputValidationTests: XCTestCase {
    private let target = ["--edge", "ws://127.0.0.1:9", "--room", "42", "--member", "7"]

    private func config(_ json: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID()).json")
        try Data(json.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testDurationMustBeAFiniteReasonableNumber() throws {
        for value in ["inf", "nan", "1e300", "-inf", "-1", "0", "31536001"] {
            for command in [["join", "--no-audio", "--no-video"], ["record", "--out", NSTemporaryDirectory()]] {
                let run = try Nacho.run(command + target + ["--duration=\(value)"], timeout: 20)
                assertOneLineError(run, code: 64, mentions: "--duration")
            }
        }
    }

    func testTimeoutsFromFlagsAndTheConfigFile() throws {
        for value in ["inf", "nan", "1e300", "0", "3601"] {
            let run = try Nacho.run(["list-producers"] + target + ["--request-timeout=\(value)"], timeout: 20)
            assertOneLineError(run, code: 64, mentions: "--request-timeout")
        }
        for (field, value) in [("requestTimeout", "1e300"), ("requestTimeout", "-1"), ("requestTimeout", "3601"),
                               ("iceConsentTimeout", "1e300"), ("iceConsentTimeout", "1")] {
            let file = try config(#"{"\#(field)": \#(value)}"#)
            let run = try Nacho.run(["list-producers", "--config", file.path] + target, timeout: 20)
            assertOneLineError(run, code: 64, mentions: field)
        }
    }

    /// A member id becomes part of the RTCP CNAME (`nacho-<member>-<n>`), an SDES item of at
    /// most 255 bytes: ids are limited to 128 bytes.
    func testOverlongIds() throws {
        let long = String(repeating: "m", count: 241)
        for (flag, value) in [("--member", long), ("--room", long), ("--member", String(repeating: "é", count: 65))] {
            var arguments = ["join", "--no-audio", "--no-video", "--edge", "ws://127.0.0.1:9", "--room", "42", "--member", "7", "--duration", "1"]
            arguments[arguments.firstIndex(of: flag)! + 1] = value
            let run = try Nacho.run(arguments, timeout: 20)
            assertOneLineError(run, code: 64, mentions: flag)
        }
        let file = try config(#"{"member": "\#(long)", "room": "42", "edge": "ws://127.0.0.1:9"}"#)
        let run = try Nacho.run(["join", "--no-audio", "--no-video", "--config", file.path, "--duration", "1"], timeout: 20)
        assertOneLineError(run, code: 64, mentions: "member")
    }

    /// Media settings of the config file that the encoders cannot take.
    func testMediaSettingsOutOfRange() throws {
        for (section, field, value) in [("audio", "bitrate", "99999999999"), ("video", "bitrate", "99999999999999"),
                                        ("video", "keyframeInterval", "99999999999"), ("audio", "bitrate", "-5")] {
            let file = try config(#"{"\#(section)": {"source": "synthetic", "\#(field)": \#(value)}}"#)
            let run = try Nacho.run(["join", "--config", file.path] + target + ["--duration", "1"], timeout: 20)
            assertOneLineError(run, code: 64, mentions: "\(section).\(field)")
        }
    }

    /// URLs in error messages lose their query, fragment and credentials (tokens live there).
    func testURLsInErrorsAreRedacted() throws {
        for url in ["ftp://user:pw-s3cret@example.org/?token=s3cret", "ws:///socket.io/?token=s3cret#s3cret", "nonsense?token=s3cret"] {
            let run = try Nacho.run(["list-producers", "--edge", url, "--room", "42", "--member", "7"], timeout: 20)
            assertOneLineError(run, code: 64, mentions: "edge URL")
            XCTAssertFalse(run.stderr.contains("s3cret"), run.stderr)
        }
    }
}
