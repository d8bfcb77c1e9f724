import Foundation
import LoadTest
import Participant
import Synchronization

/// A live status line on a terminal while bots run: joined, tracks, bitrate in and out.
final class BotStatus: Sendable {
    private let enabled: Bool
    private let started = ContinuousClock.now

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    func update(bots: [Bot], records: [LoadStatistics.Record]) {
        guard enabled else { return }
        let joined = bots.filter { $0.joining.joined }.count
        let sent = records.filter { $0.direction == .send }.reduce(0) { $0 + ($1.bitrate ?? 0) }
        let received = records.filter { $0.direction == .receive }
        let (seconds, _) = (ContinuousClock.now - started).components
        let line = String(format: "\r\u{1B}[2Kbots %d/%d joined | %d:%02d | %d tracks in %.1f Mb/s | out %.1f Mb/s",
                          joined, bots.count, Int(seconds) / 60, Int(seconds) % 60, received.count,
                          received.reduce(0) { $0 + ($1.bitrate ?? 0) } / 1e6, sent / 1e6)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
