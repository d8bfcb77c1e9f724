/// The `run` line: once, first, per process (docs/STATS.md).
public struct RunLine: Codable, Sendable, Equatable {
    /// The id shared by the lines of one process.
    public var run: String
    /// UTC, RFC 3339 with milliseconds.
    public var time: String?
    public var room: String?
    public var host: String?
    /// The fleet index (`--index`, `JOB_COMPLETION_INDEX`), nil when not in a fleet.
    @NullWhenNil public var index: Int?
    /// First member number of this process.
    public var memberBase: Int?
    public var plan: RunPlan?
    public var version: String?

    public init(run: String, time: String? = nil, room: String? = nil, host: String? = nil, index: Int? = nil,
                memberBase: Int? = nil, plan: RunPlan? = nil, version: String? = nil) {
        self.run = run
        self.time = time
        self.room = room
        self.host = host
        self.index = index
        self.memberBase = memberBase
        self.plan = plan
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case run, time, room, host, index
        case memberBase = "member_base"
        case plan, version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        run = try c.decodeIdentifier(forKey: .run)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        room = try c.decodeIdentifierIfPresent(forKey: .room)
        host = try c.decodeIfPresent(String.self, forKey: .host)
        index = try c.decodeIfPresent(Int.self, forKey: .index)
        memberBase = try c.decodeIfPresent(Int.self, forKey: .memberBase)
        plan = try c.decodeIfPresent(RunPlan.self, forKey: .plan)
        version = try c.decodeIfPresent(String.self, forKey: .version)
    }
}

/// What a process was asked to run (the `plan` of a `run` line).
public struct RunPlan: Codable, Sendable, Equatable {
    public var videoPublishers: Int?
    public var audioPublishers: Int?
    public var subscribers: Int?
    public var numPerSecond: Double?
    /// Seconds, nil for "until stopped".
    @NullWhenNil public var duration: Double?
    public var videoSource: String?
    public var audioSource: String?
    public var simulcast: Bool?

    public init(videoPublishers: Int? = nil, audioPublishers: Int? = nil, subscribers: Int? = nil, numPerSecond: Double? = nil,
                duration: Double? = nil, videoSource: String? = nil, audioSource: String? = nil, simulcast: Bool? = nil) {
        self.videoPublishers = videoPublishers
        self.audioPublishers = audioPublishers
        self.subscribers = subscribers
        self.numPerSecond = numPerSecond
        self.duration = duration
        self.videoSource = videoSource
        self.audioSource = audioSource
        self.simulcast = simulcast
    }

    enum CodingKeys: String, CodingKey {
        case videoPublishers = "video_publishers", audioPublishers = "audio_publishers", subscribers
        case numPerSecond = "num_per_second", duration
        case videoSource = "video_source", audioSource = "audio_source", simulcast
    }

    /// Bots planned in this process, nil when the plan names none of the three counts.
    public var bots: Int? {
        let counts = [videoPublishers, audioPublishers, subscribers].compactMap { $0 }
        return counts.isEmpty ? nil : counts.saturatingSum { $0 }
    }
}
