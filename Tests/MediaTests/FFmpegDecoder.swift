import Foundation
import TestSupport
import XCTest

/// ffmpeg as an independent decoder of what nacho reassembles (TestSupport finds and runs it).
enum FFmpegDecoder {
    /// Decodes a file with ffmpeg; returns the number of frames it output and its error lines.
    static func decode(_ file: String, format: String) throws -> (frames: Int, errors: String) {
        let result = try ExternalTool.run("ffmpeg", ["-v", "error", "-f", format, "-i", file, "-fps_mode", "passthrough", "-f", "framecrc", "-"])
        let frames = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
        return (frames, result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) + (result.status == 0 ? "" : " (exit \(result.status))"))
    }

    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(getpid())-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
