/// One bot's join: from its `summary` line, or inferred from its `track` lines when the
/// process ended without summaries (killed, crashed).
public struct BotFigures: Sendable, Equatable {
    public var run: String
    public var bot: String
    public var role: String?
    public var joined: Bool
    public var joinAttempts: Int?
    public var joinMs: Double?
    public var reconnections: Int?
    public var error: String?
    /// False when the bot has no summary line and is known only from its track lines.
    public var hasSummary: Bool

}

/// Joins over every run of the report.
public struct JoinFigures: Sendable, Equatable {
    /// Bots planned: per run the `end` line's count, else the `run` line's plan, and at
    /// least the bots seen.
    public var planned: Int
    public var joined: Int
    /// Bots known not to have joined (their summary says so), with their errors.
    public var notJoined: [BotFigures]
    public var joinMsP50: Double?
    public var joinMsP95: Double?
    public var reconnections: Int

}

/// One process (run) of the report.
public struct RunFigures: Sendable, Equatable {
    public var run: String
    public var room: String?
    public var host: String?
    public var index: Int?
    public var memberBase: Int?
    public var version: String?
    public var plan: RunPlan?
    public var planned: Int
    public var joined: Int
    /// The `end` line was read (the process finished its statistics).
    public var ended: Bool
    /// The `end` line's verdict on the run's own `--expect`s.
    public var passed: Bool?

}
