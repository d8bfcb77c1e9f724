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
    public var frames = 0
    public var keyFrames = 0
    public var freezes = 0
    public var freezeSeconds = 0.0
    public var delays: [Double] = []
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

/// Where a participant's live media halves can be asked for their track figures: the receive
/// and send sides register while their transport lives.
/// Unchecked because of its two fields; sound because both are read and written under `lock`
/// only. An NSLock, not `Synchronization.Mutex`: a bot's sampling and its halves retiring
/// contend for it, and on Linux ThreadSanitizer does not see Mutex's (futex) ordering.
public final class MediaProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var halves: [ObjectIdentifier: any StatsSource] = [:]
    /// The last figures of halves that ended, for the next snapshot.
    private var retired: [TrackStats] = []

    public init() {}

    func register(_ source: any StatsSource) {
        lock.withLock { halves[ObjectIdentifier(source)] = source }
    }

    /// A half ended (its media stopped): its last figures are kept for the next snapshot, so
    /// what it received or sent since the previous one still counts.
    func retire(_ source: any StatsSource) async {
        var last = await source.trackStats()
        for index in last.indices { last[index].ended = true }
        lock.withLock {
            retired += last
            _ = halves.removeValue(forKey: ObjectIdentifier(source))
        }
    }

    /// The tracks of every live half, and the last figures of those that ended since.
    public func snapshot() async -> [TrackStats] {
        var all: [TrackStats] = []
        for source in lock.withLock({ Array(halves.values) }) { all += await source.trackStats() }
        return lock.withLock {
            defer { retired.removeAll() }
            return retired + all
        }
    }
}

protocol StatsSource: AnyObject, Sendable {
    func trackStats() async -> [TrackStats]
}
