import Foundation
import Participant

/// The end of a bots run: the expectations checked and the summary tables.
/// (Interim: replaced by LoadReport's aggregation once it lands.)
struct BotVerdict {
    struct Result {
        var expression: String
        var met: Bool
        var misses: [String]
    }

    var results: [Result] = []
    var outcomes: [BotFleet.Outcome]

    var passed: Bool { results.allSatisfy(\.met) }

    init(plan: BotPlan, outcomes: [BotFleet.Outcome]) throws {
        self.outcomes = outcomes
        guard plan.expect.isEmpty else { throw NachoFailure(.usage, "bots: --expect is not available in this build yet") }
    }

    func render(json: Bool) -> String {
        outcomes.map { outcome in
            let bitrate = outcome.tracks.reduce(0) { $0 + $1.bitrate }
            return "bot \(outcome.bot.member)\t\(outcome.bot.role.rawValue)\t\(outcome.joining.joined ? "joined" : "not joined")\t\(outcome.tracks.count) tracks\t\(bitrate / 1000) kb/s"
        }.joined(separator: "\n") + "\n"
    }
}
