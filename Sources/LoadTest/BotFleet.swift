import Foundation
import Media
import Participant
import Synchronization

/// A room's worth of bots in one process: joins paced at `joinsPerSecond`, every bot
/// participating until `stop`, and once a second the figures of every joined bot's tracks
/// handed to `report` (as `LoadStatistics` records). When `stop` fires, all bots leave
/// together (each within its supervisor's grace) and `run` returns their summaries.
public struct BotFleet: Sendable {
    public var bots: [Bot]
    public var joinsPerSecond: Double

    /// Join rates the CLI accepts: at the slowest one join every 1000 s.
    public static let joinRates: ClosedRange<Double> = 0.001...1000
    /// No bot waits longer than this to join (a year, the longest run), whatever the rate.
    static let maxJoinDelay = 365.0 * 86400

    public init(bots: [Bot], joinsPerSecond: Double) {
        self.bots = bots
        self.joinsPerSecond = joinsPerSecond
    }

    /// What a bot ended with.
    public struct Outcome: Sendable {
        public var bot: Bot
        public var joining: Bot.Joining
        public var tracks: [LoadStatistics.Record]
    }

    public func run(until stop: StopSignal, report: @escaping @Sendable ([LoadStatistics.Record]) -> Void) async -> [Outcome] {
        let statistics = SharedLoadStatistics()
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for (index, bot) in bots.enumerated() {
                group.addTask {
                    // Paced joins: bot n starts n / rate seconds in.
                    let delay = Self.joinDelay(index: index, joinsPerSecond: joinsPerSecond)
                    if delay > .zero { try? await stop.runUntilFired(grace: { .zero }) {
                        try await Task.sleep(until: started + delay, clock: .continuous)
                    } }
                    guard !stop.isFired else { return }
                    await bot.participate(until: stop)
                }
            }
            group.addTask {
                var tick = started
                while !stop.isFired {
                    tick += .seconds(1)
                    let next = tick
                    try? await stop.runUntilFired(grace: { .zero }) {
                        try await Task.sleep(until: next, clock: .continuous)
                    }
                    // At stop: the last interval, before the bots take their media away.
                    report(await sample(statistics, started: started))
                }
            }
            await group.waitForAll()
        }
        // Once every bot has left: what they received and sent after the last sample (each
        // half's last figures, kept when its media stopped), so the totals miss nothing.
        report(await sample(statistics, started: started))
        let final = statistics.shared.withLock { $0 }
        return bots.map { Outcome(bot: $0, joining: $0.joining, tracks: final.summary(bot: $0.member)) }
    }

    /// When bot `index` joins: index / rate seconds in, at most `maxJoinDelay` (a tiny rate
    /// would make a delay no Duration holds); no delay for a rate that is not positive.
    static func joinDelay(index: Int, joinsPerSecond: Double) -> Duration {
        guard joinsPerSecond > 0, index > 0 else { return .zero }
        let seconds = min(Double(index) / joinsPerSecond, maxJoinDelay)
        return .milliseconds(Int(seconds * 1000))
    }

    /// One interval of every bot that has joined.
    private func sample(_ statistics: SharedLoadStatistics, started: ContinuousClock.Instant) async -> [LoadStatistics.Record] {
        var records: [LoadStatistics.Record] = []
        for bot in bots {
            let joining = bot.joining
            guard let joinedAt = joining.joinedAt else { continue }
            let tracks = await bot.tracks()
            // MediaClock seconds, the clock the tracks' reading times are on.
            let now = MediaClock.now
            let joined = now - Self.seconds(ContinuousClock.now - joinedAt)
            records += statistics.shared.withLock { $0.record(bot: bot.member, role: bot.role, tracks: tracks, now: now, joinedAt: joined) }
        }
        return records
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }
}

/// The run's statistics, shared by the sampling task and the end.
private final class SharedLoadStatistics: Sendable {
    let shared = Mutex(LoadStatistics())
}
