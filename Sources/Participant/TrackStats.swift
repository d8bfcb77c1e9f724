import Foundation
import ORTC

/// The running figures of one track a participant sends or receives, cumulative since its
/// transport started (a reconnect starts new tracks), for load-test statistics. Gauges
/// (jitter, RTT) are the latest; `delays` holds the end-to-end delay samples (seconds) taken
/// since the previous snapshot.
public struct TrackStats: Sendable, Equatable {
    public enum Direction: String, Sendable { case send, receive }

    public var direction: Direction
    public var kind: MediaKind
    public var codec: String
    /// Producer id (send) or consumer id (receive).
    public var track: String
    /// Receive: the member who publishes it.
    public var peer: String?
    public var packets = 0
    public var bytes = 0
    /// Receive: missing sequence numbers; send: as the SFU's receiver reports say.
    public var packetsLost = 0
    /// Receive: packets expected (for the loss fraction); send: packets sent.
    public var packetsExpected = 0
    public var jitterSeconds: Double?
    public var rttSeconds: Double?
    public var nacks = 0
    public var plis = 0
    public var firs = 0
    public var retransmissions = 0
    /// Send: NACKed packets not resent because retransmissions were over their budget.
    public var retransmissionsDropped = 0
    /// Send: time the packets sent waited in the pacer, summed, and how many were sent
    /// through it (the mean is their quotient).
    public var pacerDelaySeconds = 0.0
    public var pacedPackets = 0
    /// Send: the bitrate the congestion controller's target gives a video track (its active
    /// layers summed); nil until the controller gave a target, and for audio (not targeted).
    public var targetBitrate: Int?
    /// Send: simulcast layers paused because the target does not fit them.
    public var layersPaused = 0
    public var frames = 0
    public var keyFrames = 0
    public var freezes = 0
    public var freezeSeconds = 0.0
    public var delays: [Double] = []
    /// When the counters were read (`MediaClock` seconds), on the event loop that owns them.
    /// Rates divide by the time between two readings, not between two samplers' rounds, which
    /// a busy event loop can make late; nil when unknown.
    public var sampledAt: Double?
    /// The track is over (its consumer closed, its half stopped): these are its last figures,
    /// and whoever keeps per-track state may let it go.
    public var ended = false

    public init(direction: Direction, kind: MediaKind, codec: String, track: String, peer: String? = nil) {
        self.direction = direction
        self.kind = kind
        self.codec = codec
        self.track = track
        self.peer = peer
    }
}
