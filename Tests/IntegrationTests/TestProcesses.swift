import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import XCTest

/// Paths of the repository and of the built `nacho`, found from this file.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var nacho: URL {
        if let path = ProcessInfo.processInfo.environment["NACHO_BIN"] { return URL(fileURLWithPath: path) }
        // The test bundle sits next to the executable in the build products directory.
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("nacho")
        }
        return Bundle.main.bundleURL.appendingPathComponent("nacho")
    }

    static var python: URL {
        if let path = ProcessInfo.processInfo.environment["NACHO_PYTHON"] { return URL(fileURLWithPath: path) }
        return root.appendingPathComponent(".venv/bin/python")
    }
}

/// The test room server (Tests/RoomServer) as a child process on 127.0.0.1 with free ports.
final class RoomServerProcess {
    let process = Process()
    let edge: String
    let origin: String
    let control: URL
    /// The server's stderr goes to a file (a pipe nobody reads would block it when full).
    private let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-roomserver-\(UUID()).log")

    init(_ arguments: [String] = []) throws {
        let python = Repository.python
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw TestEnvironment.missing("no test-server virtualenv at \(python.path): run Scripts/bootstrap")
        }
        process.executableURL = python
        process.arguments = ["-m", "roomserver"] + arguments
        process.currentDirectoryURL = Repository.root.appendingPathComponent("Tests/RoomServer")
        let stdout = Pipe()
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
        // The server prints one JSON line with its URLs once it listens.
        var line = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let info = try? JSONSerialization.jsonObject(with: line) as? [String: String],
              let edge = info["edge"], let origin = info["origin"], let control = info["control"].flatMap(URL.init(string:)) else {
            process.terminate()
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            throw RoomServerError(message: "room server did not start: \(log.suffix(4000))")
        }
        self.edge = edge
        self.origin = origin
        self.control = control
    }

    /// The port of a server URL (to start a new server on the same ports).
    static func port(_ url: String) -> Int { URLComponents(string: url)?.port ?? 0 }

    /// Kills the server at once, as a crash would.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// What the server wrote to stderr (tracebacks, warnings), for failure messages.
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)).map { String($0.suffix(4000)) } ?? "" }

    /// The server's own account of what happened (stats, members, producers, media).
    func state() throws -> [String: Any] {
        do {
            return try JSONSerialization.jsonObject(with: Data(contentsOf: control.appendingPathComponent("state"))) as? [String: Any] ?? [:]
        } catch {
            throw RoomServerError(message: "room server state unavailable (\(error); running: \(process.isRunning)): \(log)")
        }
    }

    /// POSTs to the control port; `path` may carry a query (`outage?seconds=40`).
    func post(_ path: String) throws {
        var request = URLRequest(url: try XCTUnwrap(URL(string: control.absoluteString + "/" + path)))
        request.httpMethod = "POST"
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { _, _, _ in done.signal() }.resume()
        _ = done.wait(timeout: .now() + 10)
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logURL)
    }
}

struct RoomServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One finished run of `nacho`.
struct NachoRun {
    var status: Int32
    var stdout: String
    var stderr: String

    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

enum Nacho {
    /// Runs nacho to completion (killed after `timeout` seconds).
    static func run(_ arguments: [String], timeout: TimeInterval = 60, environment: [String: String] = [:],
                    whileRunning: ((Process) throws -> Void)? = nil) throws -> NachoRun {
        let process = Process()
        process.executableURL = Repository.nacho
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        try whileRunning?(process)
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        process.waitUntilExit()
        killer.cancel()
        group.wait()
        return NachoRun(status: process.terminationStatus,
                        stdout: String(decoding: outData, as: UTF8.self),
                        stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension XCTestCase {
    /// A failure is one line on stderr, names the step, and is not a crash report.
    func assertOneLineError(_ run: NachoRun, code: Int32, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, code, "stderr: \(run.stderr)", file: file, line: line)
        let lines = run.stderrLines
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(run.stderr)", file: file, line: line)
        XCTAssertTrue(lines.first?.hasPrefix("nacho: error: ") == true, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.contains(mentions), "expected \(mentions.debugDescription) in: \(run.stderr)", file: file, line: line)
        for crash in ["Fatal error", "Stack dump", "backtrace", "Thread 0"] {
            XCTAssertFalse(run.stderr.contains(crash), run.stderr, file: file, line: line)
        }
    }
}
