import Foundation

/// Where a participant's live media halves can be asked for their track figures: the receive
/// and send sides register while their transport lives.
/// Unchecked because of its two fields; sound because both are read and written under `lock`
/// only. An NSLock, not `Synchronization.Mutex`: a bot's sampling and its halves retiring
/// contend for it, and on Linux ThreadSanitizer does not see Mutex's (futex) ordering.
public final class TrackStatsRegistry: @unchecked Sendable {
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
