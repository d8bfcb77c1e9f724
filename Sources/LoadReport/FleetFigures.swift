import Foundation

/// Everything the statistics of one or more runs say, aggregated: per published track, per
/// received track, per subscriber, per bot's join, and over time for the charts.
///
/// Track totals come from the bots' `summary` lines when present, else from their `track`
/// lines (a process that was killed writes no summaries; its seconds still count).
public struct FleetFigures: Sendable {
    public var runs: [RunFigures]
    public var bots: [BotFigures]
    /// Published tracks, by bot.
    public var published: [TrackTotals]
    /// Received tracks, by bot then peer.
    public var received: [TrackTotals]
    /// Receiving bots, by bot.
    public var subscribers: [SubscriberFigures]
    public var join: JoinFigures
    /// Per-track figures over time, in the order of `published` then `received`.
    public var series: [TrackSeries]
    /// Oddities worth a line (one member number in two runs).
    public var warnings: [String]
    /// The earliest `time` of a track line: second 0 of the charts.
    public var startTime: Date?

    /// The rooms of the runs, each once.
    public var rooms: [String] { Array(Set(runs.compactMap(\.room))).sorted() }

    /// Nothing to report: no run, no bot.
    public var isEmpty: Bool { runs.isEmpty && bots.isEmpty }

    private struct BotKey: Hashable {
        var run: String
        var bot: String
    }

    private struct TrackKey: Hashable {
        var run: String
        var bot: String
        var direction: TrackDirection
        var track: String
    }

    public init(records: [StatsRecord]) {
        var runOrder: [String] = []
        var runsSeen = Set<String>()
        var runLines: [String: RunLine] = [:]
        var endLines: [String: EndLine] = [:]
        var summaries: [BotKey: SummaryLine] = [:]
        var samples: [TrackKey: [TrackLine]] = [:]
        var trackOrder: [TrackKey] = []
        var botOrder: [BotKey] = []
        var botsSeen = Set<BotKey>()

        func see(_ key: BotKey) {
            if botsSeen.insert(key).inserted { botOrder.append(key) }
        }
        for record in records {
            if runsSeen.insert(record.run).inserted { runOrder.append(record.run) }
            switch record {
            case .run(let line): runLines[line.run] = line
            case .end(let line): endLines[line.run] = line
            case .summary(let line):
                let key = BotKey(run: line.run, bot: line.bot)
                summaries[key] = line
                see(key)
            case .track(let line):
                let key = TrackKey(run: line.run, bot: line.bot, direction: line.figures.direction, track: line.figures.track)
                if samples[key] == nil { trackOrder.append(key) }
                samples[key, default: []].append(line)
                see(BotKey(run: line.run, bot: line.bot))
            }
        }

        // Second 0 of the charts: the earliest interval of any track. The bots of a process
        // share each second's timestamp, so each distinct text is parsed once.
        var parsed: [String: Date] = [:]
        func date(_ text: String?) -> Date? {
            guard let text else { return nil }
            if let known = parsed[text] { return known }
            let date = StatsTime.parse(text)
            parsed[text] = date
            return date
        }
        let start = samples.values.lazy.flatMap { $0 }.compactMap { date($0.time) }.min()
        startTime = start

        // Tracks: a summary's totals where the bot has one, else the track lines added up.
        var totals: [TrackTotals] = []
        var covered = Set<TrackKey>()
        for key in botOrder {
            guard let summary = summaries[key] else { continue }
            for figures in summary.tracks {
                let trackKey = TrackKey(run: key.run, bot: key.bot, direction: figures.direction, track: figures.track)
                guard covered.insert(trackKey).inserted else { continue }
                totals.append(TrackTotals(run: key.run, bot: key.bot, role: summary.role,
                                          figures: TrackAggregation.completed(figures), fromSummary: true))
            }
        }
        for key in trackOrder where !covered.contains(key) {
            guard let lines = samples[key], let figures = TrackAggregation.totals(of: lines.map(\.figures)) else { continue }
            let role = summaries[BotKey(run: key.run, bot: key.bot)]?.role ?? lines.last(where: { $0.role != nil })?.role
            totals.append(TrackTotals(run: key.run, bot: key.bot, role: role, figures: figures, fromSummary: false))
        }
        published = totals.filter { $0.figures.direction == .send }.sorted(by: Self.trackOrder)
        received = totals.filter { $0.figures.direction == .receive }.sorted(by: Self.trackOrder)

        // Bots and their joins. Each bot's role from its track lines, found in one pass: a file
        // can name tens of thousands of bots and tracks, and a search per bot would be quadratic.
        var trackRoles: [BotKey: String] = [:]
        for key in trackOrder {
            let bot = BotKey(run: key.run, bot: key.bot)
            if trackRoles[bot] == nil, let role = samples[key]?.last(where: { $0.role != nil })?.role { trackRoles[bot] = role }
        }
        var bots: [BotFigures] = []
        for key in botOrder {
            if let s = summaries[key] {
                bots.append(BotFigures(run: key.run, bot: key.bot, role: s.role, joined: s.joined, joinAttempts: s.joinAttempts,
                                       joinMs: s.joinMs, reconnections: s.reconnections, error: s.error, hasSummary: true))
            } else {
                // Only track lines: it was in the room, or it would have had no tracks.
                bots.append(BotFigures(run: key.run, bot: key.bot, role: trackRoles[key], joined: true, hasSummary: false))
            }
        }
        self.bots = bots.sorted { Self.memberOrder($0.bot, $0.run, $1.bot, $1.run) }

        // Runs: planned from the end line, else the plan, and never fewer than the bots seen.
        let botsOfRun = Dictionary(grouping: bots, by: \.run)
        runs = runOrder.map { run in
            let line = runLines[run]
            let end = endLines[run]
            let mine = botsOfRun[run] ?? []
            let planned = max(end?.bots ?? line?.plan?.bots ?? 0, mine.count)
            var joined = mine.filter(\.joined).count
            if !mine.contains(where: \.hasSummary), let reported = end?.joined { joined = max(joined, reported) }
            return RunFigures(run: run, room: line?.room, host: line?.host, index: line?.index, memberBase: line?.memberBase,
                              version: line?.version, plan: line?.plan, planned: planned, joined: joined,
                              ended: end != nil, passed: end?.passed)
        }
        join = JoinFigures(
            planned: runs.saturatingSum(\.planned),
            joined: runs.saturatingSum(\.joined),
            notJoined: self.bots.filter { !$0.joined },
            joinMsP50: Percentile.of(bots.compactMap(\.joinMs), 0.5),
            joinMsP95: Percentile.of(bots.compactMap(\.joinMs), 0.95),
            reconnections: bots.saturatingSum { $0.reconnections ?? 0 })

        // Subscribers: every bot that received, and every subscriber that joined but got nothing.
        var receivers: [BotKey: [TrackTotals]] = [:]
        for track in received { receivers[BotKey(run: track.run, bot: track.bot), default: []].append(track) }
        for bot in self.bots where bot.joined && bot.role == "subscriber" {
            let key = BotKey(run: bot.run, bot: bot.bot)
            if receivers[key] == nil { receivers[key] = [] }
        }
        let roleOf = Dictionary(self.bots.map { (BotKey(run: $0.run, bot: $0.bot), $0.role) }, uniquingKeysWith: { first, _ in first })
        subscribers = receivers.map { key, tracks in
            SubscriberFigures(run: key.run, bot: key.bot, role: roleOf[key] ?? tracks.first?.role, tracks: tracks)
        }.sorted { Self.memberOrder($0.bot, $0.run, $1.bot, $1.run) }

        // Series, in table order.
        series = (published + received).compactMap { track in
            let key = TrackKey(run: track.run, bot: track.bot, direction: track.figures.direction, track: track.figures.track)
            guard let lines = samples[key], !lines.isEmpty else { return nil }
            let points = lines.map { line -> SeriesPoint in
                let f = line.figures
                let t = date(line.time).flatMap { date in start.map { date.timeIntervalSince($0) } } ?? f.elapsedS ?? 0
                return SeriesPoint(t: t, bitrate: TrackAggregation.bitrate(of: f), loss: f.loss ?? TrackAggregation.lossRatio(f),
                                   packets: f.packets, packetsLost: f.packetsLost, freezes: f.freezes,
                                   delayMsP50: f.delayMsP50, delayMsP95: f.delayMsP95, jitterMs: f.jitterMs)
            }.sorted { $0.t < $1.t }
            return TrackSeries(run: track.run, bot: track.bot, direction: track.figures.direction, kind: track.figures.kind,
                               track: track.figures.track, peer: track.figures.peer, points: points)
        }

        // One member number in two runs: the fleet's member bases overlap.
        var runsOfBot: [String: [String]] = [:]
        for bot in self.bots { runsOfBot[bot.bot, default: []].append(bot.run) }
        warnings = runsOfBot.filter { $0.value.count > 1 }.keys.sorted { Self.memberOrder($0, "", $1, "") }.map { bot in
            let runs = runsOfBot[bot] ?? []
            return "bot \(bot) appears in \(runs.count) runs (\(runs.joined(separator: ", "))): member numbers overlap; shown apart"
        }
    }

    /// Member numbers in numeric order when they are numbers, then by text; then by run.
    static func memberOrder(_ a: String, _ runA: String, _ b: String, _ runB: String) -> Bool {
        switch (Int(a), Int(b)) {
        case let (x?, y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a != b ? a < b : runA < runB
        }
    }

    /// Tracks by bot, then peer, video before audio, then id.
    static func trackOrder(_ a: TrackTotals, _ b: TrackTotals) -> Bool {
        if a.bot != b.bot || a.run != b.run { return memberOrder(a.bot, a.run, b.bot, b.run) }
        let peerA = a.figures.peer ?? "", peerB = b.figures.peer ?? ""
        if peerA != peerB { return memberOrder(peerA, "", peerB, "") }
        if a.figures.kind != b.figures.kind { return a.figures.kind > b.figures.kind }
        return a.figures.track < b.figures.track
    }
}
