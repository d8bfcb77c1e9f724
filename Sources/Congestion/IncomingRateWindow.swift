/// The rate packets arrived at over the last 250 ms (draft-ietf-rmcat-gcc-02 §5.5's R_hat,
/// on a shorter window than its 0.5–1 s): the bytes after the window's first packet over the
/// time from its first to its last arrival, so packet boundaries bias it by nothing. It is
/// read on over-use, when the link is busy, so it is what the link carries now; the smoothed
/// acknowledged estimate gets there only after many windows when the rate jumped (after a
/// probe). Receiver's clock, seconds.
struct IncomingRateWindow: Sendable {
    static let length = 0.25
    /// A span shorter than this is too few packets to call a rate.
    static let minSpan = 0.1
    /// Packets in the window at most: past this the oldest go early (1200-byte packets at
    /// 30 Mbit/s fill 250 ms with about 800).
    static let maxPackets = 2048

    private var arrivals: [(time: Double, size: Int)] = []
    private var head = 0
    private var bytes = 0

    mutating func add(arrivalTime: Double, size: Int) {
        guard arrivalTime.isFinite else { return }
        if let last = arrivals.last, arrivalTime < last.time {
            // The receiver's clock went back: what was measured before no longer lines up.
            reset()
        }
        let size = min(max(size, 0), 1 << 20)
        arrivals.append((arrivalTime, size))
        bytes += size
        while head < arrivals.count, arrivalTime - arrivals[head].time > Self.length || arrivals.count - head > Self.maxPackets {
            bytes -= arrivals[head].size
            head += 1
        }
        if head > 1024, head * 2 > arrivals.count {
            arrivals.removeFirst(head)
            head = 0
        }
    }

    /// Bits per second, or nil over less than `minSpan`.
    var bitrate: Double? {
        guard head < arrivals.count, let last = arrivals.last else { return nil }
        let first = arrivals[head]
        let span = last.time - first.time
        guard span >= Self.minSpan else { return nil }
        return 8 * Double(bytes - first.size) / span
    }

    private mutating func reset() {
        arrivals.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
    }
}
