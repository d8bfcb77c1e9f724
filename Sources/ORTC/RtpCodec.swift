/// What a codec is both as a capability and as negotiated parameters: mediasoup's
/// `RtpCodecCapability` and `RtpCodecParameters` carry these fields under the same JSON keys
/// with the same defaults (libwebrtc's `RtpCodec`, the base of both). The two types embed it
/// and flatten it into their own JSON object.
public struct RtpCodec: Sendable, Hashable, Codable {
    public var mimeType: String
    public var clockRate: Int
    public var channels: Int?
    public var parameters: [String: CodecParameterValue]
    public var rtcpFeedback: [RtcpFeedback]

    public init(mimeType: String, clockRate: Int, channels: Int? = nil,
                parameters: [String: CodecParameterValue] = [:], rtcpFeedback: [RtcpFeedback] = []) {
        self.mimeType = mimeType
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mimeType = try c.decode(String.self, forKey: .mimeType)
        clockRate = try c.decode(Int.self, forKey: .clockRate)
        channels = try c.decodeIfPresent(Int.self, forKey: .channels)
        parameters = try c.decodeIfPresent([String: CodecParameterValue].self, forKey: .parameters) ?? [:]
        rtcpFeedback = try c.decodeIfPresent([RtcpFeedback].self, forKey: .rtcpFeedback) ?? []
    }

    public var isRtx: Bool { MimeType.isRtx(mimeType) }
}

/// A type that embeds an `RtpCodec` and shows its fields as its own (`capability.mimeType`).
@dynamicMemberLookup
public protocol RtpCodecEmbedding {
    var codec: RtpCodec { get set }
}

extension RtpCodecEmbedding {
    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<RtpCodec, Value>) -> Value {
        get { codec[keyPath: keyPath] }
        set { codec[keyPath: keyPath] = newValue }
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<RtpCodec, Value>) -> Value {
        codec[keyPath: keyPath]
    }
}
