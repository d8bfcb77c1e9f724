import Foundation
@testable import LoadReport

/// A small room in statistics: 1001 publishes video, 1002 audio, 1003…1005 subscribe to both,
/// for `seconds` one-second intervals. Tweaks make one figure bad for one bot.
struct StatsFixture {
    var run = "run-a"
    var seconds = 5
    var subscribers = ["1003", "1004", "1005"]
    var start = Date(timeIntervalSince1970: 1_750_000_000)
    /// Fraction lost per subscriber (both tracks).
    var loss: [String: Double] = [:]
    /// Freezes per subscriber in the third second.
    var freezes: [String: Int] = [:]
    /// Delay p95 per subscriber.
    var delayP95: [String: Double] = [:]
    var videoBitrate = 800_000.0
    var audioBitrate = 32_000.0
    var withSummaries = true

    static let videoID = "7bb5605f-1111-4c1e-9d1a-000000000001"
    static let audioID = "a0d10000-2222-4c1e-9d1a-000000000002"

    func time(_ second: Int) -> String {
        Date(timeInterval: Double(second), since: start).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    func sendFigures(kind: String, second: Int) -> TrackFigures {
        let bitrate = kind == "video" ? videoBitrate : audioBitrate
        let packets = kind == "video" ? 90 : 50
        return TrackFigures(direction: .send, kind: kind, codec: kind == "video" ? "video/VP8" : "audio/opus",
                            track: kind == "video" ? Self.videoID : Self.audioID, elapsedS: Double(second + 1), intervalS: 1,
                            packets: packets, bytes: Int(bitrate / 8), bitrate: bitrate, packetsLost: 0, loss: 0, jitterMs: 2,
                            rttMs: 20, nacks: kind == "video" ? 1 : 0, plis: second == 0 && kind == "video" ? 1 : 0,
                            frames: kind == "video" ? 30 : 50, keyFrames: second == 0 && kind == "video" ? 1 : 0)
    }

    func receiveFigures(bot: String, kind: String, second: Int) -> TrackFigures {
        let sent = sendFigures(kind: kind, second: second)
        let fraction = loss[bot] ?? 0
        let lost = Int((Double(sent.packets) * fraction).rounded())
        let received = sent.packets - lost
        let video = kind == "video"
        return TrackFigures(direction: .receive, kind: kind, codec: sent.codec, track: "c-\(bot)-\(kind)", peer: video ? "1001" : "1002",
                            elapsedS: Double(second + 1), intervalS: 1, packets: received, bytes: sent.bytes * received / sent.packets,
                            bitrate: (sent.bitrate ?? 0) * Double(received) / Double(sent.packets), packetsLost: lost,
                            loss: Double(lost) / Double(sent.packets), jitterMs: 4, nacks: lost > 0 ? 1 : 0, frames: sent.frames,
                            freezes: video && second == 2 ? freezes[bot] ?? 0 : 0, freezeMs: video && second == 2 ? Double(freezes[bot] ?? 0) * 400 : 0,
                            delayMsP50: 40, delayMsP95: delayP95[bot] ?? 80)
    }

    var records: [StatsRecord] {
        var records: [StatsRecord] = [.run(RunLine(
            run: run, time: time(0), room: "42", host: "host-\(run)", index: 0, memberBase: 1001,
            plan: RunPlan(videoPublishers: 1, audioPublishers: 1, subscribers: subscribers.count, numPerSecond: 10, duration: Double(seconds),
                          videoSource: "synthetic", audioSource: "synthetic", simulcast: false), version: "0.1.0"))]
        for second in 0..<seconds {
            records.append(.track(TrackLine(run: run, time: time(second + 1), bot: "1001", role: "video_publisher", figures: sendFigures(kind: "video", second: second))))
            records.append(.track(TrackLine(run: run, time: time(second + 1), bot: "1002", role: "audio_publisher", figures: sendFigures(kind: "audio", second: second))))
            for bot in subscribers {
                for kind in ["video", "audio"] {
                    records.append(.track(TrackLine(run: run, time: time(second + 1), bot: bot, role: "subscriber",
                                                    figures: receiveFigures(bot: bot, kind: kind, second: second))))
                }
            }
        }
        if withSummaries {
            let bots = [("1001", "video_publisher"), ("1002", "audio_publisher")] + subscribers.map { ($0, "subscriber") }
            for (bot, role) in bots {
                let tracks = records.compactMap { record -> TrackFigures? in
                    if case .track(let line) = record, line.bot == bot { return line.figures }
                    return nil
                }
                let byTrack = Dictionary(grouping: tracks, by: \.track).values.compactMap { TrackAggregation.totals(of: $0) }
                    .sorted { $0.track < $1.track }
                records.append(.summary(SummaryLine(run: run, time: time(seconds + 1), bot: bot, role: role, joined: true, joinAttempts: 1,
                                                    joinMs: 120, reconnections: 0, tracks: byTrack)))
            }
        }
        records.append(.end(EndLine(run: run, time: time(seconds + 1), bots: 2 + subscribers.count, joined: 2 + subscribers.count, passed: true)))
        return records
    }

    /// The records as a JSON-lines file.
    var jsonLines: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return records.compactMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined()
    }

    var report: FleetFigures { FleetFigures(records: records) }
}
