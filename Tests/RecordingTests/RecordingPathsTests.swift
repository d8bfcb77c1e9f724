import Foundation
@testable import Recording
import XCTest

/// File names: unique, readable, never an existing file unless asked.
final class RecordingPathsTests: XCTestCase {
    private let date = Date(timeIntervalSince1970: 1_700_000_000)  // 20231114-221320 UTC

    func testNamesAreReadableAndUnique() {
        XCTAssertEqual(RecordingPaths.safe("1001"), "1001")
        XCTAssertEqual(RecordingPaths.safe("a-b_C9"), "a-b_C9")
        XCTAssertTrue(RecordingPaths.safe("a.b").hasPrefix("a_b."))
        XCTAssertNotEqual(RecordingPaths.safe("a.b"), RecordingPaths.safe("a_b"))
        XCTAssertNotEqual(RecordingPaths.safe("a.b"), RecordingPaths.safe("a/b"))
        XCTAssertEqual(RecordingPaths.safe("a.b"), "a_b.0466522c", "stable across runs (the README shows it)")
        let long = String(repeating: "y", count: 64)
        XCTAssertEqual(RecordingPaths.safe(long), long)
        XCTAssertNotEqual(RecordingPaths.safe(long + "1"), RecordingPaths.safe(long + "2"))
        XCTAssertLessThanOrEqual(RecordingPaths.safe(long + "1").count, 64)
        XCTAssertFalse(RecordingPaths.safe("..").hasPrefix("."), "never a hidden or parent name")
        XCTAssertFalse(RecordingPaths.safe("").isEmpty)
    }

    /// A file name holds 255 bytes: ids are cut by bytes, not characters. 64 × "𝐀" is 64
    /// letters and 256 bytes; one letter with thousands of combining marks is one character.
    func testNamesFitAFileNameWhateverTheIdsBytes() throws {
        let wide = String(repeating: "𝐀", count: 64)
        let marked = "e" + String(repeating: "\u{301}", count: 5000)
        let ascii = String(repeating: "r", count: 128)
        for id in [wide, marked, ascii, wide + marked, "é" + String(repeating: "x", count: 63)] {
            let name = RecordingPaths.safe(id)
            XCTAssertLessThanOrEqual(name.utf8.count, RecordingPaths.maxIDBytes, "\(id.utf8.count) bytes → \(name)")
            XCTAssertFalse(name.hasPrefix("."), name)
        }
        XCTAssertNotEqual(RecordingPaths.safe(wide), RecordingPaths.safe(wide + "𝐀"), "cut ids stay apart")
        XCTAssertTrue(RecordingPaths.safe(wide).hasPrefix("𝐀𝐀"), "still readable")
        XCTAssertEqual(RecordingPaths.safe(String(repeating: "𝐀", count: 16)), String(repeating: "𝐀", count: 16), "64 bytes: kept")

        // The whole name, with the longest room and member, a high file number and .webm.
        let dir = try temporaryDirectory()
        let paths = RecordingPaths(directory: dir, overwrite: false)
        let claimed = paths.claim(room: ascii + wide, member: wide + marked, started: date, index: Int.max - 1)
        let name = URL(fileURLWithPath: claimed.path).lastPathComponent
        XCTAssertLessThanOrEqual(name.utf8.count, 255, name)
        XCTAssertTrue(FileManager.default.createFile(atPath: claimed.path, contents: Data()), "the file system takes the name")
    }

    /// U+0D4E is a letter that joins whatever follows it into one Character, `/` and `.`
    /// included: such an id made a path into a folder that does not exist (or another one).
    func testALetterThatSwallowsASlashMakesNoPath() throws {
        XCTAssertFalse(RecordingPaths.safe("a\u{0}b").contains("\u{0}"))
        for id in ["\u{0D4E}/x", "a\u{0D4E}/\u{0D4E}."] {
            XCTAssertTrue(id.contains { $0.isLetter && $0.unicodeScalars.count > 1 }, "the premise: one letter with the slash in it")
            let name = RecordingPaths.safe(id)
            XCTAssertFalse(name.contains("/") || name.contains("\u{0}"), name)
            XCTAssertTrue(name.hasSuffix("." + String(format: "%08x", UInt32(truncatingIfNeeded: RecordingPaths.fnv1a(id)))), name)
        }
        let dir = try temporaryDirectory()
        let claimed = RecordingPaths(directory: dir, overwrite: false).claim(room: "r", member: "\u{0D4E}/x", started: date, index: 1)
        XCTAssertEqual(URL(fileURLWithPath: claimed.path).deletingLastPathComponent().path, dir.path)
        XCTAssertEqual(RecordingPaths.safe("e\u{301}t\u{E9}"), "e\u{301}t\u{E9}", "letters with marks stay as they are")
    }

    /// Rotating files all day does not grow the names remembered.
    func testRememberedNamesAreBounded() throws {
        let dir = try temporaryDirectory()
        let paths = RecordingPaths(directory: dir, overwrite: true)
        var recent: [String] = []
        for n in 0..<(3 * RecordingPaths.maxRemembered) {
            recent.append(paths.claim(room: "r", member: "m", started: date + Double(n), index: 1).path)
        }
        XCTAssertEqual(paths.rememberedCount, RecordingPaths.maxRemembered)
        // The latest names are still never handed out twice.
        let again = paths.claim(room: "r", member: "m", started: date + Double(3 * RecordingPaths.maxRemembered - 1), index: 1)
        XCTAssertFalse(recent.contains(again.path))
        XCTAssertFalse(again.preferred)
    }

    func testExistingFileGetsTheNextFreeSuffixAndStaysUntouched() throws {
        let dir = try temporaryDirectory()
        let paths = RecordingPaths(directory: dir, overwrite: false)
        let existing = dir.appendingPathComponent("r-m-20231114-221320.webm").path
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        let claimed = paths.claim(room: "r", member: "m", started: date, index: 1)
        XCTAssertEqual(claimed.path, dir.appendingPathComponent("r-m-20231114-221320-2.webm").path)
        XCTAssertFalse(claimed.preferred)
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me")
    }

    func testNoPathIsHandedOutTwiceEvenWithOverwrite() throws {
        let dir = try temporaryDirectory()
        let paths = RecordingPaths(directory: dir, overwrite: true)
        let existing = dir.appendingPathComponent("r-m-20231114-221320.webm").path
        try Data("old run".utf8).write(to: URL(fileURLWithPath: existing))
        let first = paths.claim(room: "r", member: "m", started: date, index: 1)
        XCTAssertEqual(first.path, existing, "--overwrite: a file of an earlier run is replaced")
        let second = paths.claim(room: "r", member: "m", started: date, index: 1)
        let rotated = paths.claim(room: "r", member: "m", started: date, index: 2)
        XCTAssertEqual(Set([first.path, second.path, rotated.path]).count, 3, "never two writers on one file")
        XCTAssertTrue(rotated.path.hasSuffix("-3.webm"))
    }

    func testRecorderRegistryGivesEveryMemberItsOwnFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let book = try RecorderRegistry(directory: dir.appendingPathComponent("sub"), room: "r", overwrite: true,
                                    logger: .init(label: "test"), clock: clock.function)
        let one = try XCTUnwrap(book.recorder(for: "a.b")), other = try XCTUnwrap(book.recorder(for: "a_b"))
        XCTAssertTrue(book.recorder(for: "a.b") === one)
        let third = try XCTUnwrap(book.recorder(for: "x"))
        for recorder in [one, other, third] { recorder.addTrack(id: "a", kind: .audio, clockRate: 48000) }
        let members = [FakeMember(audio: "a"), FakeMember(audio: "a"), FakeMember(audio: "a")]
        for _ in 0..<10 {
            let until = clock.now + 0.1
            for (member, recorder) in zip(members, [one, other, third]) { member.feed(recorder, clock, until: until) }
        }
        book.finishAll()
        let paths = book.all.flatMap(\.allPaths)
        XCTAssertEqual(paths.count, 3)
        XCTAssertEqual(Set(paths).count, 3)
        XCTAssertTrue(book.all.allSatisfy { $0.status.error == nil })
        XCTAssertEqual(try webmFiles(in: dir.appendingPathComponent("sub")).count, 3)
    }

    func testRecorderRegistryReportsADirectoryItCannotCreate() {
        XCTAssertThrowsError(try RecorderRegistry(directory: URL(fileURLWithPath: "/proc/nacho-no"), room: "r", overwrite: false,
                                              logger: .init(label: "test"))) {
            guard case .cannotCreate(let path, _)? = $0 as? RecordingError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "/proc/nacho-no")
        }
    }
}
