/// A `track` line: one bot's one track over about one second (docs/STATS.md).
public struct TrackLine: Codable, Sendable, Equatable {
    public var run: String
    public var time: String?
    /// The bot's member number.
    public var bot: String
    /// `video_publisher`, `audio_publisher` or `subscriber`.
    public var role: String?
    /// The track's figures, written flat into the same JSON object.
    public var figures: TrackFigures

    public init(run: String, time: String? = nil, bot: String, role: String? = nil, figures: TrackFigures) {
        self.run = run
        self.time = time
        self.bot = bot
        self.role = role
        self.figures = figures
    }

    enum CodingKeys: String, CodingKey {
        case run, time, bot, role
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        run = try c.decodeIdentifier(forKey: .run)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        bot = try c.decodeIdentifier(forKey: .bot)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        figures = try TrackFigures(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run, forKey: .run)
        try c.encode(time, forKey: .time)
        try c.encode(bot, forKey: .bot)
        try c.encode(role, forKey: .role)
        try figures.encode(to: encoder)
    }
}
