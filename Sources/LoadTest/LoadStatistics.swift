import LoadReport
import Participant
/// What a load test reports per bot and track (docs/STATS.md): the figures of each interval
/// (about a second) from the bots' cumulative track figures, and the totals of the run.
/// Pure: snapshots and times in, records out.
public struct LoadStatistics: Sendable {
    /// One track of one bot over an interval (or over the whole run, for summaries): the
    /// figures exactly as a statistics line carries them (`LoadReport.TrackFigures`, the one
    /// type that both writes and reads them), and whose they are.
    @dynamicMemberLookup
    public struct Record: Sendable, Equatable {
        public var bot: String
        public var role: Bot.Role
        public var figures: TrackFigures
        /// The interval's end-to-end delay samples (seconds), for live metrics; statistics
        /// lines carry only their percentiles.
        public var delaySamples: [Double] = []

        public subscript<T>(dynamicMember path: WritableKeyPath<TrackFigures, T>) -> T {
            get { figures[keyPath: path] }
            set { figures[keyPath: path] = newValue }
        }
    }

    /// Delays in milliseconds: 1 ms buckets to 2 s, then 10 ms buckets to 20 s. Only the
    /// buckets that got a sample are held (sorted): a track's delays fill a few hundred of the
    /// 3,800, and every live track of every bot has one, so a dense table (30 kB) would be most
    /// of a subscriber bot's memory.
    public struct DelayHistogram: Sendable, Equatable {
        /// 8 bytes: a track whose delays spread over 2 s holds a thousand of them.
        private struct Bin: Sendable, Equatable {
            var bucket: UInt16
            /// Saturates (never reached: a year of 50 samples a second in one bucket is 1.6e9).
            var count: UInt32
        }

        private static let fineBuckets = 2000
        private static let coarseBuckets = 1800
        private var bins: [Bin] = []
        public private(set) var count = 0

        public init() {}

        /// Samples at or past the last bucket (20 s): counted, never given a value.
        public private(set) var outOfRange = 0

        /// Buckets holding at least one sample (what the histogram keeps).
        public var bucketsHeld: Int { bins.count }

        public mutating func add(_ milliseconds: Double) {
            guard milliseconds.isFinite else { return }
            let ms = max(0, milliseconds)
            // Compared before any Int conversion: a hostile sender report can make a delay
            // of 1e300 ms, which Int() would trap on.
            let bucket: Int
            if ms < 2000 {
                bucket = Int(ms)
            } else if ms < 20_000 {
                bucket = Self.fineBuckets + min(Int((ms - 2000) / 10), Self.coarseBuckets - 1)
            } else {
                outOfRange += 1
                count += 1
                return
            }
            count += 1
            let key = UInt16(bucket)  // below 3800
            // Binary search for the first bin at or past the bucket.
            var low = 0, high = bins.count
            while low < high {
                let middle = (low + high) / 2
                if bins[middle].bucket < key { low = middle + 1 } else { high = middle }
            }
            if low < bins.count, bins[low].bucket == key {
                if bins[low].count < UInt32.max { bins[low].count += 1 }
            } else {
                bins.insert(Bin(bucket: key, count: 1), at: low)
            }
        }

        /// The delay below which `fraction` of the samples lie; nil without samples, and nil
        /// when that rank lies past the histogram's range (unknown, not its 20 s bound).
        public func percentile(_ fraction: Double) -> Double? {
            guard count > 0 else { return nil }
            let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
            var seen = 0
            for bin in bins {
                seen += Int(bin.count)
                guard seen >= rank else { continue }
                let bucket = Int(bin.bucket)
                return bucket < Self.fineBuckets ? Double(bucket) + 0.5 : 2000 + Double(bucket - Self.fineBuckets) * 10 + 5
            }
            return nil
        }
    }

    private struct Key: Hashable {
        var bot: String
        var track: String
    }

    private struct Previous {
        var stats: TrackStats
        var at: Double
    }

    private struct Total {
        var record: Record
        var firstSeen: Double
        var lastSeen: Double
        /// The run's delay samples while the track lives; nil once it ended, when its
        /// percentiles are kept in `record` and the histogram is let go.
        var histogram: DelayHistogram? = DelayHistogram()
    }

    private var previous: [Key: Previous] = [:]
    private var totals: [Key: Total] = [:]
    /// Bots in the order they were first seen, and their tracks in order.
    private var order: [Key] = []

    public init() {}

    /// The intervals since the previous snapshot of each of the bot's tracks (a track seen for
    /// the first time counts from its start, `joinedAt`). Times are `MediaClock` seconds; an
    /// interval ends when the track's counters were read (`sampledAt`), `now` when unknown.
    public mutating func record(bot: String, role: Bot.Role, tracks: [TrackStats], now sampledNow: Double, joinedAt: Double)
        -> [Record] {
        var out: [Record] = []
        for stats in tracks {
            let key = Key(bot: bot, track: stats.track)
            let before = previous[key]
            let since = before?.at ?? joinedAt
            let now = stats.sampledAt ?? sampledNow
            let interval = max(now - since, 0.001)
            var record = Record(bot: bot, role: role, figures: TrackFigures(
                direction: stats.direction == .send ? .send : .receive, kind: stats.kind.rawValue, codec: stats.codec,
                track: stats.track, peer: stats.peer, elapsedS: now - joinedAt, intervalS: interval))
            let old = before?.stats
            record.packets = stats.packets - (old?.packets ?? 0)
            record.bytes = stats.bytes - (old?.bytes ?? 0)
            record.bitrate = (Double(record.bytes) * 8 / interval).rounded()
            record.packetsLost = max(0, stats.packetsLost - (old?.packetsLost ?? 0))
            let expected = stats.packetsExpected - (old?.packetsExpected ?? 0)
            record.loss = expected > 0 ? min(1, Double(record.packetsLost) / Double(expected)) : 0
            record.jitterMs = stats.jitterSeconds.map { $0 * 1000 }
            record.rttMs = stats.rttSeconds.map { $0 * 1000 }
            record.nacks = stats.nacks - (old?.nacks ?? 0)
            record.plis = stats.plis - (old?.plis ?? 0)
            record.firs = stats.firs - (old?.firs ?? 0)
            record.retransmissions = stats.retransmissions - (old?.retransmissions ?? 0)
            record.retransmissionsDropped = stats.retransmissionsDropped - (old?.retransmissionsDropped ?? 0)
            record.targetBitrate = stats.targetBitrate.map(Double.init)
            record.layersPaused = stats.layersPaused
            let paced = stats.pacedPackets - (old?.pacedPackets ?? 0)
            record.pacerDelayMs = paced > 0 ? (stats.pacerDelaySeconds - (old?.pacerDelaySeconds ?? 0)) / Double(paced) * 1000 : nil
            record.frames = stats.frames - (old?.frames ?? 0)
            record.keyFrames = stats.keyFrames - (old?.keyFrames ?? 0)
            record.freezes = stats.freezes - (old?.freezes ?? 0)
            record.freezeMs = (stats.freezeSeconds - (old?.freezeSeconds ?? 0)) * 1000
            record.delaySamples = stats.delays
            var histogram = DelayHistogram()
            for delay in stats.delays { histogram.add(delay * 1000) }
            record.delayMsP50 = histogram.percentile(0.5)
            record.delayMsP95 = histogram.percentile(0.95)
            // An ended track reports no more: only its small total stays.
            previous[key] = stats.ended ? nil : Previous(stats: stats, at: now)
            accumulate(key, record, stats: stats, delays: stats.delays, now: now, since: since)
            out.append(record)
        }
        return out
    }

    private mutating func accumulate(_ key: Key, _ record: Record, stats: TrackStats, delays: [Double], now: Double, since: Double) {
        var total = totals[key] ?? {
            order.append(key)
            var first = record
            first.packets = 0
            first.bytes = 0
            first.delaySamples = []
            return Total(record: first, firstSeen: since, lastSeen: since)
        }()
        total.lastSeen = now
        total.record.packets = stats.packets
        total.record.bytes = stats.bytes
        total.record.packetsLost = stats.packetsLost
        total.record.loss = stats.packetsExpected > 0 ? min(1, Double(stats.packetsLost) / Double(stats.packetsExpected)) : 0
        total.record.jitterMs = record.jitterMs ?? total.record.jitterMs
        total.record.rttMs = record.rttMs ?? total.record.rttMs
        total.record.nacks = stats.nacks
        total.record.plis = stats.plis
        total.record.firs = stats.firs
        total.record.retransmissions = stats.retransmissions
        total.record.retransmissionsDropped = stats.retransmissionsDropped
        total.record.targetBitrate = record.targetBitrate ?? total.record.targetBitrate
        total.record.layersPaused = stats.layersPaused
        total.record.pacerDelayMs = stats.pacedPackets > 0 ? stats.pacerDelaySeconds / Double(stats.pacedPackets) * 1000 : nil
        total.record.frames = stats.frames
        total.record.keyFrames = stats.keyFrames
        total.record.freezes = stats.freezes
        total.record.freezeMs = stats.freezeSeconds * 1000
        if total.histogram != nil {
            for delay in delays { total.histogram?.add(delay * 1000) }
            if stats.ended, let histogram = total.histogram {
                total.record.delayMsP50 = histogram.percentile(0.5)
                total.record.delayMsP95 = histogram.percentile(0.95)
                total.histogram = nil
            }
        }
        totals[key] = total
    }

    /// Tracks whose per-interval state is held (live ones), and delay histograms held.
    public var liveTracks: Int { previous.count }
    public var histograms: Int { totals.values.filter { $0.histogram != nil }.count }

    /// A bot's tracks over the whole run (its summary).
    public func summary(bot: String) -> [Record] {
        order.filter { $0.bot == bot }.compactMap { key in
            guard let total = totals[key] else { return nil }
            var record = total.record
            let duration = max(total.lastSeen - total.firstSeen, 0.001)
            record.elapsedS = duration
            record.intervalS = duration
            record.bitrate = (Double(record.bytes) * 8 / duration).rounded()
            if let histogram = total.histogram {
                record.delayMsP50 = histogram.percentile(0.5)
                record.delayMsP95 = histogram.percentile(0.95)
            }
            return record
        }
    }
}
