import Foundation
import TestSupport
import XCTest

/// Transports of one process on one event loop share a UDP socket (the test server gives each
/// transport a port of its own, as mediasoup does), and every one of them still gets its media.
final class SharedSocketTests: XCTestCase {
    /// One more transport than there are event loops: at least two are on one loop.
    private var subscribers: Int { max(2, ProcessInfo.processInfo.activeProcessorCount) }

    func testTransportsOnOneLoopShareASocketAndAllReceive() throws {
        let sockets = try run(environment: [:])
        XCTAssertTrue(sockets.values.contains { $0.transports >= 2 }, "a loop with two transports: \(sockets)")
        for (loop, socket) in sockets {
            XCTAssertEqual(socket.locals.count, 1, "one socket for the \(socket.transports) transports of loop \(loop)")
        }
    }

    func testSharingCanBeTurnedOff() throws {
        let sockets = try run(environment: ["NACHO_SHARED_SOCKETS": "0"])
        for (loop, socket) in sockets {
            XCTAssertEqual(socket.locals.count, socket.transports, "a socket per transport on loop \(loop)")
        }
    }

    /// Runs an audio publisher and `subscribers` subscribers; checks everyone got the audio;
    /// returns the local UDP addresses of the transports by event loop (from the debug log).
    private func run(environment: [String: String]) throws -> [String: (transports: Int, locals: Set<String>)] {
        let server = try RoomServerProcess()
        let stats = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-shared-\(UUID()).jsonl")
        addTeardownBlock { try? FileManager.default.removeItem(at: stats) }
        let run = try Nacho.run(["bots", "--edge", server.edge, "--origin", server.origin, "--room", "42",
                                 "--audio-publishers", "1", "--subscribers", "\(subscribers)", "--num-per-second", "10",
                                 "--duration", "5", "--stats", stats.path, "--log-level", "debug",
                                 "--expect", "joined=all", "--expect", "tracks=all"], timeout: 90, environment: environment)
        XCTAssertEqual(run.status, 0, run.stderr.suffix(4000) + "\n" + run.stdout)
        let summaries = try String(contentsOf: stats, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["type"] as? String == "summary" && $0["role"] as? String == "subscriber" }
        XCTAssertEqual(summaries.count, subscribers)
        for summary in summaries {
            let tracks = summary["tracks"] as? [[String: Any]] ?? []
            XCTAssertGreaterThan(tracks.reduce(0) { $0 + ($1["packets"] as? Int ?? 0) }, 50, "subscriber \(summary["bot"] ?? "?") received")
        }
        var sockets: [String: (transports: Int, locals: Set<String>)] = [:]
        for line in run.stderrLines where line.hasSuffix(" checking") {
            guard let local = value("local", in: line), let loop = value("loop", in: line) else { continue }
            sockets[loop, default: (0, [])].transports += 1
            sockets[loop, default: (0, [])].locals.insert(local)
        }
        XCTAssertEqual(sockets.values.reduce(0) { $0 + $1.transports }, subscribers + 1, "every transport logged its socket:\n\(run.stderr.suffix(4000))")
        return sockets
    }

    private func value(_ key: String, in line: String) -> String? {
        guard let start = line.range(of: " \(key)=") else { return nil }
        return String(line[start.upperBound...].prefix { $0 != " " })
    }
}
