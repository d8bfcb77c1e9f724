/// Exponential backoff with jitter between reconnection attempts: 0.5 s, 1 s, 2 s, ... up to
/// 10 s, each ±20 %, so that hundreds of bots dropped together do not return together.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    public var jitter: Double
    public private(set) var attempt = 0

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(10),
                multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before the next attempt.
    public mutating func next<R: RandomNumberGenerator>(using random: inout R) -> Duration {
        let base = min(initial.seconds * pow(multiplier, Double(attempt)), maximum.seconds)
        attempt += 1
        let factor = 1 + Double.random(in: -jitter...jitter, using: &random)
        return .milliseconds(Int((base * factor * 1000).rounded()))
    }

    public mutating func next() -> Duration {
        var random = SystemRandomNumberGenerator()
        return next(using: &random)
    }

    /// After a session that worked, start again from the initial delay.
    public mutating func reset() { attempt = 0 }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
