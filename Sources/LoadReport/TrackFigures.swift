/// Which way a track flows: a publisher's producer (`send`) or a subscriber's consumer (`receive`).
public enum TrackDirection: String, Codable, Sendable, Hashable {
    case send
    case receive
}

/// The figures of one track, as in a `track` line (one interval) or in a `summary` line's
/// `tracks` (totals over the run); also what `FleetFigures` computes per track.
///
/// Readers are tolerant (docs/STATS.md: fields are only ever added): the identity fields
/// (`direction`, `kind`, `track`) are required, counters missing from a line read as 0, and
/// measurements missing or null read as nil ("not measured", never a made-up zero).
public struct TrackFigures: Codable, Sendable, Equatable {
    public var direction: TrackDirection
    /// `audio` or `video` (a string, so a future kind does not make the line unreadable).
    public var kind: String
    /// MIME type, e.g. `video/VP8`.
    @NullWhenNil public var codec: String?
    /// Producer id (send) or consumer id (receive).
    public var track: String
    /// Receive: the member who publishes the track.
    @NullWhenNil public var peer: String?
    @NullWhenNil public var elapsedS: Double?
    @NullWhenNil public var intervalS: Double?
    public var packets: Int
    public var bytes: Int
    /// Bits per second over the interval (or over the run, in totals).
    @NullWhenNil public var bitrate: Double?
    public var packetsLost: Int
    /// Fraction 0…1.
    @NullWhenNil public var loss: Double?
    @NullWhenNil public var jitterMs: Double?
    @NullWhenNil public var rttMs: Double?
    public var nacks: Int
    public var plis: Int
    public var firs: Int
    public var retransmissions: Int
    public var frames: Int
    public var keyFrames: Int
    public var freezes: Int
    @NullWhenNil public var freezeMs: Double?
    @NullWhenNil public var delayMsP50: Double?
    @NullWhenNil public var delayMsP95: Double?
    /// Send: the bitrate the congestion controller's target gives the track (null until it
    /// gave one).
    @NullWhenNil public var targetBitrate: Double?
    /// Send: the mean time the interval's packets waited in the pacer (null: none sent).
    @NullWhenNil public var pacerDelayMs: Double?
    /// Send: NACKed packets not resent because retransmissions were over their budget.
    public var retransmissionsDropped: Int
    /// Send: simulcast layers paused (the target does not fit them) at the end of the interval.
    public var layersPaused: Int

    public init(direction: TrackDirection, kind: String, codec: String? = nil, track: String, peer: String? = nil,
                elapsedS: Double? = nil, intervalS: Double? = nil, packets: Int = 0, bytes: Int = 0, bitrate: Double? = nil,
                packetsLost: Int = 0, loss: Double? = nil, jitterMs: Double? = nil, rttMs: Double? = nil,
                nacks: Int = 0, plis: Int = 0, firs: Int = 0, retransmissions: Int = 0, frames: Int = 0, keyFrames: Int = 0,
                freezes: Int = 0, freezeMs: Double? = nil, delayMsP50: Double? = nil, delayMsP95: Double? = nil,
                targetBitrate: Double? = nil, pacerDelayMs: Double? = nil, retransmissionsDropped: Int = 0, layersPaused: Int = 0) {
        self.direction = direction
        self.kind = kind
        self.codec = codec
        self.track = track
        self.peer = peer
        self.elapsedS = elapsedS
        self.intervalS = intervalS
        self.packets = packets
        self.bytes = bytes
        self.bitrate = bitrate
        self.packetsLost = packetsLost
        self.loss = loss
        self.jitterMs = jitterMs
        self.rttMs = rttMs
        self.nacks = nacks
        self.plis = plis
        self.firs = firs
        self.retransmissions = retransmissions
        self.frames = frames
        self.keyFrames = keyFrames
        self.freezes = freezes
        self.freezeMs = freezeMs
        self.delayMsP50 = delayMsP50
        self.delayMsP95 = delayMsP95
        self.targetBitrate = targetBitrate
        self.pacerDelayMs = pacerDelayMs
        self.retransmissionsDropped = retransmissionsDropped
        self.layersPaused = layersPaused
    }

    enum CodingKeys: String, CodingKey {
        case direction, kind, codec, track, peer
        case elapsedS = "elapsed_s", intervalS = "interval_s"
        case packets, bytes, bitrate
        case packetsLost = "packets_lost", loss
        case jitterMs = "jitter_ms", rttMs = "rtt_ms"
        case nacks, plis, firs, retransmissions, frames
        case keyFrames = "key_frames", freezes
        case freezeMs = "freeze_ms"
        case delayMsP50 = "delay_ms_p50", delayMsP95 = "delay_ms_p95"
        case targetBitrate = "target_bitrate", pacerDelayMs = "pacer_delay_ms"
        case retransmissionsDropped = "retransmissions_dropped", layersPaused = "layers_paused"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        direction = try c.decode(TrackDirection.self, forKey: .direction)
        kind = try c.decode(String.self, forKey: .kind)
        codec = try c.decodeIfPresent(String.self, forKey: .codec)
        track = try c.decodeIdentifier(forKey: .track)
        peer = try c.decodeIdentifierIfPresent(forKey: .peer)
        elapsedS = try c.decodeIfPresent(Double.self, forKey: .elapsedS)
        intervalS = try c.decodeIfPresent(Double.self, forKey: .intervalS)
        packets = try c.decodeIfPresent(Int.self, forKey: .packets) ?? 0
        bytes = try c.decodeIfPresent(Int.self, forKey: .bytes) ?? 0
        bitrate = try c.decodeIfPresent(Double.self, forKey: .bitrate)
        packetsLost = try c.decodeIfPresent(Int.self, forKey: .packetsLost) ?? 0
        loss = try c.decodeIfPresent(Double.self, forKey: .loss)
        jitterMs = try c.decodeIfPresent(Double.self, forKey: .jitterMs)
        rttMs = try c.decodeIfPresent(Double.self, forKey: .rttMs)
        nacks = try c.decodeIfPresent(Int.self, forKey: .nacks) ?? 0
        plis = try c.decodeIfPresent(Int.self, forKey: .plis) ?? 0
        firs = try c.decodeIfPresent(Int.self, forKey: .firs) ?? 0
        retransmissions = try c.decodeIfPresent(Int.self, forKey: .retransmissions) ?? 0
        frames = try c.decodeIfPresent(Int.self, forKey: .frames) ?? 0
        keyFrames = try c.decodeIfPresent(Int.self, forKey: .keyFrames) ?? 0
        freezes = try c.decodeIfPresent(Int.self, forKey: .freezes) ?? 0
        freezeMs = try c.decodeIfPresent(Double.self, forKey: .freezeMs)
        delayMsP50 = try c.decodeIfPresent(Double.self, forKey: .delayMsP50)
        delayMsP95 = try c.decodeIfPresent(Double.self, forKey: .delayMsP95)
        targetBitrate = try c.decodeIfPresent(Double.self, forKey: .targetBitrate)
        pacerDelayMs = try c.decodeIfPresent(Double.self, forKey: .pacerDelayMs)
        retransmissionsDropped = try c.decodeIfPresent(Int.self, forKey: .retransmissionsDropped) ?? 0
        layersPaused = try c.decodeIfPresent(Int.self, forKey: .layersPaused) ?? 0
    }
}
