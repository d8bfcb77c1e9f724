import ArgumentParser
import Foundation
import LoadReport
import Logging
import ORTC
import LoadTest
import Participant

/// `nacho bots`: a whole room of load-test participants in one process, with statistics,
/// thresholds and fleets (docs/STATS.md).
public struct BotsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bots",
        abstract: "Run a room of load-test bots: publishers and subscribers, with stats and a pass/fail verdict.",
        discussion: """
            Each bot is a full participant (its own signaling, transports, DTLS, SRTP) with member \
            number --member-base + --index × bots + n: video publishers first, then audio \
            publishers, then subscribers. Publishers send from shared sources (one capture and \
            encode for all of them, or a pre-encoded replay:clip.ivf / replay:clip.ogg); \
            subscribers consume every remote producer without decoding. Joins are paced by \
            --num-per-second; a failed join is retried and counted. Every flag has a config \
            file equivalent under "bots" (videoPublishers, audioPublishers, subscribers, \
            memberBase, index, numPerSecond, duration, stats, expect, videoSource, audioSource, \
            simulcast, metrics). Exit code 3: an --expect threshold was missed.
            """)

    @OptionGroup public var server: ServerOptions

    @Option(help: ArgumentHelp("Bots that publish video.", valueName: "n"))
    public var videoPublishers: Int?

    @Option(help: ArgumentHelp("Bots that publish audio.", valueName: "n"))
    public var audioPublishers: Int?

    @Option(help: ArgumentHelp("Bots that consume every remote producer.", valueName: "n"))
    public var subscribers: Int?

    @Option(help: ArgumentHelp("Member number of the first bot (default 1000, or NACHO_MEMBER_BASE).", valueName: "n"))
    public var memberBase: Int?

    @Option(help: ArgumentHelp("This process's index in a fleet (default JOB_COMPLETION_INDEX, else 0): members start at base + index × bots.", valueName: "n"))
    public var index: Int?

    @Option(help: ArgumentHelp("Joins per second (default 5).", valueName: "rate"))
    public var numPerSecond: Double?

    @Option(help: ArgumentHelp("Seconds to run (default: until SIGINT or SIGTERM).", valueName: "seconds"))
    public var duration: Double?

    @Option(help: ArgumentHelp("Write statistics as JSON lines to this file (- for stdout).", valueName: "file"))
    public var stats: String?

    @Option(help: ArgumentHelp("A threshold the run must meet, e.g. joined=all, loss<2%, bitrate>=250k, freezes=0, delay_p95<400ms (repeatable).", valueName: "expr"))
    public var expect: [String] = []

    @Option(help: ArgumentHelp("Video source of the publishers: synthetic (default), file:PATH.y4m, replay:PATH.ivf.", valueName: "uri"))
    public var videoSource: String?

    @Option(help: ArgumentHelp("Audio source of the publishers: synthetic (default), file:PATH.wav, replay:PATH.ogg.", valueName: "uri"))
    public var audioSource: String?

    @Option(help: ArgumentHelp("Serve live figures (Prometheus text) at http://HOST:PORT/metrics while the bots run (port 0: any free port, logged).", valueName: "host:port"))
    public var metrics: String?

    @Flag(inversion: .prefixedNo, help: "Publish video as VP8 simulcast (three encodings; default on).")
    public var simulcast: Bool?

    @Flag(help: "Print the final summary as JSON instead of tables.")
    public var json = false

    @Flag(help: "Print the plan (members, roles, sources) and exit without connecting.")
    public var dryRun = false

    public init() {}

    public mutating func validate() throws {
        for (flag, value) in [("--video-publishers", videoPublishers), ("--audio-publishers", audioPublishers),
                              ("--subscribers", subscribers)] {
            if let value, !(0...10_000).contains(value) { throw ValidationError("\(flag) must be between 0 and 10000") }
        }
        if let memberBase, memberBase < 0 { throw ValidationError("--member-base must not be negative") }
        if let index, index < 0 { throw ValidationError("--index must not be negative") }
        if let numPerSecond, !BotFleet.joinRates.contains(numPerSecond) {
            throw ValidationError("--num-per-second must be between \(BotFleet.joinRates.lowerBound) and \(Int(BotFleet.joinRates.upperBound))")
        }
        if let duration, !(duration > 0 && duration <= 365 * 86400) { throw ValidationError("--duration must be positive (at most a year)") }
        if let metrics, MetricsAddress(metrics) == nil {
            throw ValidationError("--metrics must be HOST:PORT (for example 127.0.0.1:9464)")
        }
        do {
            _ = try Expectations.parse(expect)
        } catch {
            throw ValidationError(error.description)
        }
    }

    public func run() async throws {
        BotsMalloc.limitArenasToCores()
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve(needsMember: false)
        let plan = try BotPlan(command: self, settings: settings)
        if dryRun {
            FileHandle.standardOutput.write(Data(plan.describe(json: json).utf8))
            return
        }
        try await BotRun(plan: plan, settings: settings, logger: logger, json: json).run()
    }
}
