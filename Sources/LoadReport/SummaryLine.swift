/// A `summary` line: once per bot, at the end (docs/STATS.md).
public struct SummaryLine: Codable, Sendable, Equatable {
    public var run: String
    public var time: String?
    public var bot: String
    public var role: String?
    /// The bot got into the room (its media transport connected).
    public var joined: Bool
    public var joinAttempts: Int?
    @NullWhenNil public var joinMs: Double?
    public var reconnections: Int?
    /// Why it did not join or stopped early.
    @NullWhenNil public var error: String?
    /// Totals over the run, one per track.
    public var tracks: [TrackFigures]

    public init(run: String, time: String? = nil, bot: String, role: String? = nil, joined: Bool, joinAttempts: Int? = nil,
                joinMs: Double? = nil, reconnections: Int? = nil, error: String? = nil, tracks: [TrackFigures] = []) {
        self.run = run
        self.time = time
        self.bot = bot
        self.role = role
        self.joined = joined
        self.joinAttempts = joinAttempts
        self.joinMs = joinMs
        self.reconnections = reconnections
        self.error = error
        self.tracks = tracks
    }

    enum CodingKeys: String, CodingKey {
        case run, time, bot, role, joined
        case joinAttempts = "join_attempts", joinMs = "join_ms"
        case reconnections, error, tracks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        run = try c.decodeIdentifier(forKey: .run)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        bot = try c.decodeIdentifier(forKey: .bot)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        joined = try c.decode(Bool.self, forKey: .joined)
        joinAttempts = try c.decodeIfPresent(Int.self, forKey: .joinAttempts)
        joinMs = try c.decodeIfPresent(Double.self, forKey: .joinMs)
        reconnections = try c.decodeIfPresent(Int.self, forKey: .reconnections)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        tracks = try c.decodeIfPresent([TrackFigures].self, forKey: .tracks) ?? []
    }
}
