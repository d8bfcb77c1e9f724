/// How much the send side may spend on retransmissions: a token bucket filled at a share of
/// the target bitrate, holding at most `window` seconds of it. libwebrtc keeps retransmissions
/// under the whole target over 500 ms (`RateLimiter`, `kRetransmitWindowSizeMs`); nacho keeps
/// them under half the target, so a NACK storm leaves media at least what it would have and
/// the link at most 1.5 × the target. What does not fit is dropped (the caller counts it).
public struct RetransmissionBudget: Sendable, Equatable {
    public static let defaultShare = 0.5
    public static let defaultWindow = 0.5

    public let share: Double
    public let window: Double
    /// Bits per second the bucket fills at.
    public private(set) var rate: Double
    private var tokens: Double
    private var lastFill: Double?

    public init(targetBitrate: Int, share: Double = defaultShare, window: Double = defaultWindow) {
        self.share = share
        self.window = window
        rate = Double(max(targetBitrate, 0)) * share
        tokens = rate * window / 8
    }

    public mutating func setTarget(_ bitrate: Int, now: Double) {
        fill(now: now)
        rate = Double(max(bitrate, 0)) * share
        tokens = min(tokens, rate * window / 8)
    }

    /// Takes `bytes` from the budget if they fit.
    public mutating func use(_ bytes: Int, now: Double) -> Bool {
        fill(now: now)
        guard Double(bytes) <= tokens else { return false }
        tokens -= Double(bytes)
        return true
    }

    private mutating func fill(now: Double) {
        guard let last = lastFill else {
            lastFill = now
            return
        }
        guard now > last else { return }
        tokens = min(tokens + rate / 8 * min(now - last, window), rate * window / 8)
        lastFill = now
    }
}
