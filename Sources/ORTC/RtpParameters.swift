/// What one stream actually uses: mediasoup's `RtpParameters` (a producer's or a consumer's).
public struct RtpParameters: Sendable, Hashable, Codable {
    public var mid: String?
    public var codecs: [RtpCodecParameters]
    public var headerExtensions: [RtpHeaderExtensionParameters]
    public var encodings: [RtpEncodingParameters]
    public var rtcp: RtcpParameters

    public init(mid: String? = nil, codecs: [RtpCodecParameters], headerExtensions: [RtpHeaderExtensionParameters] = [],
                encodings: [RtpEncodingParameters] = [], rtcp: RtcpParameters = RtcpParameters()) {
        self.mid = mid
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.encodings = encodings
        self.rtcp = rtcp
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mid = try c.decodeIfPresent(String.self, forKey: .mid)
        codecs = try c.decode([RtpCodecParameters].self, forKey: .codecs)
        headerExtensions = try c.decodeIfPresent([RtpHeaderExtensionParameters].self, forKey: .headerExtensions) ?? []
        encodings = try c.decodeIfPresent([RtpEncodingParameters].self, forKey: .encodings) ?? []
        rtcp = try c.decodeIfPresent(RtcpParameters.self, forKey: .rtcp) ?? RtcpParameters()
    }

    /// The id this stream uses for a header extension, if negotiated.
    public func headerExtensionId(_ uri: String) -> Int? {
        headerExtensions.first { $0.uri == uri }?.id
    }
}

/// A codec one stream uses, with its payload type.
public struct RtpCodecParameters: Sendable, Hashable, Codable, RtpCodecEmbedding {
    public var codec: RtpCodec
    public var payloadType: Int

    public init(mimeType: String, payloadType: Int, clockRate: Int, channels: Int? = nil,
                parameters: [String: CodecParameterValue] = [:], rtcpFeedback: [RtcpFeedback] = []) {
        self.codec = RtpCodec(mimeType: mimeType, clockRate: clockRate, channels: channels,
                              parameters: parameters, rtcpFeedback: rtcpFeedback)
        self.payloadType = payloadType
    }

    private enum CodingKeys: String, CodingKey { case payloadType }

    // The codec's fields stand in the same JSON object as the payload type.
    public init(from decoder: any Decoder) throws {
        codec = try RtpCodec(from: decoder)
        payloadType = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .payloadType)
    }

    public func encode(to encoder: any Encoder) throws {
        try codec.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(payloadType, forKey: .payloadType)
    }

    public var kind: MediaKind? { MediaKind(mimeType: codec.mimeType) }
}

public struct RtpHeaderExtensionParameters: Sendable, Hashable, Codable {
    public var uri: String
    public var id: Int
    public var encrypt: Bool
    public var parameters: [String: CodecParameterValue]

    public init(uri: String, id: Int, encrypt: Bool = false, parameters: [String: CodecParameterValue] = [:]) {
        self.uri = uri
        self.id = id
        self.encrypt = encrypt
        self.parameters = parameters
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        uri = try c.decode(String.self, forKey: .uri)
        id = try c.decode(Int.self, forKey: .id)
        encrypt = try c.decodeIfPresent(Bool.self, forKey: .encrypt) ?? false
        parameters = try c.decodeIfPresent([String: CodecParameterValue].self, forKey: .parameters) ?? [:]
    }
}

public struct RtpEncodingParameters: Sendable, Hashable, Codable {
    public struct Rtx: Sendable, Hashable, Codable {
        public var ssrc: UInt32
        public init(ssrc: UInt32) { self.ssrc = ssrc }
    }

    public var ssrc: UInt32?
    public var rid: String?
    public var codecPayloadType: Int?
    public var rtx: Rtx?
    public var dtx: Bool?
    public var maxBitrate: Int?
    public var scalabilityMode: String?
    /// How much smaller than the source this encoding is (simulcast layers). mediasoup's
    /// worker ignores it; mediasoup-client sends it, and so does nacho, for the record.
    public var scaleResolutionDownBy: Double?

    public init(ssrc: UInt32? = nil, rid: String? = nil, codecPayloadType: Int? = nil, rtx: Rtx? = nil,
                dtx: Bool? = nil, maxBitrate: Int? = nil, scalabilityMode: String? = nil,
                scaleResolutionDownBy: Double? = nil) {
        self.ssrc = ssrc
        self.rid = rid
        self.codecPayloadType = codecPayloadType
        self.rtx = rtx
        self.dtx = dtx
        self.maxBitrate = maxBitrate
        self.scalabilityMode = scalabilityMode
        self.scaleResolutionDownBy = scaleResolutionDownBy
    }
}

public struct RtcpParameters: Sendable, Hashable, Codable {
    public var cname: String?
    public var reducedSize: Bool
    public var mux: Bool?

    public init(cname: String? = nil, reducedSize: Bool = true, mux: Bool? = nil) {
        self.cname = cname
        self.reducedSize = reducedSize
        self.mux = mux
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cname = try c.decodeIfPresent(String.self, forKey: .cname)
        reducedSize = try c.decodeIfPresent(Bool.self, forKey: .reducedSize) ?? true
        mux = try c.decodeIfPresent(Bool.self, forKey: .mux)
    }
}
