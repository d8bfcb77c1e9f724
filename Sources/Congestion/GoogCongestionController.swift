import RTP

/// Google congestion control on the send side, sans-IO (no clock, no timers, no sockets): the
/// send path reports every packet it sends and every feedback it receives, with the time; the
/// controller answers with a new target when it changes and with probe clusters to send.
///
/// The parts (docs/CONGESTION.md): `TransportFeedbackAdapter` matches feedback to sent
/// packets; `DelayBasedEstimator` (send-burst grouping, trendline, over-use detector, AIMD)
/// gives the delay-based estimate; `AcknowledgedBitrateEstimator` what the receiver got;
/// `ProbeController` and `ProbeBitrateEstimator` probe the link; `LossBasedBandwidthEstimation`
/// bounds the rate by loss and yields the target: min(delay-based, loss-based, REMB, maximum),
/// never below the minimum.
public struct GoogCongestionController: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Bits per second before any feedback.
        public var startBitrate: Int
        public var minBitrate: Int
        /// The sum of what the producers can use; the estimate never asks for more.
        public var maxBitrate: Int
        /// Below this rate loss does not lower the target (only the delay signal does): random
        /// loss of a lossy link is not congestion. libwebrtc's loss experiment calls it the
        /// bitrate threshold (0 by default there); 150 kbit/s keeps a watchable video under
        /// 10 % random loss.
        public var lossBasedFloor: Int = 150_000

        public init(startBitrate: Int = 300_000, minBitrate: Int = 30_000, maxBitrate: Int = 2_500_000) {
            self.startBitrate = startBitrate
            self.minBitrate = minBitrate
            self.maxBitrate = maxBitrate
        }
    }

    /// The configuration in use: what was given, each rate within [0, 100 Gbit/s] and
    /// min ≤ start ≤ max.
    public private(set) var configuration: Configuration
    /// The current target (starts at the configuration's start bitrate).
    public private(set) var target: CongestionTarget

    private var feedbackAdapter = TransportFeedbackAdapter()
    private var delayBased: DelayBasedEstimator
    private var acknowledged = AcknowledgedBitrateEstimator()
    private var incomingRate = IncomingRateWindow()
    private var probeEstimator = ProbeBitrateEstimator()
    private var probeController: ProbeController
    private var lossBased: LossBasedBandwidthEstimation
    /// Clusters handed to the pacer, by id, until their feedback can no longer come.
    private var probeClusters: [Int: (cluster: ProbeCluster, created: Double)] = [:]
    private var roundTrip: Double?
    private var lastTransportFeedback: Double?
    private var started = false

    /// Transport-wide feedback this recent makes receiver-report loss redundant.
    static let receiverReportLossTimeout = 1.0
    static let probeClusterLifetime = 5.0
    static let maxProbeClusters = 32
    /// Rates beyond this (100 Gbit/s) are taken as this: no arithmetic on them can overflow.
    static let bitrateCeiling = 100_000_000_000

    public init(configuration: Configuration = Configuration()) {
        var configuration = configuration
        let ceiling = Self.bitrateCeiling
        configuration.minBitrate = min(max(configuration.minBitrate, 0), ceiling)
        configuration.maxBitrate = min(max(configuration.maxBitrate, configuration.minBitrate), ceiling)
        configuration.startBitrate = min(max(configuration.startBitrate, configuration.minBitrate), configuration.maxBitrate)
        configuration.lossBasedFloor = min(max(configuration.lossBasedFloor, 0), ceiling)
        self.configuration = configuration
        let start = Double(configuration.startBitrate)
        let minimum = Double(configuration.minBitrate)
        let maximum = Double(configuration.maxBitrate)
        delayBased = DelayBasedEstimator(start: start, min: minimum, max: maximum)
        probeController = ProbeController(startBitrate: start, maxBitrate: maximum)
        lossBased = LossBasedBandwidthEstimation(start: start, min: minimum, max: maximum,
                                                 lossFloor: Double(configuration.lossBasedFloor))
        target = Self.target(bitrate: configuration.startBitrate, roundTrip: nil)
    }

    // MARK: Diagnostics (read-only)

    /// The delay-based estimate (AIMD, probes), bits per second.
    public var delayBasedEstimate: Int { Int(delayBased.estimate) }
    /// The loss-based bound after the delay-based and REMB caps, bits per second.
    public var lossBasedEstimate: Int { Int(lossBased.current) }
    /// What the receiver acknowledged lately, bits per second (nil: no estimate yet).
    public var acknowledgedBitrate: Int? { acknowledged.bitrate.map { Int(min($0, Double(Self.bitrateCeiling))) } }
    /// The over-use detector's state.
    public var bandwidthUsage: BandwidthUsage { delayBased.usage }
    /// The loss fraction (0...1) the loss-based bound last acted on (nil: none reported yet).
    public var lossFraction: Double? { lossBased.lastLossFraction }
    /// The adaptive threshold of the over-use detector, ms (diagnostics of the trendline).
    public var overuseThreshold: Double { delayBased.detector.threshold }

    // MARK: Inputs

    /// The producers changed: a new ceiling (a limit lifting is a reason to probe).
    public mutating func setMaxBitrate(_ bitrate: Int, now: Double) {
        guard now.isFinite else { return }
        let maximum = min(max(bitrate, configuration.minBitrate), Self.bitrateCeiling)
        configuration.maxBitrate = maximum
        configuration.startBitrate = min(configuration.startBitrate, maximum)
        delayBased.setMaxBitrate(Double(maximum))
        lossBased.maxBitrate = Double(maximum)
        lossBased.updateEstimate(now: now)
        // Before the start this only sets the cap of the initial probes.
        probeController.setMaxBitrate(Double(maximum), now: now)
        _ = updateTarget()
    }

    /// Every packet that carries a transport-wide sequence number, as it goes on the wire.
    public mutating func sent(_ packet: SentPacket) {
        // A time that is no time says nothing about the packet: not kept.
        guard packet.sendTime.isFinite else { return }
        start(now: packet.sendTime)
        feedbackAdapter.sent(packet)
    }

    /// Transport-wide feedback (the SFU's view of our packets); a new target if it changed.
    public mutating func transportFeedback(_ feedback: TransportCCFeedback, now: Double) -> CongestionTarget? {
        guard now.isFinite else { return nil }
        start(now: now)
        let report = feedbackAdapter.process(feedback)
        guard !report.results.isEmpty else { return nil }
        lastTransportFeedback = now
        if report.newlyReported > 0 {
            lossBased.packetsLost(report.newlyLost, of: report.newlyReported, now: now)
        }
        // The delay signal and the acknowledged rate read packets in arrival order.
        var received = report.results.filter { $0.isReceived }
        received.sort { ($0.arrivalTime ?? 0) < ($1.arrivalTime ?? 0) }
        for result in received {
            acknowledged.update(arrivalTime: result.arrivalTime ?? 0, size: result.sent.size)
            incomingRate.add(arrivalTime: result.arrivalTime ?? 0, size: result.sent.size)
            if let id = result.sent.probeCluster, let entry = probeClusters[id] {
                _ = probeEstimator.add(result, cluster: entry.cluster, now: now)
            }
        }
        let probe = probeEstimator.takeEstimate()
        let delay = delayBased.update(received: received, acknowledged: acknowledged.bitrate,
                                      latestThroughput: incomingRate.bitrate, probe: probe, now: now)
        if delay.changed || delay.fromProbe {
            probeController.setEstimate(delay.estimate, now: now)
        }
        lossBased.setDelayBasedLimit(delay.estimate, now: now)
        if delay.fromProbe { lossBased.setSendBitrate(delay.estimate, now: now) }
        if delay.recoveredFromOveruse { probeController.recoveredFromOveruse(now: now) }
        lossBased.updateEstimate(now: now)
        return updateTarget()
    }

    /// A receiver report's block about one of our streams: its loss and the round trip it gave.
    /// Its loss counts only while no transport-wide feedback arrives (which counts loss per
    /// packet over all streams, so the two would count the same losses twice).
    public mutating func receiverReport(fractionLost: UInt8, roundTrip: Double?, now: Double) -> CongestionTarget? {
        guard now.isFinite else { return nil }
        start(now: now)
        if let roundTrip, roundTrip.isFinite, roundTrip >= 0, roundTrip <= 60 {
            self.roundTrip = roundTrip
            delayBased.setRoundTrip(roundTrip)
            lossBased.roundTrip = roundTrip
        }
        let feedbackIsRecent = lastTransportFeedback.map { now - $0 < Self.receiverReportLossTimeout } ?? false
        if !feedbackIsRecent {
            lossBased.lossFraction(Double(fractionLost) / 256, now: now)
        }
        return updateTarget()
    }

    /// REMB: the receiver's estimate caps the target.
    public mutating func remb(bitrate: UInt64, now: Double) -> CongestionTarget? {
        guard now.isFinite else { return nil }
        start(now: now)
        lossBased.setReceiverLimit(Double(min(bitrate, UInt64(Self.bitrateCeiling))), now: now)
        return updateTarget()
    }

    /// Periodic work (call every 25 ms or so): timeouts, probing decisions. A new target if it changed.
    public mutating func process(now: Double) -> CongestionTarget? {
        guard now.isFinite else { return nil }
        start(now: now)
        probeController.process(now: now)
        lossBased.updateEstimate(now: now)
        return updateTarget()
    }

    /// Probe clusters the pacer must send now (each once).
    public mutating func takeProbeClusters(now: Double) -> [ProbeCluster] {
        guard now.isFinite else { return [] }
        start(now: now)
        let clusters = probeController.takeClusters()
        guard !clusters.isEmpty else { return [] }
        probeClusters = probeClusters.filter { now - $0.value.created < Self.probeClusterLifetime }
        for cluster in clusters where probeClusters.count < Self.maxProbeClusters {
            probeClusters[cluster.id] = (cluster, now)
        }
        return clusters
    }

    // MARK: Internals

    /// The transport is up: the first call with a time starts the initial probing.
    private mutating func start(now: Double) {
        guard !started else { return }
        started = true
        probeController.start(now: now)
    }

    private mutating func updateTarget() -> CongestionTarget? {
        let bitrate = min(max(lossBased.current, Double(configuration.minBitrate)), Double(configuration.maxBitrate))
        let next = Self.target(bitrate: Int(bitrate), roundTrip: roundTrip)
        guard next != target else { return nil }
        target = next
        return next
    }

    /// Pacing at 2.5 × the target (libwebrtc's pacing factor) so a frame's burst drains well
    /// within a frame interval; padding is left to the probe clusters.
    private static func target(bitrate: Int, roundTrip: Double?) -> CongestionTarget {
        // bitrate ≤ bitrateCeiling, so 5 × it fits.
        CongestionTarget(targetBitrate: bitrate, pacingRate: bitrate * 5 / 2,
                         paddingRate: 0, roundTrip: roundTrip)
    }
}
