/// What the link carried when it last over-used (libwebrtc's `LinkCapacityEstimator`): an
/// exponential average of the acknowledged bitrate at each over-use with its variance. Near
/// it, rate control increases additively instead of multiplicatively. Kbit/s inside, so the
/// variance bounds (0.4...2.5 kbit/s, normalized) keep libwebrtc's meaning.
struct LinkCapacityEstimator: Sendable {
    private(set) var estimate: Double?
    private var deviation = 0.4

    /// Bits per second, or nil when unknown.
    var estimateBitsPerSecond: Double? { estimate.map { $0 * 1000 } }

    /// The top of the band around the estimate (3 standard deviations); bits per second.
    var upperBound: Double {
        guard let estimate else { return .infinity }
        return (estimate + 3 * standardDeviation(estimate)) * 1000
    }

    var lowerBound: Double {
        guard let estimate else { return 0 }
        return max(0, estimate - 3 * standardDeviation(estimate)) * 1000
    }

    private func standardDeviation(_ estimate: Double) -> Double { (deviation * estimate).squareRoot() }

    mutating func onOveruseDetected(acknowledgedBitrate: Double) {
        update(sample: acknowledgedBitrate / 1000, alpha: 0.05)
    }

    mutating func reset() { estimate = nil }

    private mutating func update(sample: Double, alpha: Double) {
        guard sample.isFinite, sample >= 0 else { return }
        let current = estimate.map { (1 - alpha) * $0 + alpha * sample } ?? sample
        estimate = current
        // The variance is normalized by the estimate so one bound fits all rates.
        let norm = max(current, 1)
        let error = current - sample
        deviation = (1 - alpha) * deviation + alpha * error * error / norm
        deviation = min(max(deviation, 0.4), 2.5)
    }
}
