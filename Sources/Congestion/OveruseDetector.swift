/// Compares the delay trend with an adaptive threshold (draft-ietf-rmcat-gcc-02 §5.4 and
/// §5.5; libwebrtc's `TrendlineEstimator::Detect`/`UpdateThreshold`). The trend is scaled by
/// the number of deltas (at most 60) and a gain of 4. Over-use is declared when the scaled
/// trend stays above the threshold for more than 10 ms and more than one group, and is still
/// growing. The threshold follows the scaled trend, within [6, 600] ms: slowly up when the
/// trend exceeds it (k_up 0.0087 per ms), so a competing TCP flow's queue does not starve us,
/// faster down when the trend is inside it (k_down 0.039 per ms), so sensitivity returns.
/// Milliseconds inside.
struct OveruseDetector: Sendable {
    static let thresholdGain = 4.0
    static let minNumberOfDeltas = 60
    static let initialThreshold = 12.5
    static let overusingTimeThreshold = 10.0
    static let kUp = 0.0087
    static let kDown = 0.039
    /// A trend this far past the threshold is a spike; it does not move the threshold.
    static let maxAdaptOffset = 15.0
    static let maxTimeDelta = 100.0
    static let thresholdRange = 6.0...600.0

    private(set) var state = BandwidthUsage.normal
    private(set) var threshold = initialThreshold
    /// The last scaled trend compared with the threshold (diagnostics).
    private(set) var modifiedTrend = 0.0
    private var timeOverUsing: Double?
    private var overuseCounter = 0
    private var previousTrend = 0.0
    private var lastThresholdUpdate: Double?

    /// `sendDelta` and `now` in ms (`now` on the receiver's clock, as libwebrtc).
    mutating func detect(trend: Double, numberOfDeltas: Int, sendDelta: Double, now: Double) -> BandwidthUsage {
        guard numberOfDeltas >= 2 else {
            state = .normal
            return state
        }
        let scaled = Double(min(numberOfDeltas, Self.minNumberOfDeltas)) * trend * Self.thresholdGain
        modifiedTrend = scaled
        if scaled > threshold {
            timeOverUsing = timeOverUsing.map { $0 + sendDelta } ?? sendDelta / 2
            overuseCounter += 1
            if let time = timeOverUsing, time > Self.overusingTimeThreshold, overuseCounter > 1, trend >= previousTrend {
                timeOverUsing = 0
                overuseCounter = 0
                state = .overusing
            }
        } else if scaled < -threshold {
            timeOverUsing = nil
            overuseCounter = 0
            state = .underusing
        } else {
            timeOverUsing = nil
            overuseCounter = 0
            state = .normal
        }
        previousTrend = trend
        updateThreshold(scaled, now: now)
        return state
    }

    private mutating func updateThreshold(_ scaled: Double, now: Double) {
        let last = lastThresholdUpdate ?? now
        lastThresholdUpdate = now
        let magnitude = abs(scaled)
        if magnitude > threshold + Self.maxAdaptOffset { return }
        let k = magnitude < threshold ? Self.kDown : Self.kUp
        let elapsed = min(max(now - last, 0), Self.maxTimeDelta)
        threshold += k * (magnitude - threshold) * elapsed
        threshold = min(max(threshold, Self.thresholdRange.lowerBound), Self.thresholdRange.upperBound)
    }
}
