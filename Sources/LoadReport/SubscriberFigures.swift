/// One receiving bot over the run: what it got from everyone, added up over its tracks.
public struct SubscriberFigures: Sendable, Equatable {
    public var run: String
    public var bot: String
    public var role: String?
    /// Its received tracks.
    public var tracks: [TrackTotals]
    /// Bits per second in, all tracks together.
    public var bitrate: Double
    public var packets: Int
    public var packetsLost: Int
    /// Lost over expected, all tracks together; nil without any packet.
    public var loss: Double?
    /// Video freezes, all tracks together.
    public var freezes: Int
    public var freezeMs: Double
    /// Percentiles over its tracks' (see `Percentile`: p95 leans high).
    public var delayMsP50: Double?
    public var delayMsP95: Double?
    /// Mean jitter over its tracks.
    public var jitterMs: Double?

    public init(run: String, bot: String, role: String?, tracks: [TrackTotals]) {
        self.run = run
        self.bot = bot
        self.role = role
        self.tracks = tracks
        let figures = tracks.map(\.figures)
        bitrate = figures.reduce(0) { $0 + ($1.bitrate ?? 0) }
        packets = figures.saturatingSum(\.packets)
        packetsLost = figures.saturatingSum(\.packetsLost)
        loss = TrackAggregation.lossRatio(direction: .receive, lost: packetsLost, packets: packets)
        freezes = figures.saturatingSum(\.freezes)
        freezeMs = figures.reduce(0) { $0 + ($1.freezeMs ?? 0) }
        delayMsP50 = Percentile.weighted(figures.compactMap { f in f.delayMsP50.map { ($0, TrackAggregation.weight(f)) } }, 0.5)
        delayMsP95 = Percentile.weighted(figures.compactMap { f in f.delayMsP95.map { ($0, TrackAggregation.weight(f)) } }, 0.95)
        jitterMs = TrackAggregation.mean(figures.map { ($0.jitterMs, 1) })
    }

    /// The same bot with only its tracks of one kind (`video`, `audio`); all for nil.
    public func only(kind: String?) -> SubscriberFigures {
        guard let kind else { return self }
        return SubscriberFigures(run: run, bot: bot, role: role, tracks: tracks.filter { $0.figures.kind == kind })
    }
}
