/// Totals gathered across sessions: the latest per key (consumer or producer id).
actor TotalsRegistry<Totals: Sendable> {
    private var byKey: [String: Totals] = [:]
    private let key: @Sendable (Totals) -> String

    init(key: @escaping @Sendable (Totals) -> String) { self.key = key }

    func add(_ totals: [Totals]) {
        for entry in totals { byKey[key(entry)] = entry }
    }

    func all(sortedBy order: (Totals, Totals) -> Bool) -> [Totals] { byKey.values.sorted(by: order) }
}
