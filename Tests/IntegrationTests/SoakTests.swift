import Foundation
import XCTest

/// A minute of consumer churn while nacho records: the test server's virtual members leave and
/// join again every half second (consumerClosed, then newProducers with new producers), so
/// nacho consumes, closes and records a new file again and again. What nacho holds must follow
/// what is live: its resident memory stays flat. The figures are printed; only a generous bound
/// is asserted (memory is measured by benchmarks, not by tight test limits).
final class SoakTests: XCTestCase {
    /// Resident and peak resident memory of a process, in kB (/proc/PID/status).
    private static func memory(of pid: Int32) -> (rss: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) }
        }
        guard let rss = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (rss, peak)
    }

    func testRecordingThroughAMinuteOfProducerChurnKeepsMemoryFlat() throws {
        let server = try RoomServerProcess(["--virtual-members", "2", "--virtual-media", "replay", "--churn", "0.5"])
        let dir = try outputDirectory()
        nonisolated(unsafe) var samples: [(t: Double, rss: Int, peak: Int)] = []
        let run = try Nacho.run(["record", "--edge", server.edge, "--room", "42", "--member", "7", "--out", dir.path,
                                 "--duration", "60", "--json"], timeout: 120) { process in
            let start = Date()
            DispatchQueue.global().async {
                while process.isRunning {
                    if let memory = Self.memory(of: process.processIdentifier) {
                        samples.append((Date().timeIntervalSince(start), memory.rss, memory.peak))
                    }
                    Thread.sleep(forTimeInterval: 2)
                }
            }
        }
        XCTAssertEqual(run.status, 0, String(run.stderr.suffix(4000)))
        let stats = try XCTUnwrap(try server.state()["stats"] as? [String: Any])
        let churns = try XCTUnwrap(stats["churns"] as? Int, "\(stats)")
        XCTAssertGreaterThanOrEqual(churns, 40, "the server churned its members about twice a second")
        let recorded = try files(in: dir)
        print("SoakTests: \(churns) churns, \(recorded.count) files; RSS kB by time (s): "
              + samples.map { "\(Int($0.t)):\($0.rss)" }.joined(separator: " "))
        XCTAssertGreaterThanOrEqual(recorded.count, churns, "two members rejoining at each churn: at least one file per churn")
        // Flat: the peak after the first 20 s is within a generous margin of the peak at 20 s.
        let early = try XCTUnwrap(samples.last { $0.t <= 20 }?.peak, "no sample in the first 20 s")
        let late = try XCTUnwrap(samples.last?.peak)
        print("SoakTests: peak RSS \(early) kB at 20 s, \(late) kB at the end")
        XCTAssertLessThan(late, early + 20_000, "peak RSS grew by \(late - early) kB in 40 s of churn")
    }
}
