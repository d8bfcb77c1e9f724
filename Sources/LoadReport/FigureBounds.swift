/// The ranges a figure read from a file may take. A statistics file can come from anywhere
/// (a fleet's logs, a hand-edited file, a hostile one); a figure outside its range is clamped
/// into it and named in a warning (`FILE:LINE: field "packets": …`), so the report still
/// renders and its sums and charts stay within what `Int` and the charts can hold.
///
/// The bounds are far beyond any real run: 10^15 packets or bytes (a year at 30 Gbit/s),
/// 10^9 seconds (31 years), 10^12 ms.
enum FigureBounds {
    static let count = 0...1_000_000_000_000_000
    /// `packets_lost` may be negative: RTCP's cumulative loss drops below zero with duplicates.
    static let signedCount = -1_000_000_000_000_000...1_000_000_000_000_000
    static let seconds = 0.0...1e9
    static let bitrate = 0.0...1e15
    static let fraction = 0.0...1.0
    static let milliseconds = 0.0...1e12
    /// Delay is negative when the sender's clock is ahead of the receiver's.
    static let signedMilliseconds = -1e12...1e12
}

/// Clamps a record's figures into `FigureBounds`, noting each one it changed.
struct FigureCheck {
    var messages: [String] = []
    var path = ""

    mutating func count(_ value: inout Int, _ name: String, _ range: ClosedRange<Int> = FigureBounds.count) {
        guard !range.contains(value) else { return }
        let clamped = min(max(value, range.lowerBound), range.upperBound)
        messages.append("field \"\(path)\(name)\": \(value) is out of range, read as \(clamped)")
        value = clamped
    }

    mutating func count(_ value: inout Int?, _ name: String, _ range: ClosedRange<Int> = FigureBounds.count) {
        guard var present = value else { return }
        count(&present, name, range)
        value = present
    }

    /// A number that is not finite is read as not measured (JSON has none, but a decoder may
    /// round a huge exponent to infinity).
    mutating func measure(_ value: inout Double?, _ name: String, _ range: ClosedRange<Double>) {
        guard let present = value, !range.contains(present) else { return }
        let clamped: Double? = present.isNaN ? nil : min(max(present, range.lowerBound), range.upperBound)
        messages.append("field \"\(path)\(name)\": \(present) is out of range, read as \(clamped.map { "\($0)" } ?? "not measured")")
        value = clamped
    }
}

extension StatsRecord {
    /// The record with every figure within `FigureBounds`, and a sentence per figure clamped.
    func bounded() -> (record: StatsRecord, warnings: [String]) {
        var check = FigureCheck()
        switch self {
        case .run(var line):
            if var plan = line.plan {
                check.count(&plan.videoPublishers, "plan.video_publishers")
                check.count(&plan.audioPublishers, "plan.audio_publishers")
                check.count(&plan.subscribers, "plan.subscribers")
                check.measure(&plan.numPerSecond, "plan.num_per_second", FigureBounds.bitrate)
                check.measure(&plan.duration, "plan.duration", FigureBounds.seconds)
                line.plan = plan
            }
            return (.run(line), check.messages)
        case .track(var line):
            line.figures.bound(&check)
            return (.track(line), check.messages)
        case .summary(var line):
            check.count(&line.joinAttempts, "join_attempts")
            check.measure(&line.joinMs, "join_ms", FigureBounds.milliseconds)
            check.count(&line.reconnections, "reconnections")
            for index in line.tracks.indices {
                check.path = "tracks[\(index)]."
                line.tracks[index].bound(&check)
            }
            return (.summary(line), check.messages)
        case .end(var line):
            check.count(&line.bots, "bots")
            check.count(&line.joined, "joined")
            return (.end(line), check.messages)
        }
    }
}

extension TrackFigures {
    mutating func bound(_ check: inout FigureCheck) {
        check.measure(&elapsedS, "elapsed_s", FigureBounds.seconds)
        check.measure(&intervalS, "interval_s", FigureBounds.seconds)
        check.count(&packets, "packets")
        check.count(&bytes, "bytes")
        check.measure(&bitrate, "bitrate", FigureBounds.bitrate)
        check.count(&packetsLost, "packets_lost", FigureBounds.signedCount)
        check.measure(&loss, "loss", FigureBounds.fraction)
        check.measure(&jitterMs, "jitter_ms", FigureBounds.milliseconds)
        check.measure(&rttMs, "rtt_ms", FigureBounds.milliseconds)
        check.count(&nacks, "nacks")
        check.count(&plis, "plis")
        check.count(&firs, "firs")
        check.count(&retransmissions, "retransmissions")
        check.count(&frames, "frames")
        check.count(&keyFrames, "key_frames")
        check.count(&freezes, "freezes")
        check.measure(&freezeMs, "freeze_ms", FigureBounds.milliseconds)
        check.measure(&delayMsP50, "delay_ms_p50", FigureBounds.signedMilliseconds)
        check.measure(&delayMsP95, "delay_ms_p95", FigureBounds.signedMilliseconds)
        check.measure(&targetBitrate, "target_bitrate", FigureBounds.bitrate)
        check.measure(&pacerDelayMs, "pacer_delay_ms", FigureBounds.milliseconds)
        check.count(&retransmissionsDropped, "retransmissions_dropped")
        check.count(&layersPaused, "layers_paused")
    }
}
