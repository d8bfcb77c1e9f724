import DTLS
import Foundation
import LoadReport
import LoadTest
import Logging
import NIOPosix
import ORTC
import Participant
import SocketIO
import Synchronization

/// One `nacho bots` run: shared sources, the bots, statistics lines, the end table and verdict.
struct BotRun {
    var plan: BotPlan
    var settings: ResolvedSettings
    var logger: Logger
    /// The final summary as JSON rather than tables.
    var json: Bool

    func run() async throws {
        let expectations: [Expectation]
        do {
            expectations = try Expectations.parse(plan.expect)
        } catch {
            throw NachoFailure(.usage, error.description)
        }
        let stats = try StatsWriter(path: plan.stats)
        let runId = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        stats.write(.run(RunLine(
            run: runId, time: StatsWriter.timestamp(), room: plan.room, host: ProcessInfo.processInfo.hostName,
            index: plan.index, memberBase: plan.memberBase, plan: RunPlan(
                videoPublishers: plan.videoPublishers, audioPublishers: plan.audioPublishers, subscribers: plan.subscribers,
                numPerSecond: plan.numPerSecond, duration: plan.duration, videoSource: plan.videoSource,
                audioSource: plan.audioSource, simulcast: plan.simulcast),
            version: NachoCommand.configuration.version)), keep: true)
        // One source (capture and encode) per kind, shared by every publisher.
        let video = plan.videoPublishers > 0
            ? try MediaSetup.video(uri: plan.videoSource, settings: settings, codec: nil, simulcast: plan.simulcast, logger: logger) : nil
        let audio = plan.audioPublishers > 0 ? try MediaSetup.audio(uri: plan.audioSource, settings: settings, logger: logger) : nil
        let certificate: DTLSCertificate
        do {
            certificate = try DTLSCertificate.generate()
        } catch {
            throw NachoFailure(.mediaFailure, "bots: cannot create the DTLS certificate: \(error)")
        }
        var supervision = settings.supervision
        supervision.retryFirstSession = true
        let bots = plan.members.map { member -> Bot in
            var botLogger = logger
            botLogger[metadataKey: "bot"] = "\(member.member)"
            let participant = ParticipantConfiguration(
                roomId: settings.room, memberNo: member.member, certificate: certificate,
                transportConfiguration: settings.transportConfiguration(forceTcp: false),
                cname: "nacho-bot-\(member.member)-\(UInt32.random(in: 0...UInt32.max))", logger: botLogger,
                supervision: supervision)
            switch member.role {
            case .subscriber:
                return Bot(member: member.member, role: member.role) { trackStats, observer, stop in
                    var receiver = EdgeReceiver(participant: participant, session: settings.session(.edge), joinType: settings.edgeJoinType)
                    receiver.trackStats = trackStats
                    receiver.observer = observer
                    _ = try await receiver.run(until: stop)
                }
            case .videoPublisher, .audioPublisher:
                let producer = member.role == .videoPublisher ? video : audio
                return Bot(member: member.member, role: member.role) { trackStats, observer, stop in
                    var sender = OriginSender(participant: participant, session: settings.session(.origin), joinType: settings.originJoinType,
                                              producers: producer.map { [$0] } ?? [])
                    sender.trackStats = trackStats
                    sender.observer = observer
                    _ = try await sender.run(until: stop)
                }
            }
        }
        let stop = ParticipantSetup.stopSignal(duration: plan.duration, lastWords: {})
        for pipeline in [video, audio].compactMap({ $0?.pipeline }) { pipeline.start() }
        defer { for pipeline in [video, audio].compactMap({ $0?.pipeline }) { pipeline.stop() } }
        let status = BotStatus(enabled: plan.stats != "-" && !json)
        let live = try await serveMetrics()
        let outcomes = await BotFleet(bots: bots, joinsPerSecond: plan.numPerSecond).run(until: stop) { records in
            live?.metrics.observe(records)
            live?.metrics.joined(bots)
            let time = StatsWriter.timestamp()
            for record in records {
                stats.write(.track(TrackLine(run: runId, time: time, bot: record.bot, role: record.role.rawValue,
                                             figures: Self.rounded(record.figures))))
            }
            status.update(bots: bots, records: records)
        }
        status.finish()
        var joined = 0
        for outcome in outcomes {
            if outcome.joining.joined { joined += 1 }
            let joining = outcome.joining
            stats.write(.summary(SummaryLine(
                run: runId, time: StatsWriter.timestamp(), bot: outcome.bot.member, role: outcome.bot.role.rawValue,
                joined: joining.joined, joinAttempts: joining.attempts, joinMs: joining.joinSeconds.map { ($0 * 1000).rounded() },
                reconnections: max(0, joining.sessions - 1), error: joining.joined ? nil : joining.lastError ?? "never joined",
                tracks: outcome.tracks.map { Self.rounded($0.figures) })), keep: true)
        }
        let verdict = BotVerdict(expectations: expectations, lines: stats.kept)
        stats.write(.end(EndLine(run: runId, time: StatsWriter.timestamp(), bots: plan.count, joined: joined,
                                 expectations: verdict.records, passed: verdict.passed)))
        stats.close()
        await live?.server.close()
        // With --stats - the statistics own stdout; the summary goes to stderr then.
        let summary = Data(verdict.render(json: json).utf8)
        (plan.stats == "-" ? FileHandle.standardError : FileHandle.standardOutput).write(summary)
        if !verdict.passed {
            throw NachoFailure(.expectationsMissed, verdict.misses.joined(separator: "\n"))
        }
    }

    /// `--metrics`: binds before any bot joins, so a taken address fails the run at once.
    private func serveMetrics() async throws -> (metrics: FleetMetrics, server: MetricsServer)? {
        guard let address = plan.metrics else { return nil }
        let metrics = FleetMetrics(plan: plan)
        let server: MetricsServer
        do {
            server = try await MetricsServer(host: address.host, port: address.port, group: MultiThreadedEventLoopGroup.singleton) {
                metrics.text()
            }
        } catch {
            throw NachoFailure(.usage, "bots: cannot serve metrics on \(address): \(error)")
        }
        var bound = address
        bound.port = server.port
        logger.notice("serving metrics", metadata: ["url": "http://\(bound)/metrics"])
        return (metrics, server)
    }

    /// Figures to a thousandth: what a statistics line needs, and lines stay short.
    static func rounded(_ figures: TrackFigures) -> TrackFigures {
        var figures = figures
        func rounded(_ value: Double?) -> Double? { value.map { ($0 * 1000).rounded() / 1000 } }
        figures.elapsedS = rounded(figures.elapsedS)
        figures.intervalS = rounded(figures.intervalS)
        figures.loss = rounded(figures.loss)
        figures.jitterMs = rounded(figures.jitterMs)
        figures.rttMs = rounded(figures.rttMs)
        figures.freezeMs = rounded(figures.freezeMs)
        figures.delayMsP50 = rounded(figures.delayMsP50)
        figures.delayMsP95 = rounded(figures.delayMsP95)
        return figures
    }
}

/// JSON lines to a file or stdout, from any thread; a line is written whole.
final class StatsWriter: Sendable {
    private let handle: Mutex<FileHandle?>
    private let isStdout: Bool
    /// The lines asked to be kept (run and summaries: small), for the end's verdict.
    private let keptLines = Mutex<[String]>([])

    var kept: [String] { keptLines.withLock { $0 } }

    init(path: String?) throws {
        guard let path else {
            handle = Mutex(nil)
            isStdout = false
            return
        }
        if path == "-" {
            handle = Mutex(FileHandle.standardOutput)
            isStdout = true
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw NachoFailure(.usage, "bots: cannot write stats to \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        handle = Mutex(file)
        isStdout = false
    }

    /// Writes one line (docs/STATS.md); `keep` also keeps it for the end's verdict.
    func write(_ record: StatsRecord, keep: Bool = false) {
        // Encoding our own lines cannot fail (every figure is finite or written as null).
        guard let text = try? record.jsonLine() else { return }
        if keep { keptLines.withLock { $0.append(text) } }
        let line = Data((text + "\n").utf8)
        handle.withLock { $0?.write(line) }
    }

    func close() {
        handle.withLock { handle in
            if !isStdout { try? handle?.close() }
            handle = nil
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
