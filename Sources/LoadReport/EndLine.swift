/// The `end` line: once, last, per process (docs/STATS.md).
public struct EndLine: Codable, Sendable, Equatable {
    public var run: String
    public var time: String?
    /// Bots planned.
    public var bots: Int?
    /// Bots that joined.
    public var joined: Int?
    public var expectations: [ExpectationRecord]
    /// Every expectation met.
    public var passed: Bool?

    public init(run: String, time: String? = nil, bots: Int? = nil, joined: Int? = nil,
                expectations: [ExpectationRecord] = [], passed: Bool? = nil) {
        self.run = run
        self.time = time
        self.bots = bots
        self.joined = joined
        self.expectations = expectations
        self.passed = passed
    }

    enum CodingKeys: String, CodingKey {
        case run, time, bots, joined, expectations, passed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        run = try c.decodeIdentifier(forKey: .run)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        bots = try c.decodeIfPresent(Int.self, forKey: .bots)
        joined = try c.decodeIfPresent(Int.self, forKey: .joined)
        expectations = try c.decodeIfPresent([ExpectationRecord].self, forKey: .expectations) ?? []
        passed = try c.decodeIfPresent(Bool.self, forKey: .passed)
    }
}

/// One `--expect` as the `end` line and `nacho report --json` write it: the expression,
/// whether it was met, the bots that missed it and one line per miss.
public struct ExpectationRecord: Codable, Sendable, Equatable {
    public var expect: String
    public var met: Bool
    /// Member numbers of the bots that missed it, sorted, each once.
    public var missed: [String]
    /// One line per miss, as printed.
    public var misses: [String]

    public init(expect: String, met: Bool, missed: [String] = [], misses: [String] = []) {
        self.expect = expect
        self.met = met
        self.missed = missed
        self.misses = misses
    }

    enum CodingKeys: String, CodingKey {
        case expect, met, missed, misses
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        expect = try c.decodeIfPresent(String.self, forKey: .expect) ?? ""
        met = try c.decodeIfPresent(Bool.self, forKey: .met) ?? false
        missed = try c.decodeIfPresent([String].self, forKey: .missed) ?? []
        misses = try c.decodeIfPresent([String].self, forKey: .misses) ?? []
    }
}
