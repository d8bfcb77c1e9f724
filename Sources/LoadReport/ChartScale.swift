import Foundation

/// Axis ranges with round tick values (1, 2 or 5 times a power of ten).
struct ChartScale {
    var maximum: Double
    var ticks: [Double]
    /// Decimals the tick labels need (a step of 0.2 needs one).
    var decimals: Int

    /// From 0 to at least `maximum`, about `count` ticks; `whole` for counts (steps of at
    /// least 1). A maximum too small to tell from 0 (a denormal's tenth is 0, and its log -inf)
    /// gets the axis of 1; one too large is cut at 10^18 (values past the axis are drawn at its
    /// edge), so steps and decimals stay small whole numbers.
    init(upTo maximum: Double, count: Int = 5, whole: Bool = false) {
        let top = maximum.isFinite && maximum >= 1e-6 ? min(maximum, 1e18) : 1
        let rough = top / Double(count)
        let exponent = floor(log10(rough))
        let power = pow(10, exponent)
        var step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        var decimals = max(0, Int(-exponent))
        if whole, step < 1 {
            step = 1
            decimals = 0
        }
        if step >= 1 { decimals = 0 }
        let steps = Int((top / step).rounded(.up))
        self.maximum = Double(steps) * step
        // Multiples of the step, not repeated additions, so 0.6 is 0.6 and not 0.6000000001.
        ticks = (0...steps).map { Double($0) * step }
        self.decimals = decimals
    }

    func label(_ value: Double) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
