/// One track of one bot over the whole run: the published or received track's totals.
public struct TrackTotals: Sendable, Equatable {
    public var run: String
    public var bot: String
    public var role: String?
    /// Totals: counters summed, `bitrate` the mean over the run, `loss` lost over expected,
    /// `elapsed_s` the track's duration, delay percentiles over the run.
    public var figures: TrackFigures
    /// Taken from the bot's `summary` line; false when computed from its `track` lines.
    public var fromSummary: Bool

    /// `bot 1012 receive video from 1001`, `bot 1001 send video (track 7bb5605f)`: how a miss
    /// names the track.
    public var label: String {
        let f = figures
        switch f.direction {
        case .receive:
            if let peer = f.peer { return "bot \(bot) receive \(f.kind) from \(peer)" }
            return "bot \(bot) receive \(f.kind) (track \(Self.shortID(f.track)))"
        case .send:
            return "bot \(bot) send \(f.kind) (track \(Self.shortID(f.track)))"
        }
    }

    /// The first 8 characters of an id (mediasoup ids are UUIDs).
    static func shortID(_ id: String) -> String {
        id.count > 8 ? String(id.prefix(8)) : id
    }
}

/// How per-interval figures add up to a track's totals.
enum TrackAggregation {
    /// Totals of a track's interval samples, in time order.
    static func totals(of samples: [TrackFigures]) -> TrackFigures? {
        guard var total = samples.first else { return nil }
        total.codec = samples.last(where: { $0.codec != nil })?.codec
        total.peer = samples.last(where: { $0.peer != nil })?.peer
        total.elapsedS = samples.compactMap(\.elapsedS).max()
        let intervals = samples.compactMap(\.intervalS)
        let duration = intervals.reduce(0, +)
        total.intervalS = intervals.isEmpty ? nil : duration
        total.packets = samples.saturatingSum(\.packets)
        total.bytes = samples.saturatingSum(\.bytes)
        total.packetsLost = samples.saturatingSum(\.packetsLost)
        total.nacks = samples.saturatingSum(\.nacks)
        total.plis = samples.saturatingSum(\.plis)
        total.firs = samples.saturatingSum(\.firs)
        total.retransmissions = samples.saturatingSum(\.retransmissions)
        total.retransmissionsDropped = samples.saturatingSum(\.retransmissionsDropped)
        total.layersPaused = samples.last?.layersPaused ?? 0
        total.frames = samples.saturatingSum(\.frames)
        total.keyFrames = samples.saturatingSum(\.keyFrames)
        total.freezes = samples.saturatingSum(\.freezes)
        let freezeMs = samples.compactMap(\.freezeMs)
        total.freezeMs = freezeMs.isEmpty ? nil : freezeMs.reduce(0, +)
        // The mean bitrate over the time covered: each interval's bitrate weighted by its length.
        let bits = samples.reduce(0.0) { sum, sample in
            guard let interval = sample.intervalS, interval > 0 else { return sum }
            return sum + (bitrate(of: sample) ?? 0) * interval
        }
        total.bitrate = duration > 0 ? bits / duration : nil
        total.loss = lossRatio(total)
        total.jitterMs = mean(samples.map { ($0.jitterMs, $0.intervalS ?? 1) })
        total.rttMs = mean(samples.map { ($0.rttMs, $0.intervalS ?? 1) })
        total.targetBitrate = samples.last(where: { $0.targetBitrate != nil })?.targetBitrate
        total.pacerDelayMs = mean(samples.map { ($0.pacerDelayMs, Double($0.packets)) })
        total.delayMsP50 = Percentile.weighted(samples.compactMap { s in s.delayMsP50.map { ($0, weight(s)) } }, 0.5)
        total.delayMsP95 = Percentile.weighted(samples.compactMap { s in s.delayMsP95.map { ($0, weight(s)) } }, 0.95)
        return total
    }

    /// A summary's totals with what a writer left out filled in from its counts.
    static func completed(_ figures: TrackFigures) -> TrackFigures {
        var figures = figures
        if figures.bitrate == nil { figures.bitrate = bitrate(of: figures) }
        if figures.loss == nil { figures.loss = lossRatio(figures) }
        return figures
    }

    /// The interval's bitrate as written, else from its bytes and length.
    static func bitrate(of figures: TrackFigures) -> Double? {
        if let bitrate = figures.bitrate { return bitrate }
        guard let interval = figures.intervalS, interval > 0 else { return nil }
        return Double(figures.bytes) * 8 / interval
    }

    /// Lost over expected. Received: the sequence numbers that never came, so expected is
    /// received + lost. Sent: the SFU's count of our packets it missed, out of those sent.
    /// Nil without any packet (nothing to measure).
    static func lossRatio(_ figures: TrackFigures) -> Double? {
        lossRatio(direction: figures.direction, lost: figures.packetsLost, packets: figures.packets)
    }

    static func lossRatio(direction: TrackDirection, lost: Int, packets: Int) -> Double? {
        switch direction {
        case .receive:
            // In Double: received + lost may pass Int.max in a hostile file.
            let expected = Double(max(packets, 0)) + Double(max(lost, 0))
            return expected > 0 ? Double(max(lost, 0)) / expected : nil
        case .send:
            return packets > 0 ? min(1, Double(max(lost, 0)) / Double(packets)) : nil
        }
    }

    /// How many frames an interval's delay percentiles stand for (at least one).
    static func weight(_ figures: TrackFigures) -> Double {
        Double(max(figures.frames, 1))
    }

    static func mean(_ items: [(Double?, Double)]) -> Double? {
        let present = items.compactMap { value, weight in value.map { ($0, max(weight, 0)) } }
        let total = present.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return present.isEmpty ? nil : present.map(\.0).reduce(0, +) / Double(present.count) }
        return present.reduce(0) { $0 + $1.0 * $1.1 } / total
    }
}
