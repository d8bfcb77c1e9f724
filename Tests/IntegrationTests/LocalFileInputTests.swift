import Foundation
import XCTest

/// Numbers in local input that no arithmetic may trust (a join rate, the header of a file a
/// source opens): usage errors, exit 64 and one line naming the flag or the file, where they
/// used to trap.
final class LocalFileInputTests: XCTestCase {
    private let target = ["--edge", "ws://127.0.0.1:9", "--room", "42", "--member", "7"]

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(UUID())-\(name)")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testJoinRateOfBots() throws {
        for value in ["1e-300", "5e-324", "0.0009", "nan", "inf"] {
            let run = try Nacho.run(["bots", "--dry-run", "--subscribers", "2", "--num-per-second=\(value)"] + target, timeout: 20)
            assertOneLineError(run, code: 64, mentions: "--num-per-second")
        }
        let config = try file("bots.json", Array(#"{"bots": {"subscribers": 2, "numPerSecond": 1e-300}}"#.utf8))
        let run = try Nacho.run(["bots", "--dry-run", "--config", config] + target, timeout: 20)
        assertOneLineError(run, code: 64, mentions: "bots.numPerSecond")
        let slowest = try Nacho.run(["bots", "--dry-run", "--subscribers", "2", "--num-per-second", "0.001"] + target, timeout: 20)
        XCTAssertEqual(slowest.status, 0, slowest.stderr)
    }

    func testMalformedSourceFiles() throws {
        let huge = try file("huge.y4m", Array("YUV4MPEG2 W4294967296 H4294967296 F30:1\nFRAME\n".utf8) + [0, 0, 0, 0, 0, 0])
        let fast = try file("fast.y4m", Array("YUV4MPEG2 W4 H2 F1e300:1\nFRAME\n".utf8) + [UInt8](repeating: 0, count: 12))
        for path in [huge, fast] {
            let run = try Nacho.run(["join", "--no-audio", "--video-source", "file:\(path)"] + target + ["--duration", "1"], timeout: 20)
            assertOneLineError(run, code: 64, mentions: path)
        }
        let wav = try file("bad.wav", Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEdata".utf8) + [0xFF, 0xFF, 0xFF, 0xFF])
        let run = try Nacho.run(["join", "--no-video", "--audio-source", "file:\(wav)"] + target + ["--duration", "1"], timeout: 20)
        assertOneLineError(run, code: 64, mentions: wav)
        // A replay clip of bots: the error names it too.
        let clip = try file("clip.ivf", Array("DKIF".utf8) + [0, 0, 32, 0] + Array("VP80".utf8) + [UInt8](repeating: 0, count: 20))
        let bots = try Nacho.run(["bots", "--video-publishers", "1", "--video-source", "replay:\(clip)", "--duration", "1"] + target, timeout: 20)
        assertOneLineError(bots, code: 64, mentions: clip)
    }
}
