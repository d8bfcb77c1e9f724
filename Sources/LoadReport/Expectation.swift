import Foundation

/// One `--expect` threshold, e.g. `loss<2%`, `video.bitrate>=250k`, `delay_p95<400ms`,
/// `joined=all`.
///
/// Grammar: `[video.|audio.]FIGURE OP VALUE`, spaces allowed around the operator.
/// FIGURE and its level are in `ExpectationMetric`; OP is one of `< <= > >= =` (`==` is read
/// as `=`); VALUE carries the figure's unit: `%` for loss, `k`/`M` (optionally `bps`) for
/// bitrate, `ms`/`s` for jitter and delay, a whole number for packets, freezes and tracks,
/// `all`, a number or a percentage for joined, `all` or a number for tracks. The kind prefix
/// narrows a per-track or per-subscriber figure to the tracks of that kind, which is how a
/// bitrate floor for video leaves audio alone (`video.bitrate>=250k`).
public struct Expectation: Sendable, Equatable, CustomStringConvertible {
    /// The expression as given (trimmed): how results name it.
    public let text: String
    /// `video` or `audio`, nil for every track.
    public let kind: String?
    public let metric: ExpectationMetric
    public let comparison: ComparisonOperator
    public let threshold: ExpectationThreshold

    public var description: String { text }

    public init(kind: String? = nil, metric: ExpectationMetric, comparison: ComparisonOperator,
                threshold: ExpectationThreshold, text: String) {
        self.kind = kind
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.text = text
    }

    /// Parses one expression; a bad one is an `ExpectationError` that says what to write.
    public init(parsing expression: String) throws(ExpectationError) {
        let text = expression.trimmingCharacters(in: .whitespaces)
        func fail(_ reason: String) -> ExpectationError { ExpectationError(expression: text, reason: reason) }
        let compact = String(text.filter { !$0.isWhitespace })
        guard !compact.isEmpty else { throw fail("empty; write e.g. loss<2% or joined=all") }

        guard let opStart = compact.firstIndex(where: { "<>=!".contains($0) }) else {
            throw fail("no comparison; write FIGURE OP VALUE with OP one of < <= > >= =, e.g. loss<2%")
        }
        var name = String(compact[..<opStart])
        var rest = compact[opStart...]
        let op: ComparisonOperator
        if rest.hasPrefix("<=") { op = .lessOrEqual; rest = rest.dropFirst(2) }
        else if rest.hasPrefix(">=") { op = .greaterOrEqual; rest = rest.dropFirst(2) }
        else if rest.hasPrefix("==") { op = .equal; rest = rest.dropFirst(2) }
        else if rest.hasPrefix("<") { op = .less; rest = rest.dropFirst() }
        else if rest.hasPrefix(">") { op = .greater; rest = rest.dropFirst() }
        else if rest.hasPrefix("=") { op = .equal; rest = rest.dropFirst() }
        else { throw fail("unknown operator; use one of < <= > >= =") }
        let value = String(rest)
        guard !value.isEmpty else { throw fail("no value after \(op.rawValue)") }
        guard !value.contains(where: { "<>=!".contains($0) }) else { throw fail("one comparison per expression; give --expect again for another") }

        var kind: String?
        for prefix in ["video", "audio"] where name.hasPrefix(prefix + ".") {
            kind = prefix
            name.removeFirst(prefix.count + 1)
        }
        guard let metric = ExpectationMetric(rawValue: name) else {
            let known = ExpectationMetric.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail(name.isEmpty ? "no figure before \(op.rawValue); known: \(known)" : "unknown figure \"\(name)\"; known: \(known)")
        }
        if kind != nil, metric == .joined { throw fail("joined counts bots, not tracks: no video./audio. prefix") }

        self.text = text
        self.kind = kind
        self.metric = metric
        self.comparison = op
        self.threshold = try Self.threshold(value, for: metric, op: op, fail: fail)
    }

    private static func threshold(_ value: String, for metric: ExpectationMetric, op: ComparisonOperator,
                                  fail: (String) -> ExpectationError) throws(ExpectationError) -> ExpectationThreshold {
        let name = metric.rawValue
        switch metric.unit {
        case .percent:
            guard value.hasSuffix("%"), let p = decimal(value.dropLast()) else {
                throw fail("\(name) is a percentage, e.g. \(name)<2%")
            }
            guard p <= 100 else { throw fail("\(name) cannot exceed 100%") }
            return .value(p / 100)
        case .bitrate:
            var digits = Substring(value)
            for unit in ["bps", "b/s"] where digits.lowercased().hasSuffix(unit) { digits = digits.dropLast(unit.count) }
            var scale = 1.0
            switch digits.last {
            case "k", "K": scale = 1e3
            case "M": scale = 1e6
            case "G": scale = 1e9
            case "m": throw fail("m would be milli: megabits are M, e.g. \(name)>=1.5M")
            default: break
            }
            if scale != 1 { digits = digits.dropLast() }
            guard let number = decimal(digits) else { throw fail("\(name) is bits per second with an optional k or M, e.g. \(name)>=250k") }
            return .value(number * scale)
        case .duration:
            let scale: Double
            var digits = Substring(value)
            if digits.hasSuffix("ms") { scale = 1; digits = digits.dropLast(2) }
            else if digits.hasSuffix("s") { scale = 1000; digits = digits.dropLast() }
            else { throw fail("\(name) needs a unit, ms or s, e.g. \(name)<400ms") }
            guard let number = decimal(digits) else { throw fail("\(name) is a duration, e.g. \(name)<400ms or \(name)<0.4s") }
            return .value(number * scale)
        case .count:
            guard let number = whole(value) else { throw fail("\(name) is a whole number, e.g. \(name)=0") }
            return .value(number)
        case .tracks:
            if value == "all" { return try all(op, name: name, fail: fail) }
            guard let number = whole(value) else { throw fail("\(name) is all or a whole number, e.g. tracks=all or tracks>=4") }
            return .value(number)
        case .joined:
            if value == "all" { return try all(op, name: name, fail: fail) }
            if value.hasSuffix("%") {
                guard let p = decimal(value.dropLast()), p <= 100 else { throw fail("a share of bots is 0% to 100%, e.g. joined>=95%") }
                return .percentOfPlanned(p)
            }
            guard let number = whole(value) else { throw fail("joined is all, a number of bots or a percentage, e.g. joined=all, joined>=40, joined>=95%") }
            return .value(number)
        }
    }

    private static func all(_ op: ComparisonOperator, name: String, fail: (String) -> ExpectationError) throws(ExpectationError) -> ExpectationThreshold {
        guard op == .equal || op == .greaterOrEqual else { throw fail("\(name)=all takes = or >=") }
        return .all
    }

    /// A plain decimal (`2`, `2.5`, `.5`): no sign, exponent, inf or nan.
    static func decimal(_ text: some StringProtocol) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, parts.count <= 2, parts.contains(where: { !$0.isEmpty }),
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        return Double(text.hasPrefix(".") ? "0" + text : String(text))
    }

    private static func whole(_ text: String) -> Double? {
        guard !text.isEmpty, text.count <= 15, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Double(text)
    }
}
