/// Lines of one file that are not statistics, by why: counted, and reported once per kind
/// with the first one's number, since a fleet's merged logs can hold thousands.
struct SkippedLines {
    enum Kind: CaseIterable {
        /// No `{` at all: log output.
        case noObject
        /// Text before the `{` that no log collector writes: a log line quoting JSON.
        case logLine
        /// A JSON object whose `type` this reader does not know (a newer writer's, or none).
        case unknownType

        var reason: String {
            switch self {
            case .noObject: "without a JSON object skipped (log output?)"
            case .logLine: "with text before the JSON object skipped (log output, not statistics)"
            case .unknownType: "of an unknown type skipped"
            }
        }
    }

    private var counts: [Kind: (count: Int, first: Int)] = [:]

    mutating func note(_ kind: Kind, line: Int) {
        let seen = counts[kind]
        counts[kind] = ((seen?.count ?? 0) + 1, seen?.first ?? line)
    }

    func problems(source: String) -> [StatsProblem] {
        Kind.allCases.compactMap { kind in
            guard let (count, first) = counts[kind] else { return nil }
            let lines = count == 1 ? "1 line" : "\(count) lines"
            return StatsProblem(source: source, line: nil, message: "\(lines) \(kind.reason), the first at line \(first)")
        }
    }
}
