import Foundation
import TestSupport
import XCTest

/// `nacho record` as a user runs it: a folder it cannot write, a disk that fills up and gets
/// room again, names that are taken, `--overwrite`, `--only`, and the live status line on a
/// terminal. The disk cases use a small tmpfs of the test's own (CI runs as root; as another
/// user they fail with the reason, never skip).
final class RecordCommandTests: XCTestCase {
    /// A tmpfs of `size` mounted for this test (unmounted at teardown).
    private func smallDisk(size: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-disk-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try mount(["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir.path])
        addTeardownBlock {
            _ = try? self.run("/bin/umount", [dir.path])
            try? FileManager.default.removeItem(at: dir)
        }
        return dir
    }

    private func mount(_ arguments: [String]) throws {
        let (status, _, error) = try run("/bin/mount", arguments)
        guard status == 0 else {
            throw EnvironmentFailure("mount \(arguments.joined(separator: " ")) failed (these tests need root): \(error)")
        }
    }

    /// Bytes of every recording in `dir`.
    private func recordedBytes(_ dir: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)[.size] as? Int) ?? 0)
        }
    }

    /// Waits until `condition` holds (checked every 100 ms), at most `seconds`.
    private func wait(_ seconds: Double, for what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("waited \(seconds) s for \(what)")
    }

    func testAFolderThatCannotBeWrittenIsExit74() throws {
        let disk = try smallDisk(size: "1m")
        try mount(["-o", "remount,ro", disk.path])
        let server = try RoomServerProcess(["--virtual-members", "1"])
        for out in [disk.path, disk.appendingPathComponent("new").path] {
            let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", out,
                                     "--duration", "5"], timeout: 30)
            assertOneLineError(run, code: 74, mentions: out)
        }
        XCTAssertEqual(try server.state()["stats"].flatMap { ($0 as? [String: Any])?["joins"] as? Int }, 0,
                       "it stops before joining")
    }

    /// A full disk: reported, what was written stays playable, and recording goes on once there
    /// is room again; the run ends with exit 74 naming the member.
    func testAFullDiskIsReportedAndRecordingGoesOnWhenThereIsRoomAgain() throws {
        let disk = try smallDisk(size: "600k")
        let server = try RoomServerProcess(["--virtual-members", "1"])
        nonisolated(unsafe) var afterRoom = 0
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", disk.path,
                                 "--duration", "40", "--log-level", "notice"], timeout: 90) { _ in
            // Full: fewer than 16 kB left and nothing more gets written for a second.
            try self.wait(45, for: "the disk to fill") {
                let free = try FileManager.default.attributesOfFileSystem(forPath: disk.path)[.systemFreeSize] as? Int ?? 0
                return free < 16_384
            }
            Thread.sleep(forTimeInterval: 2)
            try self.mount(["-o", "remount,size=64m", disk.path])
            let full = self.recordedBytes(disk)
            try self.wait(20, for: "recording to go on") { self.recordedBytes(disk) > full + 100_000 }
            afterRoom = self.recordedBytes(disk) - full
        }
        XCTAssertGreaterThan(afterRoom, 100_000, "written after room came back")
        XCTAssertEqual(run.status, 74, String(run.stderr.suffix(3000)))
        XCTAssertTrue(run.stderr.contains("going on with what can be written"), String(run.stderr.suffix(3000)))
        XCTAssertTrue(run.stderr.contains("writing again"), String(run.stderr.suffix(3000)))
        XCTAssertTrue(run.stderr.contains("record member 1001"), "the last line names the member: \(run.stderr.suffix(500))")
        let recorded = try files(in: disk)
        XCTAssertFalse(recorded.isEmpty)
        for file in recorded {
            let probe = try probe(file)
            XCTAssertEqual(probe.decodeErrors, "", "\(file) plays")
            XCTAssertGreaterThan(probe.videoFrames, 0, file)
        }
    }

    /// A name that is taken gets the next free -n suffix, logged; `--overwrite` takes the name.
    func testATakenNameGetsTheNextSuffixUnlessOverwrite() throws {
        let server = try RoomServerProcess(["--virtual-members", "1"])
        for overwrite in [false, true] {
            let dir = try outputDirectory()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            // Every name the member's file could get in the next minute is taken.
            let now = Date()
            var taken: [String] = []
            for second in -2..<60 {
                let name = "42-1001-\(Self.timestamp(now.addingTimeInterval(Double(second)))).webm"
                try Data("not a recording".utf8).write(to: dir.appendingPathComponent(name))
                taken.append(name)
            }
            let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                     "--duration", "6", "--log-level", "notice", "--json"] + (overwrite ? ["--overwrite"] : []),
                                    timeout: 60)
            XCTAssertEqual(run.status, 0, run.stderr)
            let line = try XCTUnwrap(run.stdoutLines.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            let file = try XCTUnwrap(line["file"] as? String)
            let name = URL(fileURLWithPath: file).lastPathComponent
            let unchanged = taken.filter { (try? Data(contentsOf: dir.appendingPathComponent($0))) == Data("not a recording".utf8) }
            if overwrite {
                XCTAssertTrue(taken.contains(name), "--overwrite takes the natural name: \(name)")
                XCTAssertEqual(unchanged.count, taken.count - 1, "exactly one file was replaced")
                XCTAssertFalse(run.stderr.contains("the usual name was taken"))
            } else {
                XCTAssertTrue(name.hasSuffix("-2.webm"), "the next free suffix: \(name)")
                XCTAssertEqual(unchanged.count, taken.count, "no existing file touched")
                XCTAssertTrue(run.stderr.contains("the usual name was taken, recording under another"), run.stderr)
            }
            XCTAssertEqual(try probe(file).decodeErrors, "")
        }
    }

    func testOnlyRecordsTheMembersNamed() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let dir = try outputDirectory()
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "6", "--only", "1002"], timeout: 60)
        XCTAssertEqual(run.status, 0, run.stderr)
        let recorded = try files(in: dir).map { URL(fileURLWithPath: $0).lastPathComponent }
        XCTAssertEqual(recorded.count, 1, "\(recorded)")
        XCTAssertTrue(recorded.first?.hasPrefix("42-1002-") == true, "\(recorded)")
        // Nothing of 1001 was even consumed: two consume requests, for 1002's two producers.
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        XCTAssertEqual((stats["requests"] as? [String: Any])?["consume"] as? Int, 2, "\(stats)")
    }

    /// On a terminal (a pty through script(1)) a status line shows members, time, bitrate and
    /// bytes written; with --json or no terminal there is none.
    func testTheStatusLineOnATerminal() throws {
        let server = try RoomServerProcess(["--virtual-members", "2"])
        let dir = try outputDirectory()
        let typescript = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-pty-\(UUID())")
        defer { try? FileManager.default.removeItem(at: typescript) }
        let command = [Repository.nacho.path, "record", "--edge", server.edge, "--room", "42", "--member", "7",
                       "--out", dir.path, "--duration", "6"].joined(separator: " ")
        let (status, _, error) = try run(try tool("script"), ["-q", "-e", "-c", command, typescript.path])
        XCTAssertEqual(status, 0, error)
        let screen = String(decoding: try Data(contentsOf: typescript), as: UTF8.self)
        let lines = screen.components(separatedBy: "\r").filter { $0.contains("recording 2 members") }
        XCTAssertGreaterThanOrEqual(lines.count, 3, "a status line every second: \(screen.suffix(800))")
        let last = try XCTUnwrap(lines.last)
        XCTAssertTrue(last.contains("| 0:0"), last)
        // The line is wiped before the summary is printed (nothing of it stays on the screen).
        XCTAssertFalse(last.contains("member 100"), "the summary follows an unwiped status line: \(last)")
        let rates = lines.compactMap { line in
            line.components(separatedBy: "in ").dropFirst().first?.split(separator: " ").first.flatMap { Double($0) }
        }
        XCTAssertGreaterThan(rates.max() ?? 0, 50, "a bitrate in: \(lines)")
        XCTAssertTrue(last.contains("MB written"), last)
        // Without a terminal (the other tests), stderr carries no status line.
        let plain = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "8", "--out", dir.path,
                                   "--duration", "3"], timeout: 60)
        XCTAssertFalse(plain.stderr.contains("recording 2 members"), plain.stderr)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}
