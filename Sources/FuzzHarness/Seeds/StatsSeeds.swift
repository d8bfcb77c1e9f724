import Foundation
import LoadReport

/// Statistics files as `nacho bots --stats` writes them (`StatsRecord.jsonLine`), as log
/// collectors gather them (prefixes, merged logs), and the hostile lines of issue 14.
extension StatsReportHarness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let room = smallRoom()
        let file = room.joined(separator: "\n") + "\n"
        let kubectl = room.map { "[pod/nacho-bots-0-x7k/bots] 2025-06-15T12:00:01.123456789Z \($0)" }.joined(separator: "\n")
        let compose = room.map { "bots-1  | \($0)" }.joined(separator: "\n")
        let merged = room.prefix(4).joined(separator: "\n") + """

            2025-06-15T12:00:01+0000 warning nacho : member=1003 [Participant] consume refused: {"type":"end","run":"r1","bots":1}
            2025-06-15T12:00:02+0000 info nacho : leaving
            {"type":"heartbeat","run":"r1"}
            {"type":"track","run":"r1","bot":"1","direction":"sideways","kind":"video","track":"t"}

            """ + room.dropFirst(4).joined(separator: "\r\n")
        let hostile = """
            {"type":"run","run":"r9","plan":{"video_publishers":9223372036854775807,"audio_publishers":1,"subscribers":1}}
            {"type":"track","run":"r9","bot":"1","direction":"receive","kind":"video","track":"c","packets":9223372036854775807,"packets_lost":1}
            {"type":"track","run":"r9","bot":"1","direction":"receive","kind":"video","track":"c","elapsed_s":1e300,"delay_ms_p95":5e-324}
            {"type":"summary","run":"r9","bot":"2","joined":false,"reconnections":9223372036854775807,"tracks":[{"direction":"send","kind":"audio","track":"p","packets":-5,"loss":7}]}
            {"type":"end","run":"r9","bots":9223372036854775807,"joined":-9223372036854775808}

            """
        return [file, kubectl, compose, merged, hostile].map { Array($0.utf8) }
    }

    /// One run: a video and an audio publisher, two subscribers, two seconds, summaries, end
    /// (small: each byte of a seed is a byte every mutation of it carries).
    private static func smallRoom() -> [String] {
        func time(_ second: Int) -> String { "2025-06-15T12:00:0\(second).000Z" }
        var records: [StatsRecord] = [.run(RunLine(
            run: "r1", time: time(0), room: "42", host: "h1", index: 0, memberBase: 1001,
            plan: RunPlan(videoPublishers: 1, audioPublishers: 1, subscribers: 2, numPerSecond: 5, duration: 3,
                          videoSource: "synthetic", audioSource: "synthetic", simulcast: false), version: "0.1.0"))]
        var totals: [String: [TrackFigures]] = [:]
        for second in 1...2 {
            let video = TrackFigures(direction: .send, kind: "video", codec: "video/VP8", track: "p-video", elapsedS: Double(second),
                                     intervalS: 1, packets: 90, bytes: 100_000, bitrate: 800_000, loss: 0, jitterMs: 2, rttMs: 20,
                                     nacks: 1, frames: 30, keyFrames: second == 1 ? 1 : 0)
            let audio = TrackFigures(direction: .send, kind: "audio", codec: "audio/opus", track: "p-audio", elapsedS: Double(second),
                                     intervalS: 1, packets: 50, bytes: 4000, bitrate: 32_000, loss: 0, jitterMs: 1, rttMs: 20, frames: 50)
            records.append(.track(TrackLine(run: "r1", time: time(second), bot: "1001", role: "video_publisher", figures: video)))
            records.append(.track(TrackLine(run: "r1", time: time(second), bot: "1002", role: "audio_publisher", figures: audio)))
            totals["1001", default: []].append(video)
            totals["1002", default: []].append(audio)
            for bot in ["1003", "1004"] {
                let lost = bot == "1004" ? 3 : 0
                for (sent, peer) in [(video, "1001"), (audio, "1002")] {
                    var got = sent
                    got.direction = .receive
                    got.track = "c-\(bot)-\(sent.kind)"
                    got.peer = peer
                    got.packets = sent.packets - lost
                    got.packetsLost = lost
                    got.loss = Double(lost) / Double(sent.packets)
                    got.rttMs = nil
                    got.jitterMs = 4
                    got.freezes = sent.kind == "video" && second == 2 && bot == "1004" ? 1 : 0
                    got.freezeMs = Double(got.freezes) * 400
                    got.delayMsP50 = 40
                    got.delayMsP95 = bot == "1004" ? 420 : 80
                    records.append(.track(TrackLine(run: "r1", time: time(second), bot: bot, role: "subscriber", figures: got)))
                    totals[bot, default: []].append(got)
                }
            }
        }
        for (bot, role) in [("1001", "video_publisher"), ("1002", "audio_publisher"), ("1003", "subscriber"), ("1004", "subscriber")] {
            // The last second's figures stand in for the totals: a seed needs their shape, not their sums.
            let tracks = Dictionary(grouping: totals[bot] ?? [], by: \.track).values.compactMap(\.last).sorted { $0.track < $1.track }
            records.append(.summary(SummaryLine(run: "r1", time: time(4), bot: bot, role: role, joined: true, joinAttempts: 1,
                                                joinMs: 120, reconnections: 0, tracks: tracks)))
        }
        records.append(.summary(SummaryLine(run: "r1", time: time(4), bot: "1005", role: "subscriber", joined: false, joinAttempts: 3,
                                            error: "edge join: no answer within 10 s")))
        records.append(.end(EndLine(run: "r1", time: time(4), bots: 5, joined: 4,
                                    expectations: [ExpectationRecord(expect: "joined=all", met: false, missed: ["1005"])], passed: false)))
        return records.compactMap { try? $0.jsonLine() }
    }
}
