/// A `--expect` that cannot be understood: a usage error, with what to write instead.
public struct ExpectationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var expression: String
    public var reason: String

    public var description: String { "--expect \"\(expression)\": \(reason)" }
}
