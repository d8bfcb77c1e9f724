import Foundation
import XCTest

/// The test room server as a bot room needs it: 4 members replaying pre-encoded VP8 320x240 at
/// 15 fps + Opus, 16 nacho subscribers (128 consumers), every consumer at full rate, and the
/// server well under a core (measured from /proc, not assumed).
final class RoomServerLoadTests: XCTestCase {
    /// utime + stime of a process, in seconds.
    private func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may contain spaces) start at state (field 3).
        let fields = try XCTUnwrap(stat.split(separator: ")").last).split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (Double(fields[11]) ?? 0) / ticks + (Double(fields[12]) ?? 0) / ticks
    }

    private func framesSent(_ server: RoomServerProcess) throws -> [String: (kind: String, frames: Int)] {
        let consumers = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["consumers"] as? [String: [String: Any]])
        return consumers.compactMapValues { c in (c["kind"] as? String ?? "", c["frames_sent"] as? Int ?? 0) }
    }

    func testFourReplayPublishersAndSixteenSubscribers() throws {
        let server = try RoomServerProcess(["--virtual-members", "4", "--virtual-media", "replay"])
        let duration = 22
        var subscribers: [Process] = []
        for n in 0..<16 {
            let process = Process()
            process.executableURL = Repository.nacho
            process.arguments = ["join", "--edge", server.edge, "--room", "42", "--member", String(100 + n), "--no-audio",
                                 "--no-video", "--duration", String(duration)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            subscribers.append(process)
        }
        defer { for process in subscribers where process.isRunning { process.terminate() } }
        Thread.sleep(forTimeInterval: 7)  // joined, consuming, past the first key frame
        let cpu0 = try cpuSeconds(server.process.processIdentifier), wall0 = Date(), sent0 = try framesSent(server)
        Thread.sleep(forTimeInterval: 10)
        let cpu1 = try cpuSeconds(server.process.processIdentifier), wall = Date().timeIntervalSince(wall0)
        let sent1 = try framesSent(server)
        let load = (cpu1 - cpu0) / wall
        print("room server: \(String(format: "%.1f", load * 100)) % of one core for 4 replay publishers x 16 subscribers")
        let video = sent1.filter { $0.value.kind == "video" }, audio = sent1.filter { $0.value.kind == "audio" }
        XCTAssertEqual(video.count, 64, "16 subscribers x 4 members")
        XCTAssertEqual(audio.count, 64)
        for (id, now) in sent1 {
            guard let before = sent0[id] else { XCTFail("consumer \(id) came late"); continue }
            let rate = Double(now.frames - before.frames) / wall
            XCTAssertEqual(rate, now.kind == "video" ? 15 : 50, accuracy: now.kind == "video" ? 1 : 3, "\(now.kind) consumer \(id)")
        }
        XCTAssertLessThan(load, 0.5, "the server is not the bottleneck")
        for process in subscribers { process.waitUntilExit() }
        XCTAssertTrue(subscribers.allSatisfy { $0.terminationStatus == 0 })
    }
}
