/// What an endpoint can send or receive: mediasoup's `RtpCapabilities`.
public struct RtpCapabilities: Sendable, Hashable, Codable {
    public var codecs: [RtpCodecCapability]
    public var headerExtensions: [RtpHeaderExtension]

    public init(codecs: [RtpCodecCapability], headerExtensions: [RtpHeaderExtension] = []) {
        self.codecs = codecs
        self.headerExtensions = headerExtensions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        codecs = try c.decodeIfPresent([RtpCodecCapability].self, forKey: .codecs) ?? []
        headerExtensions = try c.decodeIfPresent([RtpHeaderExtension].self, forKey: .headerExtensions) ?? []
    }
}

/// A codec an endpoint supports, with its preferred payload type.
public struct RtpCodecCapability: Sendable, Hashable, Codable, RtpCodecEmbedding {
    public var kind: MediaKind?
    public var codec: RtpCodec
    public var preferredPayloadType: Int?

    public init(kind: MediaKind? = nil, mimeType: String, preferredPayloadType: Int? = nil, clockRate: Int,
                channels: Int? = nil, parameters: [String: CodecParameterValue] = [:], rtcpFeedback: [RtcpFeedback] = []) {
        self.kind = kind ?? MediaKind(mimeType: mimeType)
        self.codec = RtpCodec(mimeType: mimeType, clockRate: clockRate, channels: channels,
                              parameters: parameters, rtcpFeedback: rtcpFeedback)
        self.preferredPayloadType = preferredPayloadType
    }

    private enum CodingKeys: String, CodingKey { case kind, preferredPayloadType }

    // The codec's fields stand in the same JSON object as these.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(MediaKind.self, forKey: .kind)
        codec = try RtpCodec(from: decoder)
        preferredPayloadType = try c.decodeIfPresent(Int.self, forKey: .preferredPayloadType)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(kind, forKey: .kind)
        try codec.encode(to: encoder)
        try c.encodeIfPresent(preferredPayloadType, forKey: .preferredPayloadType)
    }
}

/// The direction a header extension may be used in, from the capability owner's view.
public enum RtpHeaderExtensionDirection: String, Sendable, Hashable, Codable {
    case sendrecv, sendonly, recvonly, inactive

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }
}

/// A header extension an endpoint supports, with its preferred id.
public struct RtpHeaderExtension: Sendable, Hashable, Codable {
    public var kind: MediaKind
    public var uri: String
    public var preferredId: Int
    public var preferredEncrypt: Bool
    public var direction: RtpHeaderExtensionDirection

    public init(kind: MediaKind, uri: String, preferredId: Int, preferredEncrypt: Bool = false,
                direction: RtpHeaderExtensionDirection = .sendrecv) {
        self.kind = kind
        self.uri = uri
        self.preferredId = preferredId
        self.preferredEncrypt = preferredEncrypt
        self.direction = direction
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(MediaKind.self, forKey: .kind)
        uri = try c.decode(String.self, forKey: .uri)
        preferredId = try c.decode(Int.self, forKey: .preferredId)
        preferredEncrypt = try c.decodeIfPresent(Bool.self, forKey: .preferredEncrypt) ?? false
        direction = try c.decodeIfPresent(RtpHeaderExtensionDirection.self, forKey: .direction) ?? .sendrecv
    }
}

/// Header-extension URIs nacho knows by name.
public enum RtpHeaderExtensionURI {
    public static let mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    public static let absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let transportWideCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    public static let audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    public static let absCaptureTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
}
