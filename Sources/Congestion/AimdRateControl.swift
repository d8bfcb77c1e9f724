import Foundation

/// The delay-based rate controller (draft-ietf-rmcat-gcc-02 §5.5; libwebrtc's
/// `AimdRateControl`). Its state follows the over-use detector: over-use → decrease, normal →
/// increase, under-use → hold (the queue drains; do not add to it). Increase is
/// multiplicative (8 % a second) while the link capacity is unknown and additive (about one
/// packet per response time) near it; decrease sets 0.85 × the acknowledged bitrate. An
/// increase never goes past 1.5 × the acknowledged bitrate + 10 kbit/s, so an application-
/// limited sender does not talk the estimate up to a rate it never tried. Bits per second.
struct AimdRateControl: Sendable {
    enum State: Sendable, Equatable { case hold, increase, decrease }

    static let beta = 0.85
    static let multiplicativeIncreasePerSecond = 1.08
    static let minIncreasePerSecond = 4_000.0
    static let defaultRoundTrip = 0.2

    var minBitrate: Double
    var maxBitrate: Double
    private(set) var current: Double
    private(set) var state = State.hold
    private(set) var linkCapacity = LinkCapacityEstimator()
    private var latestAcknowledged: Double?
    private var timeLastChange: Double?
    private var timeLastDecrease: Double?
    var roundTrip = defaultRoundTrip

    init(start: Double, min: Double, max: Double) {
        minBitrate = min
        maxBitrate = max
        current = Swift.min(Swift.max(start, min), max)
    }

    /// A new detector state after a feedback message; the acknowledged bitrate if known.
    mutating func update(usage: BandwidthUsage, acknowledged: Double?, now: Double) {
        if let acknowledged { latestAcknowledged = acknowledged }
        let throughput = acknowledged ?? latestAcknowledged
        changeState(usage, now: now)
        var next = current
        switch state {
        case .hold:
            break
        case .increase:
            if let throughput, throughput > linkCapacity.upperBound { linkCapacity.reset() }
            let limit = throughput.map { 1.5 * $0 + 10_000 } ?? .infinity
            if current < limit {
                let increase = linkCapacity.estimate != nil
                    ? additiveIncrease(now: now) : multiplicativeIncrease(now: now)
                next = Swift.min(current + increase, Swift.max(current, limit))
            }
            timeLastChange = now
        case .decrease:
            // The acknowledged rate says what the link carried; without one, halve.
            if let throughput, throughput < linkCapacity.lowerBound || throughput > linkCapacity.upperBound {
                // The link is not what it was at the last over-uses: forget that capacity.
                linkCapacity.reset()
            }
            var decreased = throughput.map { $0 * Self.beta } ?? current / 2
            if decreased > current, let capacity = linkCapacity.estimateBitsPerSecond {
                decreased = Self.beta * capacity
            }
            if decreased < current { next = decreased }
            if let throughput { linkCapacity.onOveruseDetected(acknowledgedBitrate: throughput) }
            // Stay on hold until the queue has drained.
            state = .hold
            timeLastChange = now
            timeLastDecrease = now
        }
        current = clamp(next)
    }

    /// A measured rate (a probe): taken as the estimate at once.
    mutating func setEstimate(_ bitrate: Double, now: Double) {
        let previous = current
        current = clamp(bitrate)
        timeLastChange = now
        if current < previous { timeLastDecrease = now }
    }

    /// Over-use again soon after a decrease: decrease again only after a round trip (10–200 ms)
    /// or when the acknowledged rate fell below half the estimate.
    func timeToReduceFurther(now: Double, acknowledged: Double) -> Bool {
        let interval = Swift.min(Swift.max(roundTrip, 0.01), 0.2)
        if let last = timeLastChange, now - last >= interval { return true }
        if timeLastChange == nil { return true }
        return acknowledged < 0.5 * current
    }

    private mutating func changeState(_ usage: BandwidthUsage, now: Double) {
        switch usage {
        case .normal:
            if state == .hold {
                timeLastChange = now
                state = .increase
            }
        case .overusing:
            if state != .decrease { state = .decrease }
        case .underusing:
            state = .hold
        }
    }

    private func multiplicativeIncrease(now: Double) -> Double {
        var alpha = Self.multiplicativeIncreasePerSecond
        if let last = timeLastChange {
            let elapsed = Swift.min(Swift.max(now - last, 0), 1)
            alpha = pow(alpha, elapsed)
        }
        return Swift.max(current * (alpha - 1), 1_000)
    }

    private func additiveIncrease(now: Double) -> Double {
        guard let last = timeLastChange else { return 0 }
        return nearMaxIncreasePerSecond() * Swift.min(Swift.max(now - last, 0), 1)
    }

    /// About one average packet per response time (a round trip + 100 ms), assuming 30
    /// frames a second of packets of at most 1200 bytes.
    private func nearMaxIncreasePerSecond() -> Double {
        let frameSize = current / 30
        let packetsPerFrame = (frameSize / (8 * 1200)).rounded(.up)
        let packetSize = packetsPerFrame > 0 ? frameSize / packetsPerFrame : frameSize
        let responseTime = roundTrip + 0.1
        return Swift.max(Self.minIncreasePerSecond, packetSize / responseTime)
    }

    private func clamp(_ bitrate: Double) -> Double {
        guard bitrate.isFinite else { return current }
        return Swift.min(Swift.max(bitrate, minBitrate), Swift.max(minBitrate, maxBitrate))
    }
}
