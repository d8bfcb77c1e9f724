/// One track's figures over time, for the charts.
public struct TrackSeries: Sendable, Equatable {
    public var run: String
    public var bot: String
    public var direction: TrackDirection
    public var kind: String
    public var track: String
    public var peer: String?
    public var points: [SeriesPoint]

    /// A legend entry: `1001 video`, `1012 ← 1001 video`.
    public var label: String {
        switch direction {
        case .send: "\(bot) \(kind)"
        case .receive: "\(bot) ← \(peer ?? TrackTotals.shortID(track)) \(kind)"
        }
    }
}

/// One interval of a track. `t` is seconds since the earliest `time` in the report, so the
/// tracks of bots that joined at different moments (and machines) line up.
public struct SeriesPoint: Sendable, Equatable {
    public var t: Double
    public var bitrate: Double?
    public var loss: Double?
    public var packets: Int
    public var packetsLost: Int
    public var freezes: Int
    public var delayMsP50: Double?
    public var delayMsP95: Double?
    public var jitterMs: Double?

    public init(t: Double, bitrate: Double?, loss: Double?, packets: Int = 0, packetsLost: Int = 0, freezes: Int,
                delayMsP50: Double?, delayMsP95: Double?, jitterMs: Double?) {
        self.t = t
        self.bitrate = bitrate
        self.loss = loss
        self.packets = packets
        self.packetsLost = packetsLost
        self.freezes = freezes
        self.delayMsP50 = delayMsP50
        self.delayMsP95 = delayMsP95
        self.jitterMs = jitterMs
    }
}
