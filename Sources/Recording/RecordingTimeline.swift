/// Where one member's frames land on a recording's timeline, and in which order they are
/// written. Pure: times come in as arguments (seconds on the local arrival clock), nothing is
/// read from a clock and nothing is written.
///
/// - A track's time comes from its RTCP sender reports when it has one (RFC 3550 §6.4.1: the
///   report ties the track's RTP clock to the sender's NTP clock), else from its RTP clock
///   anchored at its first frame's arrival. All tracks of a member share the sender's NTP
///   clock; it is tied to the local clock once, by the first frame placed through a sender
///   report (`local = ntp + offset`), so report-placed and arrival-placed tracks share one
///   time base and a track that joins later lands where it belongs. A frame placed more than
///   `maxSkew` away from its arrival (a stream restart, a wrong report) is placed at its arrival.
/// - Frames wait in a mux queue, in time order, until they are `muxDelay` old (audio and video
///   come through jitter buffers of different depths), at most `maxHold` after their arrival,
///   and while the queue holds less than `maxQueuedBytes`.
/// - A track's times never go backwards: a frame that would land before the previous one
///   (when the track's first sender report moves it) takes the previous time, so a track's
///   frames keep their decode order through the mux queue.
/// - A file's time 0 is its first written frame; each slot's (track number's) time never goes
///   backwards within a file, also when a new track takes over a slot.
public struct RecordingTimeline: Sendable {
    /// One frame ready to write: `slot` is the file's track number.
    public struct Output: Sendable, Equatable {
        public var slot: UInt8
        public var timestampMs: Int64
        public var keyFrame: Bool
        public var data: [UInt8]
    }

    private struct Clock {
        var clockRate: Double
        var report: (ntp: Double, rtp: UInt32)?
        var anchor: (time: Double, rtp: Int64)?
        var lastRtp: Int64?
        /// The latest time given: a track's frames keep their (decode) order.
        var lastTime: Double?
    }

    /// A frame as it came: its bytes, whether it is a key frame, its arrival (local seconds).
    public struct Frame: Sendable {
        public var arrival: Double
        public var keyFrame: Bool
        public var data: [UInt8]
    }

    /// A frame placed on the timeline, waiting in the mux queue.
    private struct Pending {
        var slot: UInt8
        var time: Double
        var frame: Frame
    }

    /// How long a frame waits for earlier frames of other tracks.
    public var muxDelay = 0.3
    /// How long after its arrival a frame is written at the latest.
    public var maxHold = 1.0
    /// Bytes the mux queue holds at most (the oldest frames go out first).
    public var maxQueuedBytes = 8 << 20
    /// How far from its arrival a frame may be placed.
    public var maxSkew = 5.0

    private var clocks: [String: Clock] = [:]
    /// Sender NTP seconds to local seconds.
    private var senderOffset: Double?
    /// Local time of the file's time 0.
    private var base: Double?
    private var lastMs: [UInt8: Int64] = [:]
    private var queue: [Pending] = []
    public private(set) var queuedBytes = 0

    public init() {}

    public var queuedFrames: Int { queue.count }

    public mutating func addTrack(_ id: String, clockRate: Int) {
        if clocks[id] == nil { clocks[id] = Clock(clockRate: Double(max(1, clockRate))) }
    }

    /// The track ends; its frames still queued are written.
    public mutating func removeTrack(_ id: String) {
        clocks[id] = nil
    }

    public mutating func senderReport(track id: String, ntpSeconds: Double, rtpTimestamp: UInt32) {
        clocks[id]?.report = (ntpSeconds, rtpTimestamp)
    }

    public func hasSenderReport(_ id: String) -> Bool { clocks[id]?.report != nil }

    /// The local time of a frame of `id` (see the type's description).
    public mutating func localTime(track id: String, rtpTimestamp rtp: UInt32, arrival: Double) -> Double {
        guard var clock = clocks[id] else { return arrival }
        let time = max(place(&clock, rtp, arrival), clock.lastTime ?? -.infinity)
        clock.lastTime = time
        clocks[id] = clock
        return time
    }

    private mutating func place(_ clock: inout Clock, _ rtp: UInt32, _ arrival: Double) -> Double {
        // Unwrap the 32-bit RTP clock.
        let extended = clock.lastRtp.map { $0 + Int64(Int32(bitPattern: rtp &- UInt32(truncatingIfNeeded: $0))) } ?? Int64(rtp)
        clock.lastRtp = extended
        if let report = clock.report {
            let ntp = report.ntp + Double(Int32(bitPattern: rtp &- report.rtp)) / clock.clockRate
            let offset = senderOffset ?? (arrival - ntp)
            senderOffset = offset
            if abs(ntp + offset - arrival) <= maxSkew { return ntp + offset }
            return arrival
        }
        if let anchor = clock.anchor {
            let time = anchor.time + Double(extended - anchor.rtp) / clock.clockRate
            if abs(time - arrival) <= maxSkew { return time }
        }
        clock.anchor = (arrival, extended)
        return arrival
    }

    /// Places a frame of track `id` (`localTime`) and queues it for `slot`.
    public mutating func enqueue(_ frame: Frame, track id: String, rtpTimestamp: UInt32, slot: UInt8) {
        enqueue(slot: slot, time: localTime(track: id, rtpTimestamp: rtpTimestamp, arrival: frame.arrival), frame)
    }

    /// Queues a frame placed at `time` (from `localTime`) for `slot`.
    public mutating func enqueue(slot: UInt8, time: Double, arrival: Double, keyFrame: Bool, data: [UInt8]) {
        enqueue(slot: slot, time: time, Frame(arrival: arrival, keyFrame: keyFrame, data: data))
    }

    private mutating func enqueue(slot: UInt8, time: Double, _ frame: Frame) {
        // After every frame of the same or an earlier time: equal times keep their order.
        var low = 0, high = queue.count
        while low < high {
            let mid = (low + high) / 2
            if queue[mid].time <= time { low = mid + 1 } else { high = mid }
        }
        queue.insert(Pending(slot: slot, time: time, frame: frame), at: low)
        queuedBytes += frame.data.count
    }

    /// The frames due at `now`, in time order.
    public mutating func release(now: Double) -> [Output] {
        var count = 0
        // Old enough...
        while count < queue.count, queue[count].time + muxDelay <= now { count += 1 }
        // ...or held long enough (and what comes before it)...
        if let last = queue.lastIndex(where: { $0.frame.arrival + maxHold <= now }) { count = max(count, last + 1) }
        // ...or over the byte bound.
        var bytes = queuedBytes
        for index in 0..<count { bytes -= queue[index].frame.data.count }
        while count < queue.count, bytes > maxQueuedBytes {
            bytes -= queue[count].frame.data.count
            count += 1
        }
        return pop(count)
    }

    /// Everything queued, in time order (the file ends).
    public mutating func releaseAll() -> [Output] { pop(queue.count) }

    /// A new file: a new time 0, slots start over, the sender's clock is tied to the local one
    /// again. Sender reports are kept. Call with an empty queue.
    public mutating func startFile() {
        queue.removeAll()
        queuedBytes = 0
        base = nil
        lastMs = [:]
        senderOffset = nil
        for id in clocks.keys {
            clocks[id]?.anchor = nil
            clocks[id]?.lastRtp = nil
            clocks[id]?.lastTime = nil
        }
    }

    private mutating func pop(_ count: Int) -> [Output] {
        guard count > 0 else { return [] }
        let due = queue[..<count]
        let origin = base ?? due[due.startIndex].time
        base = origin
        var out: [Output] = []
        out.reserveCapacity(count)
        for pending in due {
            let ms = max(Int64(((pending.time - origin) * 1000).rounded()), lastMs[pending.slot] ?? 0, 0)
            lastMs[pending.slot] = ms
            out.append(Output(slot: pending.slot, timestampMs: ms, keyFrame: pending.frame.keyFrame, data: pending.frame.data))
            queuedBytes -= pending.frame.data.count
        }
        queue.removeFirst(count)
        return out
    }
}
