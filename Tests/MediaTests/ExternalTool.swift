import Foundation
import XCTest

/// ffmpeg and friends, as an independent decoder of what nacho reassembles. Tests skip when
/// the tool is missing (Scripts/bootstrap installs it).
enum ExternalTool {
    static func path(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw XCTSkip("\(name) is not installed (Scripts/bootstrap installs it)")
    }

    /// Runs a tool to completion; returns its exit status, stdout and stderr.
    static func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path(name))
        process.arguments = arguments
        // Output goes to files: no pipe can fill up and block the tool.
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-tool-\(getpid())-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
              FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw XCTSkip("cannot create files in \(FileManager.default.temporaryDirectory.path)")
        }
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let stdout = try Data(contentsOf: outURL), stderr = try Data(contentsOf: errURL)
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Decodes a file with ffmpeg; returns the number of frames it output and its error lines.
    static func decode(_ file: String, format: String) throws -> (frames: Int, errors: String) {
        let result = try run("ffmpeg", ["-v", "error", "-f", format, "-i", file, "-fps_mode", "passthrough", "-f", "framecrc", "-"])
        let frames = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
        return (frames, result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) + (result.status == 0 ? "" : " (exit \(result.status))"))
    }

    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-\(getpid())-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
