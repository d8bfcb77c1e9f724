/// Counters come from files anyone can write: adding them must not trap. A sum that would pass
/// `Int.max` (or `Int.min`) stays there, which a report shows as an absurd figure, not a crash.
extension Int {
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func subtractingSaturated(_ other: Int) -> Int {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// The whole number at or below `value`, nil when it is not finite or too large to be a
    /// second or a count (beyond ±2^53, where doubles stop being whole numbers exactly).
    init?(flooring value: Double) {
        guard value.isFinite, abs(value) < 9_007_199_254_740_992 else { return nil }
        self.init(value.rounded(.down))
    }
}

extension Sequence {
    /// The sum of `value` over the elements, saturating instead of trapping.
    func saturatingSum(_ value: (Element) -> Int) -> Int {
        reduce(0) { $0.addingSaturated(value($1)) }
    }
}
