/// Percentiles of figures that are themselves summaries (per-interval or per-track
/// percentiles), weighted by how many frames each stands for.
///
/// A percentile of percentiles is not the percentile of the underlying frames: it leans to
/// the spread of the parts. For p95 that errs high, never low, which is the safe side for a
/// `delay_p95<…` threshold; for a single part it is exact.
enum Percentile {
    /// The smallest value whose cumulative weight reaches `q` (0…1) of the total; nil when empty.
    static func weighted(_ items: [(value: Double, weight: Double)], _ q: Double) -> Double? {
        let usable = items.filter { $0.value.isFinite && $0.weight > 0 }.sorted { $0.value < $1.value }
        let total = usable.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return nil }
        var cumulative = 0.0
        for item in usable {
            cumulative += item.weight
            if cumulative >= q * total - 1e-9 { return item.value }
        }
        return usable.last?.value
    }

    /// Unweighted percentile of plain values.
    static func of(_ values: [Double], _ q: Double) -> Double? {
        weighted(values.map { ($0, 1) }, q)
    }
}
