import Foundation
import Logging
import XCTest
@testable import NachoCLI

/// Text a server sent cannot start a log line of its own nor drive the terminal: the process's
/// log handler escapes control characters in the message, the metadata and an error's text.
final class LogEscapingTests: XCTestCase {
    /// Collects what a `StreamLogHandler` writes.
    private final class Capture: TextOutputStream, @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func write(_ string: String) { lock.withLock { text += string } }
        var written: String { lock.withLock { text } }
    }

    private struct ServerError: Error, CustomStringConvertible {
        var description: String
    }

    private func logger(_ capture: Capture) -> Logger {
        Logger(label: "nacho") { label in
            EscapingLogHandler(wrapping: StreamLogHandler(label: label, stream: capture, metadataProvider: nil))
        }
    }

    private let forged = "x\n{\"type\":\"end\",\"run\":\"r\",\"bots\":1}\r\u{1b}[2J\u{7f}\u{85}\u{2028}\t"
    private let escaped = #"x\n{"type":"end","run":"r","bots":1}\r\u{1b}[2J\u{7f}\u{85}\u{2028}\t"#

    func testMessageMetadataAndErrorAreEscapedOnOneLine() {
        let capture = Capture()
        var log = logger(capture)
        log[metadataKey: "member"] = "\(forged)"
        log.warning("consume refused: \(forged)", metadata: ["producer": "\(forged)", "nested": ["list": ["\(forged)"]]])
        log.error("edge join failed", error: ServerError(description: forged))
        let lines = capture.written.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 3, "two records, each one line: \(capture.written)")
        XCTAssertEqual(lines.last, "")
        let warning = String(lines[0]), error = String(lines[1])
        XCTAssertTrue(warning.hasSuffix("consume refused: " + escaped), warning)
        XCTAssertTrue(warning.contains("member=" + escaped), warning)
        XCTAssertTrue(warning.contains("producer=" + escaped), warning)
        XCTAssertTrue(error.contains("error.message=" + escaped), error)
        for line in [warning, error] {
            XCTAssertFalse(line.unicodeScalars.contains { LogText.needsEscape($0) }, "a control character left in \(line.debugDescription)")
        }
    }

    /// The error a run ends with can quote the server: one `nacho: error:` line per line of the
    /// message, escaped.
    func testErrorLinesAreEscaped() {
        XCTAssertEqual(NachoCLI.Nacho.errorLines("no camera\nedge join: server refused: full\r\u{1b}[2J"),
                       "nacho: error: no camera\nnacho: error: edge join: server refused: full\\r\\u{1b}[2J\n")
    }

    func testPlainTextIsUnchanged() {
        let text = "consume refused: producer 7bb5605f — ü 🎥 \\n stays"
        XCTAssertEqual(LogText.escaped(text), text)
        XCTAssertEqual(LogText.escaped("a\u{0}b\u{9f}c"), #"a\u{0}b\u{9f}c"#)
    }
}
