/// The figures `--expect` can test, each at its natural level.
public enum ExpectationMetric: String, CaseIterable, Sendable {
    /// Bots that joined, over all runs (`joined=all`, `joined>=N`, `joined>=95%`).
    case joined
    /// Loss of each published track and of each received track, `%`.
    case loss
    /// Mean bitrate of each published and each received track, bits per second (`k`, `M`).
    case bitrate
    /// RTP packets of each published and each received track.
    case packets
    /// Interarrival jitter of each received track (`ms`, `s`).
    case jitter
    /// Video freezes of each subscriber, all its tracks together.
    case freezes
    /// End-to-end delay percentiles of each subscriber (`ms`, `s`).
    case delayP50 = "delay_p50"
    case delayP95 = "delay_p95"
    /// Tracks each subscriber received (`tracks=all`: every published track of its room).
    case tracks

    /// Where a figure is checked.
    public enum Level: Sendable {
        /// Once, over every run.
        case fleet
        /// Each track (published and received; `jitter`: received only).
        case track
        /// Each receiving bot.
        case subscriber
    }

    public var level: Level {
        switch self {
        case .joined: .fleet
        case .loss, .bitrate, .packets, .jitter: .track
        case .freezes, .delayP50, .delayP95, .tracks: .subscriber
        }
    }

    /// How its value is written.
    enum Unit {
        case percent, bitrate, count, duration, joined, tracks
    }

    var unit: Unit {
        switch self {
        case .joined: .joined
        case .loss: .percent
        case .bitrate: .bitrate
        case .packets, .freezes: .count
        case .jitter, .delayP50, .delayP95: .duration
        case .tracks: .tracks
        }
    }

    /// The value as a miss shows it (`loss 3.4 %`, `delay_p95 512 ms`).
    func show(_ value: Double) -> String {
        switch unit {
        case .percent: "\(rawValue) \(FigureFormat.percent(value))"
        case .bitrate: "\(rawValue) \(FigureFormat.bitrate(value))"
        case .duration: "\(rawValue) \(FigureFormat.milliseconds(value))"
        case .count, .tracks, .joined: "\(rawValue) \(FigureFormat.number(value))"
        }
    }
}

/// `<`, `<=`, `>`, `>=`, `=`.
public enum ComparisonOperator: String, CaseIterable, Sendable {
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case equal = "="

    public func holds(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .less: value < threshold
        case .lessOrEqual: value <= threshold
        case .greater: value > threshold
        case .greaterOrEqual: value >= threshold
        // Thresholds are decimal text; a figure that went through arithmetic may differ in the
        // last bits.
        case .equal: abs(value - threshold) <= 1e-9 * max(1, abs(threshold))
        }
    }
}

/// The right-hand side of an expectation, in the figure's own unit (fractions for `%` of
/// loss, bits per second, milliseconds, counts).
public enum ExpectationThreshold: Sendable, Equatable {
    case value(Double)
    /// `joined=all`, `tracks=all`.
    case all
    /// `joined>=95%`: a share of the planned bots, 0…100.
    case percentOfPlanned(Double)
}
