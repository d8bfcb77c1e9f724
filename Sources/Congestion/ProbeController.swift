/// Decides when to probe the link and at what rate (libwebrtc's `ProbeController`, reduced):
/// - at start (the first call once the transport is up): clusters at 3× and 6× the start
///   bitrate; while a result comes back above 70 % of the highest probe, probe again at 2×
///   the new estimate (exponential start-up), waiting at most 1 s for each result;
/// - when the maximum rises above the estimate: one cluster at the new maximum;
/// - after a large drop (the estimate fell below 66 % of what it was) once the delay has
///   recovered: one cluster at 85 % of the rate before the drop, within 5 s of the drop and
///   at most once in 5 s (libwebrtc does this only in or after ALR; here always);
/// - while the estimate stays below the maximum: one cluster at 2× the estimate every 3 s
///   (libwebrtc's periodic probing is 5 s and in ALR only; here it is how a limit that lifted
///   is found without waiting for 8 %-a-second growth).
/// Every probe is capped at the maximum. Times in seconds, rates in bits per second.
struct ProbeController: Sendable {
    enum State: Sendable, Equatable { case initial, waitingForResult, complete }

    static let firstExponentialScale = 3.0
    static let secondExponentialScale = 6.0
    static let furtherScale = 2.0
    static let furtherThreshold = 0.7
    static let maxWaitForResult = 1.0
    static let largeDropThreshold = 0.66
    static let fractionAfterDrop = 0.85
    static let probeUncertainty = 0.05
    static let dropTimeout = 5.0
    static let minTimeBetweenDropProbes = 5.0
    static let periodicInterval = 3.0
    static let periodicScale = 2.0
    /// libwebrtc's cluster shape: at least 5 packets over at least 15 ms.
    static let minPackets = 5
    static let minDuration = 0.015

    private(set) var state = State.initial
    private var startBitrate: Double
    private var maxBitrate: Double
    private var estimate: Double
    private var minBitrateToProbeFurther: Double?
    private var lastProbeTime: Double?
    private var lastLargeDrop: (time: Double, bitrateBefore: Double)?
    private var lastDropProbeTime: Double?
    private var nextClusterID = 1
    private var pending: [ProbeCluster] = []

    init(startBitrate: Double, maxBitrate: Double) {
        self.startBitrate = startBitrate
        self.maxBitrate = maxBitrate
        estimate = startBitrate
    }

    /// The first call once the transport can send: the initial exponential probes.
    mutating func start(now: Double) {
        guard state == .initial else { return }
        initiate([Self.firstExponentialScale * startBitrate, Self.secondExponentialScale * startBitrate],
                 probeFurther: true, now: now)
    }

    mutating func setMaxBitrate(_ bitrate: Double, now: Double) {
        let old = maxBitrate
        maxBitrate = bitrate
        if state == .complete, bitrate > old, estimate < bitrate {
            initiate([bitrate], probeFurther: false, now: now)
        }
    }

    /// The delay-based estimate changed.
    mutating func setEstimate(_ bitrate: Double, now: Double) {
        if state == .waitingForResult, let threshold = minBitrateToProbeFurther, bitrate > threshold {
            initiate([Self.furtherScale * bitrate], probeFurther: true, now: now)
        }
        if bitrate < Self.largeDropThreshold * estimate {
            lastLargeDrop = (now, estimate)
        }
        estimate = bitrate
    }

    /// The delay went back to normal after an over-use: probe back toward the rate before a
    /// large drop, if there was one recently.
    mutating func recoveredFromOveruse(now: Double) {
        guard state == .complete, let drop = lastLargeDrop else { return }
        let suggested = Self.fractionAfterDrop * drop.bitrateBefore
        let expectedResult = (1 - Self.probeUncertainty) * suggested
        let sinceProbe = lastDropProbeTime.map { now - $0 } ?? .infinity
        if expectedResult > estimate, now - drop.time < Self.dropTimeout, sinceProbe > Self.minTimeBetweenDropProbes {
            lastDropProbeTime = now
            initiate([suggested], probeFurther: false, now: now)
        }
    }

    mutating func process(now: Double) {
        if state == .waitingForResult, let last = lastProbeTime, now - last > Self.maxWaitForResult {
            state = .complete
            minBitrateToProbeFurther = nil
        }
        if state == .complete, estimate < maxBitrate,
           let last = lastProbeTime, now - last >= Self.periodicInterval {
            initiate([Self.periodicScale * estimate], probeFurther: true, now: now)
        }
    }

    mutating func takeClusters() -> [ProbeCluster] {
        defer { pending.removeAll() }
        return pending
    }

    private mutating func initiate(_ bitrates: [Double], probeFurther: Bool, now: Double) {
        var probeFurther = probeFurther
        var highest = 0.0
        for requested in bitrates {
            var bitrate = requested
            if bitrate >= maxBitrate {
                bitrate = maxBitrate
                probeFurther = false
            }
            guard bitrate > 0, bitrate.isFinite else { continue }
            let rate = Int(min(bitrate, 1e12))
            pending.append(ProbeCluster(id: nextClusterID, bitrate: rate, minPackets: Self.minPackets,
                                        minBytes: max(1, Int(bitrate * Self.minDuration / 8))))
            nextClusterID = nextClusterID == Int(Int32.max) ? 1 : nextClusterID + 1
            highest = max(highest, bitrate)
        }
        lastProbeTime = now
        if probeFurther, highest > 0 {
            state = .waitingForResult
            minBitrateToProbeFurther = Self.furtherThreshold * highest
        } else {
            state = .complete
            minBitrateToProbeFurther = nil
        }
    }
}
