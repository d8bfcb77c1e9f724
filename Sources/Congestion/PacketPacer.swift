/// Spreads packets over time at the pacing rate, without clock or timer of its own (libwebrtc's
/// `PacingController`, in its dynamic mode): the caller queues references, asks
/// `nextSendTime(now:)` when to come back (nil: nothing to do, so no timer at all), and calls
/// `process(now:send:pad:)` then.
///
/// - Budget: what goes out ahead of the pacing rate is a debt, paid back at the rate; video
///   and retransmissions go while the debt is under one process interval's worth (5 ms), so
///   a frame leaves in bursts of about 5 ms of the rate, not all at once. Audio is not held
///   back (libwebrtc does not pace audio either) but its bytes count.
/// - Queue bound: when the queued bytes would need more than 2 s at the pacing rate (the mean
///   time in the queue counted), the rate rises to drain them in time; nothing is dropped.
/// - Probes: a cluster goes out at its own rate, from the queue when it has packets, else as
///   padding the caller makes (`pad`), until it has its packets and bytes.
/// - Padding: with a padding rate and an empty queue, the caller is asked for padding at that
///   rate (only once media has flowed).
public struct PacketPacer: Sendable {
    /// The burst the budget allows, and the shortest wait between two wake-ups.
    public static let processInterval = 0.005
    /// libwebrtc's `kMaxExpectedQueueLength`.
    public static let maxQueueTime = 2.0
    /// Debt beyond this much time at the rate is forgiven (libwebrtc's `kMaxDebtInTime`).
    static let maxDebtTime = 0.5
    /// A wake-up this late sends a probe's next packet at once instead of the missed ones.
    static let maxProbeLateness = 0.01

    private struct Probe: Sendable {
        var cluster: ProbeCluster
        var start: Double?
        var bytes = 0
        var packets = 0
    }

    public private(set) var queue = PacingQueue()
    /// Bits per second.
    public private(set) var pacingRate: Int
    public private(set) var paddingRate = 0
    /// Probe clusters sent whole, and given up for want of anything to send.
    public private(set) var probeClustersSent = 0
    public private(set) var probeClustersAbandoned = 0
    /// Bytes sent ahead of the rate (media and probes), and of padding ahead of the padding rate.
    private var mediaDebt = 0.0
    private var paddingDebt = 0.0
    private var lastUpdate: Double?
    private var lastProcess = -Double.infinity
    private var hasSentMedia = false
    /// The caller could not make padding: none asked again until the rates change.
    private var paddingUnavailable = false
    private var probes: [Probe] = []

    public init(pacingRate: Int) {
        self.pacingRate = max(pacingRate, 1)
    }

    public mutating func setRates(pacing: Int, padding: Int) {
        pacingRate = max(pacing, 1)
        paddingRate = max(padding, 0)
        paddingUnavailable = false
    }

    public mutating func enqueue(_ packet: PacedPacket) {
        queue.push(packet)
    }

    /// Clusters from the estimator (`takeProbeClusters`), sent one after the other.
    public mutating func addProbeClusters(_ clusters: [ProbeCluster]) {
        for cluster in clusters where cluster.bitrate > 0 { probes.append(Probe(cluster: cluster)) }
    }

    public var isProbing: Bool { !probes.isEmpty }

    /// The rate the queue drains at: the pacing rate, or more when the queue would otherwise
    /// hold its packets past `maxQueueTime` on average (bits per second).
    public func drainRate(now: Double) -> Double {
        var rate = Double(pacingRate)
        if !queue.isEmpty {
            let timeLeft = max(0.001, Self.maxQueueTime - queue.averageQueueTime(now: now))
            rate = max(rate, Double(queue.bytes) * 8 / timeLeft)
        }
        return rate
    }

    /// When `process` has something to send (now or later); nil when it has nothing.
    public func nextSendTime(now: Double) -> Double? {
        var next = Double.infinity
        if let probe = probes.first {
            next = probe.start.map { $0 + Double(probe.bytes) * 8 / Double(probe.cluster.bitrate) } ?? now
        }
        if let head = queue.peek() {
            if head.kind == .audio { return now }
            let bytesPerSecond = drainRate(now: now) / 8
            let debt = max(0, mediaDebt - bytesPerSecond * elapsed(since: lastUpdate, now: now))
            let allowance = bytesPerSecond * Self.processInterval
            let ready = debt <= allowance ? now : now + (debt - allowance) / bytesPerSecond
            next = min(next, max(ready, lastProcess + Self.processInterval))
        } else if paddingRate > 0, hasSentMedia, !paddingUnavailable {
            next = min(next, lastProcess + Self.processInterval)
        }
        return next.isFinite ? max(next, now) : nil
    }

    /// Sends what is due. `send` emits a queued packet (with the probe cluster it belongs to)
    /// and returns its size, or nil when it is gone (evicted from its history: dropped);
    /// `pad` makes about that many bytes of padding and returns what it sent (0: it cannot).
    public mutating func process(now: Double, send: (PacedPacket, _ probeCluster: Int?) -> Int?,
                                 pad: (_ bytes: Int, _ probeCluster: Int?) -> Int) {
        let bytesPerSecond = drainRate(now: now) / 8
        let elapsed = elapsed(since: lastUpdate, now: now)
        mediaDebt = max(0, mediaDebt - bytesPerSecond * elapsed)
        paddingDebt = max(0, paddingDebt - Double(paddingRate) / 8 * elapsed)
        lastUpdate = now
        lastProcess = now
        let maxDebt = bytesPerSecond * Self.maxDebtTime
        sendProbes(now: now, maxDebt: maxDebt, send: send, pad: pad)
        let allowance = bytesPerSecond * Self.processInterval
        // A millibyte of slack: the wake-up `nextSendTime` computed lands on the allowance.
        while let head = queue.peek(), head.kind == .audio || mediaDebt <= allowance + 0.001 {
            _ = queue.pop()
            if let size = send(head, nil) {
                mediaDebt = min(mediaDebt + Double(size), maxDebt)
                hasSentMedia = true
            }
        }
        guard queue.isEmpty, probes.isEmpty, paddingRate > 0, hasSentMedia, !paddingUnavailable else { return }
        let paddingAllowance = Double(paddingRate) / 8 * Self.processInterval
        while paddingDebt < paddingAllowance, mediaDebt < allowance {
            let sent = pad(Int(paddingAllowance - paddingDebt) + 1, nil)
            guard sent > 0 else {
                paddingUnavailable = true
                return
            }
            paddingDebt += Double(sent)
            mediaDebt = min(mediaDebt + Double(sent), maxDebt)
        }
    }

    private mutating func sendProbes(now: Double, maxDebt: Double, send: (PacedPacket, Int?) -> Int?, pad: (Int, Int?) -> Int) {
        while !probes.isEmpty {
            let start = probes[0].start ?? now
            let bitrate = Double(probes[0].cluster.bitrate)
            let due = start + Double(probes[0].bytes) * 8 / bitrate
            guard due <= now else { return }
            // A late wake-up does not make up for lost time in one burst: the cluster carries on
            // from now at its rate.
            probes[0].start = now - due > Self.maxProbeLateness ? start + (now - due) : start
            let id = probes[0].cluster.id
            var sent = 0
            if let packet = queue.pop() {
                sent = send(packet, id) ?? 0
                if sent > 0 { hasSentMedia = true }
            } else {
                // libwebrtc's recommended probe size: two milliseconds at the cluster's rate.
                sent = pad(min(max(Int(bitrate * 0.002 / 8), 100), 1200), id)
                if sent == 0 {
                    probeClustersAbandoned += 1
                    probes.removeFirst()
                    continue
                }
            }
            mediaDebt = min(mediaDebt + Double(sent), maxDebt)
            if sent > 0 {
                probes[0].bytes += sent
                probes[0].packets += 1
            }
            if probes[0].packets >= probes[0].cluster.minPackets, probes[0].bytes >= probes[0].cluster.minBytes {
                probeClustersSent += 1
                probes.removeFirst()
            }
        }
    }

    private func elapsed(since last: Double?, now: Double) -> Double {
        guard let last else { return 0 }
        // A clock that went back is no time at all; a long idle no more than the debt cap needs.
        return min(max(now - last, 0), 2)
    }
}
