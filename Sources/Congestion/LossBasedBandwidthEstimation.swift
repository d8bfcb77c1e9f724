/// The loss-based bound and the final target (libwebrtc's classic
/// `SendSideBandwidthEstimation`; draft-ietf-rmcat-gcc-02 §6). Loss is taken over at least 20
/// packets: above 10 % the rate is cut to rate × (1 − 0.5 × loss), at most once per 300 ms +
/// a round trip; under 2 % it may grow to 1.08 × the lowest rate of the last second (8 % a
/// second) + 1 kbit/s; in between it holds. The rate never exceeds the delay-based estimate,
/// the receiver's REMB or the maximum. During the first 2 s without loss it follows the
/// delay-based estimate up (the start-up probes). Below `lossFloor` loss is not acted on and
/// a cut stops there (libwebrtc's bitrate threshold of its loss experiment): loss there is
/// taken as the link's own, not congestion, which the delay signal still catches. Bits per
/// second, seconds.
struct LossBasedBandwidthEstimation: Sendable {
    static let increaseInterval = 1.0
    static let decreaseInterval = 0.3
    static let startPhase = 2.0
    static let minPacketsPerReport = 20
    static let lowLossThreshold = 0.02
    static let highLossThreshold = 0.1
    /// Loss reports are expected at least every 5 s; older loss is not acted on.
    static let maxFeedbackInterval = 5.0
    /// No loss report for 3 intervals: cut by 20 % once a second until one comes.
    static let feedbackTimeoutIntervals = 3.0
    static let timeoutInterval = 1.0

    var minBitrate: Double
    var maxBitrate: Double
    var lossFloor: Double
    private(set) var current: Double
    /// Delay-based estimate and REMB: upper limits (nil: none).
    private(set) var delayBasedLimit: Double?
    private(set) var receiverLimit: Double?
    /// The loss fraction last acted on (0...1), nil before the first report.
    private(set) var lastLossFraction: Double?
    var roundTrip = 0.2

    private var firstReportTime: Double?
    private var lastLossReportTime: Double?
    private var lastTimeoutTime: Double?
    private var lastDecreaseTime: Double?
    private var hasDecreasedSinceLastLoss = false
    private var lostSinceUpdate = 0
    private var expectedSinceUpdate = 0
    /// (time, rate) with increasing rates: the minimum of the last second at the front.
    private var minHistory: [(time: Double, bitrate: Double)] = []

    init(start: Double, min: Double, max: Double, lossFloor: Double) {
        minBitrate = min
        maxBitrate = max
        self.lossFloor = lossFloor
        current = start
        current = capped(start)
    }

    /// Loss counted from transport-wide feedback (or one receiver report): `lost` of `expected`.
    mutating func packetsLost(_ lost: Int, of expected: Int, now: Double) {
        if firstReportTime == nil { firstReportTime = now }
        guard expected > 0 else { return }
        lostSinceUpdate = min(lostSinceUpdate + min(max(lost, 0), expected), 1 << 30)
        expectedSinceUpdate = min(expectedSinceUpdate + expected, 1 << 30)
        guard expectedSinceUpdate >= Self.minPacketsPerReport else { return }
        hasDecreasedSinceLastLoss = false
        lastLossFraction = Double(lostSinceUpdate) / Double(expectedSinceUpdate)
        lostSinceUpdate = 0
        expectedSinceUpdate = 0
        lastLossReportTime = now
        updateEstimate(now: now)
    }

    /// A loss fraction already computed by the receiver (RTCP receiver report, Q8).
    mutating func lossFraction(_ fraction: Double, now: Double) {
        if firstReportTime == nil { firstReportTime = now }
        hasDecreasedSinceLastLoss = false
        lastLossFraction = min(max(fraction, 0), 1)
        lostSinceUpdate = 0
        expectedSinceUpdate = 0
        lastLossReportTime = now
        updateEstimate(now: now)
    }

    mutating func setDelayBasedLimit(_ bitrate: Double, now: Double) {
        delayBasedLimit = bitrate
        current = capped(current)
    }

    mutating func setReceiverLimit(_ bitrate: Double?, now: Double) {
        receiverLimit = bitrate
        current = capped(current)
    }

    /// A probe measured the link: the rate is set at once, not grown into at 8 % a second.
    mutating func setSendBitrate(_ bitrate: Double, now: Double) {
        current = capped(bitrate)
        minHistory.removeAll()
    }

    mutating func updateEstimate(now: Double) {
        // Start-up: trust the delay-based estimate and REMB while nothing was lost.
        if (lastLossFraction ?? 0) == 0, inStartPhase(now) {
            let candidate = max(current, delayBasedLimit ?? 0, receiverLimit ?? 0)
            if candidate != current {
                minHistory = [(now, current)]
                current = capped(candidate)
                return
            }
        }
        updateMinHistory(now: now)
        guard let lastReport = lastLossReportTime else {
            current = capped(current)
            return
        }
        var next = current
        if now - lastReport < 1.2 * Self.maxFeedbackInterval, let loss = lastLossFraction {
            if current < lossFloor || loss <= Self.lowLossThreshold {
                if let lowest = minHistory.first?.bitrate {
                    next = max(current, lowest * 1.08 + 1_000)
                }
            } else if loss > Self.highLossThreshold, !hasDecreasedSinceLastLoss,
                      now - (lastDecreaseTime ?? -Double.infinity) >= Self.decreaseInterval + roundTrip {
                lastDecreaseTime = now
                hasDecreasedSinceLastLoss = true
                next = max(current * (1 - 0.5 * loss), min(lossFloor, current))
            }
        } else if now - lastReport > Self.feedbackTimeoutIntervals * Self.maxFeedbackInterval,
                  now - (lastTimeoutTime ?? -Double.infinity) > Self.timeoutInterval {
            // Feedback stopped: the link may be gone; back off rather than keep sending blind.
            next = current * 0.8
            lastTimeoutTime = now
            lostSinceUpdate = 0
            expectedSinceUpdate = 0
        }
        current = capped(next)
    }

    private func inStartPhase(_ now: Double) -> Bool {
        guard let first = firstReportTime else { return true }
        return now - first < Self.startPhase
    }

    private mutating func updateMinHistory(now: Double) {
        // 1 ms of slack so reports exactly a second apart can increase every time (libwebrtc's).
        while let front = minHistory.first, now - front.time + 0.001 > Self.increaseInterval { minHistory.removeFirst() }
        while let back = minHistory.last, current <= back.bitrate { minHistory.removeLast() }
        minHistory.append((now, current))
    }

    /// Within the delay-based estimate, REMB and the maximum; never below the minimum.
    private func capped(_ bitrate: Double) -> Double {
        var value = bitrate.isFinite ? bitrate : minBitrate
        if let receiverLimit { value = min(value, receiverLimit) }
        if let delayBasedLimit { value = min(value, delayBasedLimit) }
        value = min(value, maxBitrate)
        return max(value, minBitrate)
    }
}
