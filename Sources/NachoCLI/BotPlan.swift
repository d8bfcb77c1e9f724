import Foundation
import LoadTest
import Participant
import SocketIO

/// What `nacho bots` will run: flags over the config file's `bots` over the environment, with
/// the member number and role of every bot.
struct BotPlan: Sendable {
    struct Member: Sendable, Equatable {
        var member: String
        var role: Bot.Role
    }

    var room: String
    var videoPublishers: Int
    var audioPublishers: Int
    var subscribers: Int
    var memberBase: Int
    var index: Int?
    var numPerSecond: Double
    var duration: Double?
    var stats: String?
    var expect: [String]
    var videoSource: String
    var audioSource: String
    var simulcast: Bool
    /// Where to serve live metrics, if anywhere.
    var metrics: MetricsAddress?
    var members: [Member]

    var count: Int { videoPublishers + audioPublishers + subscribers }

    init(command: BotsCommand, settings: ResolvedSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let file = settings.bots
        room = settings.room
        videoPublishers = command.videoPublishers ?? file.videoPublishers ?? 0
        audioPublishers = command.audioPublishers ?? file.audioPublishers ?? 0
        subscribers = command.subscribers ?? file.subscribers ?? 0
        guard videoPublishers + audioPublishers + subscribers > 0 else {
            throw NachoFailure(.usage, "no bots: give --video-publishers, --audio-publishers or --subscribers (or \"bots\" in the config file)")
        }
        for (name, value) in [("videoPublishers", videoPublishers), ("audioPublishers", audioPublishers), ("subscribers", subscribers)]
            where !(0...10_000).contains(value) {
            throw NachoFailure(.usage, "bots.\(name) must be between 0 and 10000")
        }
        let environmentBase = environment["NACHO_MEMBER_BASE"].map { text -> Int? in Int(text) }
        if let environmentBase, environmentBase == nil {
            throw NachoFailure(.usage, "NACHO_MEMBER_BASE must be a number")
        }
        memberBase = command.memberBase ?? environmentBase.flatMap { $0 } ?? file.memberBase ?? 1000
        let environmentIndex = environment["JOB_COMPLETION_INDEX"].map { text -> Int? in Int(text) }
        if let environmentIndex, environmentIndex == nil {
            throw NachoFailure(.usage, "JOB_COMPLETION_INDEX must be a number")
        }
        index = command.index ?? environmentIndex.flatMap { $0 } ?? file.index
        numPerSecond = command.numPerSecond ?? file.numPerSecond ?? 5
        duration = command.duration ?? file.duration
        guard BotFleet.joinRates.contains(numPerSecond) else {
            throw NachoFailure(.usage, "bots.numPerSecond must be between \(BotFleet.joinRates.lowerBound) and \(Int(BotFleet.joinRates.upperBound))")
        }
        if let duration, !(duration > 0 && duration <= 365 * 86400) {
            throw NachoFailure(.usage, "bots.duration must be positive (at most a year)")
        }
        guard memberBase >= 0, (index ?? 0) >= 0 else { throw NachoFailure(.usage, "member base and index must not be negative") }
        stats = command.stats ?? file.stats
        expect = command.expect.isEmpty ? (file.expect ?? []) : command.expect
        videoSource = command.videoSource ?? file.videoSource ?? "synthetic"
        audioSource = command.audioSource ?? file.audioSource ?? "synthetic"
        simulcast = command.simulcast ?? file.simulcast ?? true
        if let text = command.metrics ?? file.metrics {
            guard let address = MetricsAddress(text) else {
                throw NachoFailure(.usage, "bots.metrics must be HOST:PORT (for example 127.0.0.1:9464), not \(text)")
            }
            metrics = address
        }
        let total = videoPublishers + audioPublishers + subscribers
        let (first, overflow) = memberBase.addingReportingOverflow((index ?? 0).multipliedReportingOverflow(by: total).partialValue)
        guard !overflow, first <= Int(Int32.max) - total else { throw NachoFailure(.usage, "member numbers out of range") }
        var members: [Member] = []
        for (role, n) in [(Bot.Role.videoPublisher, videoPublishers), (.audioPublisher, audioPublishers), (.subscriber, subscribers)] {
            for _ in 0..<n { members.append(Member(member: String(first + members.count), role: role)) }
        }
        self.members = members
    }

    /// The plan, for `--dry-run`: a header, then one line per bot (or one JSON object).
    func describe(json: Bool) -> String {
        if json {
            let object: JSONValue = [
                "room": .string(room), "member_base": .int(memberBase), "index": index.map { .int($0) } ?? .null,
                "video_publishers": .int(videoPublishers), "audio_publishers": .int(audioPublishers), "subscribers": .int(subscribers),
                "num_per_second": .double(numPerSecond), "duration": duration.map { .double($0) } ?? .null,
                "video_source": .string(videoSource), "audio_source": .string(audioSource), "simulcast": .bool(simulcast),
                "stats": stats.map { .string($0) } ?? .null, "expect": .array(expect.map { .string($0) }),
                "metrics": metrics.map { .string($0.description) } ?? .null,
                "bots": .array(members.map { ["member": .string($0.member), "role": .string($0.role.rawValue)] }),
            ]
            return object.jsonText + "\n"
        }
        var lines = ["room \(room): \(count) bots, members \(members.first?.member ?? "-")…\(members.last?.member ?? "-"), "
            + "\(numPerSecond) joins/s, \(duration.map { "\($0) s" } ?? "until stopped")",
            "video \(videoSource)\(simulcast ? " (simulcast)" : ""), audio \(audioSource)"]
        if let stats { lines.append("stats \(stats)") }
        if let metrics { lines.append("metrics http://\(metrics)/metrics") }
        for expectation in expect { lines.append("expect \(expectation)") }
        for member in members {
            let source = member.role == .videoPublisher ? videoSource : member.role == .audioPublisher ? audioSource : "consumes every producer"
            lines.append("member \(member.member)\t\(member.role.rawValue)\t\(source)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
