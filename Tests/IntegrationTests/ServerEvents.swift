import Foundation
import XCTest

/// Waiting for what happened instead of sleeping: on a busy machine every step takes longer, so
/// a fixed sleep is either needlessly long or, under load, too short. The deadlines are generous;
/// they only bound how long a broken build makes a test hang.
enum Wait {
    /// Polls `condition` until it holds; throws, naming `what`, after `timeout` seconds.
    static func until(_ what: @autoclosure () -> String, timeout: TimeInterval = 60, every interval: TimeInterval = 0.25,
                      _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return }
            guard Date() < deadline else {
                throw RoomServerError(message: "waited \(Int(timeout)) s in vain for \(what())")
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }
}

/// One consumer as the test server counts it (`media.consumers` in /state), live or closed.
struct ServerConsumer {
    var id: String
    var kind: String
    var producerId: String
    var closed: Bool
    /// Video: frames whose last packet went out; audio: packets (one 20 ms Opus frame each;
    /// aiortc's encoding consumers count no audio frames of their own).
    var framesSent: Int
    var packetsSent: Int
    var counters: [String: Any]
}

extension RoomServerProcess {
    /// Every consumer the server made, closed ones too (their counters are final).
    func consumers() throws -> [ServerConsumer] {
        let media = try XCTUnwrap(try state()["media"] as? [String: Any])
        let entries = try XCTUnwrap(media["consumers"] as? [String: [String: Any]])
        return entries.map { key, counters in
            // A closed consumer stays listed under "<id>:closed".
            let closed = key.hasSuffix(":closed")
            return ServerConsumer(id: closed ? String(key.dropLast(":closed".count)) : key,
                                  kind: counters["kind"] as? String ?? "", producerId: counters["producer_id"] as? String ?? "",
                                  closed: closed,
                                  framesSent: counters[counters["kind"] as? String == "audio" ? "packets_sent" : "frames_sent"] as? Int ?? 0,
                                  packetsSent: counters["packets_sent"] as? Int ?? 0, counters: counters)
        }
    }

    /// The room's live producers: id -> member number.
    func producerOwners(room: String = "42") throws -> [String: String] {
        let producers = (try state()["producers"] as? [String: [[String: Any]]])?[room] ?? []
        var owners: [String: String] = [:]
        for producer in producers {
            if let id = producer["id"] as? String { owners[id] = "\(producer["member_no"] ?? "")" }
        }
        return owners
    }

    /// The live consumers of `kind` of a member's live producers.
    func liveConsumers(of member: String, kind: String) throws -> [ServerConsumer] {
        let owners = try producerOwners()
        return try consumers().filter { !$0.closed && $0.kind == kind && owners[$0.producerId] == member }
    }

    /// Waits until the live `kind` consumer of `member` has sent at least `frames` frames (video)
    /// or packets (audio); returns what it had sent then. A server that cannot answer yet (it is
    /// starting) counts as not yet.
    @discardableResult
    func waitUntilSent(_ frames: Int, of kind: String, by member: String, timeout: TimeInterval = 90) throws -> ServerConsumer {
        var found: ServerConsumer?
        try Wait.until("the server to send \(frames) \(kind) frames of member \(member) (last: \(found.map { "\($0.framesSent)" } ?? "none"))",
                       timeout: timeout) {
            found = (try? liveConsumers(of: member, kind: kind))?.max { $0.framesSent < $1.framesSent }
            return (found?.framesSent ?? 0) >= frames
        }
        return try XCTUnwrap(found)
    }
}

/// A nacho running in the background whose output is read as it comes: each stderr line with the
/// time it arrived, so that a test can wait for a line and time what follows from the moment
/// nacho said it (not from when a busy machine got around to delivering a signal).
final class RunningNacho: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()
    private var lines: [(arrived: Date, text: String)] = []
    private var exited: Date?
    private let reading = DispatchGroup()
    /// Left by the termination handler, which Foundation runs some time after
    /// `waitUntilExit` may already have returned.
    private let ended = DispatchGroup()

    init(_ arguments: [String]) throws {
        process.executableURL = Repository.nacho
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        ended.enter()
        process.terminationHandler = { [weak self, ended] _ in
            self?.record { $0.exited = Date() }
            ended.leave()
        }
        try process.run()
        reading.enter()
        DispatchQueue.global().async { [self] in
            let data = out.fileHandleForReading.readDataToEndOfFile()
            record { $0.stdoutData = data }
            reading.leave()
        }
        reading.enter()
        DispatchQueue.global().async { [self] in
            var partial = Data()
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                let now = Date()
                partial.append(chunk)
                while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
                    partial = Data(partial[partial.index(after: newline)...])
                    record { $0.lines.append((now, line)); $0.stderrData.append(Data((line + "\n").utf8)) }
                }
            }
            record { $0.stderrData.append(partial) }
            reading.leave()
        }
    }

    private func record(_ change: (RunningNacho) -> Void) {
        lock.lock()
        change(self)
        lock.unlock()
    }

    private func read<T>(_ value: (RunningNacho) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return value(self)
    }

    /// When the first stderr line containing `text` arrived; throws after `timeout` seconds.
    @discardableResult
    func waitForLine(containing text: String, timeout: TimeInterval = 60) throws -> Date {
        var arrived: Date?
        try Wait.until("nacho to log \(text.debugDescription) (stderr so far: \(read { $0.stderrData.count }) bytes)", timeout: timeout,
                       every: 0.05) {
            arrived = read { $0.lines.first { $0.text.contains(text) }?.arrived }
            return arrived != nil
        }
        return try XCTUnwrap(arrived)
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// When the process ended (nil while it runs).
    var exitTime: Date? { read { $0.exited } }

    /// Waits for the end (SIGKILL after `timeout` seconds) and returns what it printed.
    func finish(timeout: TimeInterval = 60) -> NachoRun {
        let killer = DispatchWorkItem { [process] in if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        process.waitUntilExit()
        killer.cancel()
        // The exit time is set by the termination handler: without this wait a fast exit
        // read as nil now and then (a failed run of ResilienceTests.testStopWhileConnectingIsQuick).
        ended.wait()
        reading.wait()
        return read { NachoRun(status: $0.process.terminationStatus, stdout: String(decoding: $0.stdoutData, as: UTF8.self),
                               stderr: String(decoding: $0.stderrData, as: UTF8.self)) }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
