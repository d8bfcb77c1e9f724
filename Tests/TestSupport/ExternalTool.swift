import Foundation
import XCTest

/// Programs the tests use as independent readers and makers of media (ffmpeg, ffprobe,
/// mkvinfo, script, ...), all installed by Scripts/bootstrap.
public enum ExternalTool {
    /// The tool's path; a missing tool is `TestEnvironment.missing`.
    public static func path(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw TestEnvironment.missing("\(name) is not installed (Scripts/bootstrap installs it)")
    }

    /// Runs a program (a path, or a tool's name) to completion; its output goes to files, so
    /// no pipe can fill up and block it. Returns the exit status, stdout and stderr.
    public static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: Data, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : try path(program))
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-tool-\(getpid())-\(UUID().uuidString)")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
              FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw EnvironmentFailure("cannot create files in \(FileManager.default.temporaryDirectory.path)")
        }
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try Data(contentsOf: outURL), String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
