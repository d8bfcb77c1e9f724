import ArgumentParser
import DTLS
import Foundation
import Logging
import Participant
import Recording
import Signaling
import SocketIO
import Synchronization

/// `nacho record`: records every remote member to one file each.
public struct RecordCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record remote members to disk, one playable WebM file per member.",
        discussion: """
            Consumes every remote producer through the edge and writes what arrives, without \
            re-encoding (VP8 and Opus), to OUT/<room>-<member>-<UTC start>.webm. Files are \
            written cluster by cluster (about a second each) so a crash leaves them playable; \
            Ctrl-C or --duration finishes them properly (cues, duration). A member who leaves \
            and comes back gets a new file.
            """)

    @OptionGroup public var server: ServerOptions

    @Option(help: ArgumentHelp("Directory for the recordings (created if missing).", valueName: "dir"))
    public var out: String = "recordings"

    @Option(name: .customLong("only"), help: ArgumentHelp("Record only this member (repeat for several).", valueName: "member"))
    public var only: [String] = []

    @Option(help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C).", valueName: "seconds"))
    public var duration: Double?

    @Flag(help: "Overwrite existing files instead of refusing.")
    public var overwrite = false

    @Flag(help: "Print the summary as JSON lines and no live status line.")
    public var json = false

    @Flag(help: "Use the server's TCP candidates instead of UDP.")
    public var forceTcp = false

    public init() {}

    public mutating func validate() throws {
        try ServerOptions.validateSeconds(duration, flag: "--duration", max: 365 * 24 * 3600)
        if out.isEmpty { throw ValidationError("--out must name a directory") }
    }

    public func run() async throws {
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve()
        let registry = try RecorderRegistry(directory: out, room: settings.room, overwrite: overwrite, logger: logger)
        let participant = try ParticipantSetup.participant(settings: settings, forceTcp: forceTcp, logger: logger, command: "record")
        let stop = ParticipantSetup.stopSignal(duration: duration, lastWords: { registry.finishAll() })
        var receiver = EdgeReceiver(participant: participant, session: settings.session(.edge), joinType: settings.edgeJoinType,
                                    onlyMembers: only.isEmpty ? nil : Set(only), recorders: { member in registry.recorder(for: member) })
        let progress = ReceiveProgress()
        receiver.progress = progress
        let status = StatusLine(registry: registry, progress: progress, enabled: !json)
        status.start()
        let outcome: EdgeReceiver.Outcome
        do {
            outcome = try await receiver.run(until: stop)
        } catch {
            await status.stop()
            registry.finishAll()
            guard let failure = error as? ParticipantError else { throw error }
            throw NachoFailure(.mediaFailure, failure.description)
        }
        await status.stop()
        registry.finishAll()
        try registry.printSummary(outcome: outcome, json: json)
    }
}

/// The recorder registry (Recording) as the commands use it: its failures as exit code 74, and
/// the summary at the end.
extension RecorderRegistry {
    convenience init(directory path: String, room: String, overwrite: Bool, logger: Logger) throws {
        do {
            try self.init(directory: URL(fileURLWithPath: path, isDirectory: true), room: room, overwrite: overwrite, logger: logger)
        } catch {
            throw NachoFailure(.mediaFailure, "record: \(error)")
        }
    }

    func printSummary(outcome: EdgeReceiver.Outcome, json: Bool) throws {
        var lines: [String] = []
        var failures: [String] = []
        for recorder in all {
            let status = recorder.status
            let received = outcome.consumers.filter { $0.track.owner == recorder.member }
            let lost = received.reduce(0) { $0 + $1.lost }
            let packets = received.reduce(0) { $0 + $1.packets }
            for path in recorder.allPaths {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                if json {
                    lines.append(JSONValue.object([
                        "member_no": .string(recorder.member), "file": .string(path), "bytes": .int(size),
                        "packets": .int(packets), "lost": .int(lost),
                    ]).jsonText)
                } else {
                    lines.append("member \(recorder.member)\t\(path)\t\(size) bytes\t\(packets) packets\t\(lost) lost")
                }
            }
            if let error = status.error { failures.append("record member \(recorder.member): \(error)") }
        }
        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        if !failures.isEmpty { throw NachoFailure(.mediaFailure, failures.joined(separator: "\n")) }
    }
}

/// A live one-line status on a terminal (members, bitrate in, loss, bytes written); nothing
/// otherwise (logs stay line-oriented, and loss above 5 % is logged as a warning).
final class StatusLine: Sendable {
    private let registry: RecorderRegistry
    private let progress: ReceiveProgress
    private let enabled: Bool
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(registry: RecorderRegistry, progress: ReceiveProgress, enabled: Bool) {
        self.registry = registry
        self.progress = progress
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    func start() {
        guard enabled else { return }
        let registry = registry
        let progress = progress
        task.withLock { $0 = Task {
            let started = Date()
            var previous = progress.current
            var previousAt = started
            while true {
                try? await Task.sleep(for: .seconds(1))
                // Cancelled while asleep: stop without drawing a line after the wipe.
                if Task.isCancelled { return }
                let now = Date()
                let totals = progress.current
                let bytes = registry.all.map(\.status).reduce(0) { $0 + $1.bytes }
                let seconds = Int(now.timeIntervalSince(started))
                // Over the time it was measured in, not an assumed second.
                let kbps = Double(totals.bytes - previous.bytes) * 8 / 1000 / max(now.timeIntervalSince(previousAt), 0.001)
                let loss = totals.expected > 0 ? 100 * Double(totals.lost) / Double(totals.expected) : 0
                previous = totals
                previousAt = now
                let line = String(format: "\r\u{1B}[2Krecording %d member%@ | %d:%02d | in %.0f kb/s | loss %.1f %% | %.1f MB written",
                                  totals.members, totals.members == 1 ? "" : "s", seconds / 60, seconds % 60, kbps, loss, Double(bytes) / 1e6)
                FileHandle.standardError.write(Data(line.utf8))
            }
        } }
    }

    /// Stops the updates and wipes the line (after the last update has been drawn).
    func stop() async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
