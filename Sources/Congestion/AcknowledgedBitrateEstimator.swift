/// The rate the receiver acknowledged, from the sizes of received packets over their arrival
/// times (libwebrtc's `BitrateEstimator` behind `AcknowledgedBitrateEstimator`, the Bayesian
/// one): bytes are summed over windows of 150 ms (500 ms for the first sample), and each
/// window's rate updates a running estimate weighted by its uncertainty, which grows with its
/// relative distance from the estimate (scale 10), so one odd window moves it little while a lasting
/// change moves it within a few windows. Arrival times are the receiver's, in seconds.
struct AcknowledgedBitrateEstimator: Sendable {
    static let initialWindow = 0.5
    static let window = 0.15
    static let uncertaintyScale = 10.0
    /// Variance added per update: the rate may drift between windows.
    static let processNoise = 5.0

    /// Kbit/s inside, as libwebrtc, so the noise constants keep their meaning.
    private var estimateKbps: Double?
    private var variance = 50.0
    private var windowSum = 0
    private var windowElapsed = 0.0
    private var previousTime: Double?

    /// Bits per second; nil until the first window is complete.
    var bitrate: Double? { estimateKbps.map { $0 * 1000 } }

    mutating func update(arrivalTime: Double, size: Int) {
        guard arrivalTime.isFinite else { return }
        let windowLength = estimateKbps == nil ? Self.initialWindow : Self.window
        guard let sample = updateWindow(now: arrivalTime, size: min(max(size, 0), 1 << 20), windowLength: windowLength) else { return }
        guard let estimate = estimateKbps else {
            // An empty first window (zero-sized packets) is no start: the estimate could not leave 0.
            if sample > 0 { estimateKbps = sample }
            return
        }
        let uncertainty = Self.uncertaintyScale * abs(estimate - sample) / max(estimate, 1)
        let sampleVariance = uncertainty * uncertainty
        let predicted = variance + Self.processNoise
        let updated = (sampleVariance * estimate + predicted * sample) / (sampleVariance + predicted)
        estimateKbps = updated.isFinite ? max(updated, 0) : estimate
        variance = sampleVariance * predicted / (sampleVariance + predicted)
    }

    /// Adds one packet to the current window; a finished window's rate in kbit/s.
    private mutating func updateWindow(now: Double, size: Int, windowLength: Double) -> Double? {
        if let previous = previousTime, now < previous {
            // The receiver's clock went back (reordered or garbage feedback): start a window afresh.
            previousTime = nil
            windowSum = 0
            windowElapsed = 0
        }
        if let previous = previousTime {
            let elapsed = now - previous
            windowElapsed += elapsed
            // A gap longer than a window: what was summed before it is no rate sample.
            if elapsed > windowLength {
                windowSum = 0
                windowElapsed = windowElapsed.truncatingRemainder(dividingBy: windowLength)
            }
        }
        previousTime = now
        var sample: Double?
        if windowElapsed >= windowLength {
            sample = 8 * Double(windowSum) / (windowLength * 1000)
            windowElapsed -= windowLength
            windowSum = 0
        }
        windowSum = min(windowSum + size, Int(Int32.max))
        return sample
    }
}
