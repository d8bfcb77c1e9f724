/// The published tracks added up: the total row of the table and of the JSON summary.
public struct PublishedTotals: Sendable, Equatable {
    public var tracks: Int
    public var packets: Int
    public var packetsLost: Int
    /// Bits per second, all tracks together.
    public var bitrate: Double
    public var loss: Double?
    public var nacks: Int
    public var plis: Int

    public init(_ published: [TrackTotals]) {
        let figures = published.map(\.figures)
        tracks = figures.count
        packets = figures.saturatingSum(\.packets)
        packetsLost = figures.saturatingSum(\.packetsLost)
        bitrate = figures.reduce(0) { $0 + ($1.bitrate ?? 0) }
        loss = TrackAggregation.lossRatio(direction: .send, lost: packetsLost, packets: packets)
        nacks = figures.saturatingSum(\.nacks)
        plis = figures.saturatingSum(\.plis)
    }

}

/// The subscribers added up.
public struct SubscriberTotals: Sendable, Equatable {
    public var subscribers: Int
    public var tracks: Int
    public var packets: Int
    public var packetsLost: Int
    /// Bits per second in, all subscribers together.
    public var bitrate: Double
    public var loss: Double?
    public var freezes: Int
    public var delayMsP50: Double?
    public var delayMsP95: Double?

    public init(_ subscribers: [SubscriberFigures]) {
        self.subscribers = subscribers.count
        tracks = subscribers.saturatingSum(\.tracks.count)
        packets = subscribers.saturatingSum(\.packets)
        packetsLost = subscribers.saturatingSum(\.packetsLost)
        bitrate = subscribers.reduce(0) { $0 + $1.bitrate }
        loss = TrackAggregation.lossRatio(direction: .receive, lost: packetsLost, packets: packets)
        freezes = subscribers.saturatingSum(\.freezes)
        let figures = subscribers.flatMap(\.tracks).map(\.figures)
        delayMsP50 = Percentile.weighted(figures.compactMap { f in f.delayMsP50.map { ($0, TrackAggregation.weight(f)) } }, 0.5)
        delayMsP95 = Percentile.weighted(figures.compactMap { f in f.delayMsP95.map { ($0, TrackAggregation.weight(f)) } }, 0.95)
    }

}
