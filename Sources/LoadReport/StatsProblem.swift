/// A line (or a file) that could not be read, reported and skipped.
public struct StatsProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file as given on the command line (`-` for standard input).
    public var source: String
    /// 1-based line number, nil for a problem with the whole file.
    public var line: Int?
    public var message: String

    /// `FILE:LINE: message`, the way compilers point at a line.
    public var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}

/// What the reader got from some files: the lines it understood, and what it skipped.
public struct StatsInput: Sendable {
    public var records: [StatsRecord]
    public var problems: [StatsProblem]

    public init(records: [StatsRecord] = [], problems: [StatsProblem] = []) {
        self.records = records
        self.problems = problems
    }

    public mutating func append(_ other: StatsInput) {
        records += other.records
        problems += other.problems
    }
}

/// A file that cannot be read at all (missing, a directory, no permission).
public struct StatsReadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var reason: String

    public var description: String { "cannot read \(source): \(reason)" }
}
