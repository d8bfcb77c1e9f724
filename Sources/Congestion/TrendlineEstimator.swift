/// The slope of the queuing delay over time (libwebrtc's `TrendlineEstimator`): the delay
/// variations between send groups are accumulated, smoothed (exponential, 0.9) and a line is
/// fitted by least squares through the last 20 points (arrival time, smoothed delay). A
/// positive slope means a queue is building. Milliseconds inside, as libwebrtc, so the
/// detector's threshold constants keep their meaning.
struct TrendlineEstimator: Sendable {
    static let windowSize = 20
    static let smoothingCoefficient = 0.9
    /// libwebrtc caps the delta counter so the detector's gain stays bounded.
    static let deltaCounterMax = 1000

    private struct Point {
        var arrivalTime: Double
        var smoothedDelay: Double
    }

    private var history: [Point] = []
    private var firstArrivalTime: Double?
    private var accumulatedDelay = 0.0
    private var smoothedDelay = 0.0
    /// How many deltas were seen (capped): the detector scales the trend by it early on.
    private(set) var numberOfDeltas = 0
    /// The latest fitted slope (ms of delay per ms), kept when a fit is impossible.
    private(set) var trend = 0.0

    /// One group delta; `arrivalTime` is the group's arrival on the receiver's clock, ms.
    mutating func update(arrivalDelta: Double, sendDelta: Double, arrivalTime: Double) {
        let delta = arrivalDelta - sendDelta
        guard delta.isFinite, arrivalTime.isFinite else { return }
        numberOfDeltas = min(numberOfDeltas + 1, Self.deltaCounterMax)
        let first = firstArrivalTime ?? arrivalTime
        firstArrivalTime = first
        accumulatedDelay += delta
        smoothedDelay = Self.smoothingCoefficient * smoothedDelay + (1 - Self.smoothingCoefficient) * accumulatedDelay
        history.append(Point(arrivalTime: arrivalTime - first, smoothedDelay: smoothedDelay))
        if history.count > Self.windowSize { history.removeFirst() }
        if history.count == Self.windowSize, let slope = Self.slope(of: history) { trend = slope }
    }

    /// Least-squares slope; nil when all points share one arrival time.
    private static func slope(of points: [Point]) -> Double? {
        let count = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.arrivalTime } / count
        let meanY = points.reduce(0) { $0 + $1.smoothedDelay } / count
        var numerator = 0.0
        var denominator = 0.0
        for point in points {
            let dx = point.arrivalTime - meanX
            numerator += dx * (point.smoothedDelay - meanY)
            denominator += dx * dx
        }
        guard denominator != 0 else { return nil }
        let slope = numerator / denominator
        return slope.isFinite ? slope : nil
    }
}
