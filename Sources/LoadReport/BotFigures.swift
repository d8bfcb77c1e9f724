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

    public init(run: String, bot: String, role: String?, joined: Bool, joinAttempts: Int? = nil, joinMs: Double? = nil,
                reconnections: Int? = nil, error: String? = nil, hasSummary: Bool) {
        self.run = run
        self.bot = bot
        self.role = role
        self.joined = joined
        self.joinAttempts = joinAttempts
        self.joinMs = joinMs
        self.reconnections = reconnections
        self.error = error
        self.hasSummary = hasSummary
    }
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

    public init(planned: Int, joined: Int, notJoined: [BotFigures], joinMsP50: Double?, joinMsP95: Double?, reconnections: Int) {
        self.planned = planned
        self.joined = joined
        self.notJoined = notJoined
        self.joinMsP50 = joinMsP50
        self.joinMsP95 = joinMsP95
        self.reconnections = reconnections
    }
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

    public init(run: String, room: String? = nil, host: String? = nil, index: Int? = nil, memberBase: Int? = nil,
                version: String? = nil, plan: RunPlan? = nil, planned: Int, joined: Int, ended: Bool, passed: Bool? = nil) {
        self.run = run
        self.room = room
        self.host = host
        self.index = index
        self.memberBase = memberBase
        self.version = version
        self.plan = plan
        self.planned = planned
        self.joined = joined
        self.ended = ended
        self.passed = passed
    }
}
