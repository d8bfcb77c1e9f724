/// One unit (a track, a subscriber, the fleet) that missed an expectation.
public struct ExpectationMiss: Sendable, Equatable {
    /// The bots it is about (one for a track or subscriber; the bots that did not join for
    /// `joined`).
    public var bots: [String]
    /// The track, for per-track figures.
    public var track: String?
    /// `expectation loss<2% missed: bot 1012 receive video from 1001: loss 3.4 %`.
    public var line: String

}

/// What one expectation found.
public struct ExpectationOutcome: Sendable, Equatable {
    public var expectation: Expectation
    /// How many units it checked (tracks, subscribers, or 1 for the fleet).
    public var checked: Int
    public var misses: [ExpectationMiss]

    public var met: Bool { misses.isEmpty }

    /// The bots that missed it, each once, in member order.
    public var missedBots: [String] {
        Array(Set(misses.flatMap(\.bots))).sorted { FleetFigures.memberOrder($0, "", $1, "") }
    }

    /// One line for a met expectation (`expectation loss<2% met: 12 tracks`); the misses'
    /// own lines otherwise.
    public var lines: [String] {
        guard met else { return misses.map(\.line) }
        let what: String
        switch expectation.metric.level {
        case .fleet: what = "all runs"
        case .track: what = checked == 1 ? "1 track" : "\(checked) tracks"
        case .subscriber: what = checked == 1 ? "1 subscriber" : "\(checked) subscribers"
        }
        return ["expectation \(expectation.text) met: \(what)"]
    }

    /// As the `end` line and `--json` write it.
    public var record: ExpectationRecord {
        ExpectationRecord(expect: expectation.text, met: met, missed: missedBots, misses: misses.map(\.line))
    }
}
