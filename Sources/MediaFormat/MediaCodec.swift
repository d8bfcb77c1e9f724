/// The codecs nacho knows, one name for every layer: negotiation, packetization, statistics,
/// recording and replay clips all speak of `MediaCodec` (Pion's `RTPCodecType` and MIME
/// constants play this part there).
public enum MediaCodec: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case opus, vp8, vp9, h264

    /// The codec of a MIME type (`video/VP8`, `audio/opus`; case-insensitive), nil for any other.
    public init?(mimeType: String) {
        switch mimeType.lowercased() {
        case "audio/opus": self = .opus
        case "video/vp8": self = .vp8
        case "video/vp9": self = .vp9
        case "video/h264": self = .h264
        default: return nil
        }
    }

    /// The MIME type as mediasoup writes it.
    public var mimeType: String {
        switch self {
        case .opus: MimeType.opus
        case .vp8: MimeType.vp8
        case .vp9: MimeType.vp9
        case .h264: MimeType.h264
        }
    }

    public var kind: MediaKind { self == .opus ? .audio : .video }
    public var isVideo: Bool { kind == .video }

    /// For people and logs: `VP8`, `Opus`.
    public var description: String {
        switch self {
        case .opus: "Opus"
        case .vp8: "VP8"
        case .vp9: "VP9"
        case .h264: "H264"
        }
    }
}

/// MIME types as mediasoup writes them in RTP parameters and capabilities.
public enum MimeType {
    public static let opus = "audio/opus"
    public static let vp8 = "video/VP8"
    public static let vp9 = "video/VP9"
    public static let h264 = "video/H264"

    /// Whether a MIME type is RTX (`video/rtx`, `audio/rtx`), case-insensitive.
    public static func isRtx(_ mimeType: String) -> Bool { mimeType.lowercased().hasSuffix("/rtx") }
}
