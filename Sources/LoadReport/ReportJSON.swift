import Foundation

/// The machine-readable report (`nacho report --json`): one JSON object with the runs, the
/// joins, every published and received track (the fields of docs/STATS.md's `track` line, as
/// totals), the subscribers, the totals, the expectations and the lines that were skipped.
/// Figures that were not measured are null, never left out.
public enum ReportJSON {
    public static func render(_ report: FleetFigures, outcomes: [ExpectationOutcome] = [], problems: [StatsProblem] = []) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(report: report, outcomes: outcomes, problems: problems)
        // Every value is a plain string, number, bool or null: encoding cannot fail.
        guard let data = try? encoder.encode(document) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        init(_ name: String) { stringValue = name }
    }

    /// Writes `fields` (nil values as null) into `encoder`'s object. A number that is not finite
    /// (a sum of absurd bitrates) is null too: JSONEncoder refuses it, and the whole report with it.
    private static func write(_ fields: [(String, (any Encodable)?)], to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (name, value) in fields {
            if let number = value as? Double, !number.isFinite {
                try c.encodeNil(forKey: Key(name))
            } else if let value {
                try c.encode(value, forKey: Key(name))
            } else {
                try c.encodeNil(forKey: Key(name))
            }
        }
    }

    private struct Document: Encodable {
        var report: FleetFigures
        var outcomes: [ExpectationOutcome]
        var problems: [StatsProblem]

        func encode(to encoder: any Encoder) throws {
            let join = report.join
            try write([
                ("rooms", report.rooms),
                ("runs", report.runs.map(RunEntry.init)),
                ("bots", BotsEntry(join: join)),
                ("published", report.published.map(TrackEntry.init)),
                ("received", report.received.map(TrackEntry.init)),
                ("subscribers", report.subscribers.map(SubscriberEntry.init)),
                ("totals", TotalsEntry(published: PublishedTotals(report.published), subscribers: SubscriberTotals(report.subscribers))),
                ("expectations", outcomes.map(\.record)),
                ("passed", outcomes.allSatisfy(\.met)),
                ("problems", problems.map(\.description)),
                ("warnings", report.warnings),
            ], to: encoder)
        }
    }

    private struct RunEntry: Encodable {
        var run: RunFigures
        func encode(to encoder: any Encoder) throws {
            try write([("run", run.run), ("room", run.room), ("host", run.host), ("index", run.index),
                       ("member_base", run.memberBase), ("version", run.version), ("planned", run.planned),
                       ("joined", run.joined), ("ended", run.ended), ("passed", run.passed)], to: encoder)
        }
    }

    private struct BotsEntry: Encodable {
        var join: JoinFigures
        func encode(to encoder: any Encoder) throws {
            try write([("planned", join.planned), ("joined", join.joined), ("join_ms_p50", join.joinMsP50),
                       ("join_ms_p95", join.joinMsP95), ("reconnections", join.reconnections),
                       ("not_joined", join.notJoined.map(NotJoinedEntry.init))], to: encoder)
        }
    }

    private struct NotJoinedEntry: Encodable {
        var bot: BotFigures
        func encode(to encoder: any Encoder) throws {
            try write([("bot", bot.bot), ("run", bot.run), ("role", bot.role), ("join_attempts", bot.joinAttempts),
                       ("error", bot.error)], to: encoder)
        }
    }

    private struct TrackEntry: Encodable {
        var track: TrackTotals
        func encode(to encoder: any Encoder) throws {
            try track.figures.encode(to: encoder)
            try write([("bot", track.bot), ("run", track.run), ("role", track.role),
                       ("from", track.fromSummary ? "summary" : "track lines")], to: encoder)
        }
    }

    private struct SubscriberEntry: Encodable {
        var s: SubscriberFigures
        func encode(to encoder: any Encoder) throws {
            try write([("bot", s.bot), ("run", s.run), ("role", s.role), ("tracks", s.tracks.count), ("packets", s.packets),
                       ("packets_lost", s.packetsLost), ("bitrate", s.bitrate), ("loss", s.loss), ("freezes", s.freezes),
                       ("freeze_ms", s.freezeMs), ("delay_ms_p50", s.delayMsP50), ("delay_ms_p95", s.delayMsP95),
                       ("jitter_ms", s.jitterMs)], to: encoder)
        }
    }

    private struct TotalsEntry: Encodable {
        var published: PublishedTotals
        var subscribers: SubscriberTotals
        func encode(to encoder: any Encoder) throws {
            let p = published, s = subscribers
            try write([
                ("published", Fields([("tracks", p.tracks), ("packets", p.packets), ("packets_lost", p.packetsLost),
                                      ("bitrate", p.bitrate), ("loss", p.loss), ("nacks", p.nacks), ("plis", p.plis)])),
                ("subscribers", Fields([("subscribers", s.subscribers), ("tracks", s.tracks), ("packets", s.packets),
                                        ("packets_lost", s.packetsLost), ("bitrate", s.bitrate), ("loss", s.loss),
                                        ("freezes", s.freezes), ("delay_ms_p50", s.delayMsP50), ("delay_ms_p95", s.delayMsP95)])),
            ], to: encoder)
        }
    }

    private struct Fields: Encodable {
        var fields: [(String, (any Encodable)?)]
        init(_ fields: [(String, (any Encodable)?)]) { self.fields = fields }
        func encode(to encoder: any Encoder) throws { try write(fields, to: encoder) }
    }
}
