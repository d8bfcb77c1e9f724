/// What nacho itself implements: Opus, VP8, VP9 (profiles 0 and 2) and H264 (packetization
/// mode 1, four profiles) + RTX, the feedback its RTP stack answers or sends, and the header
/// extensions it reads and writes. Payload types and extension ids are placeholders: the
/// device adopts the router's numbering when it loads.
///
/// Not every codec goes both ways: nacho receives and records all of them, but sends only
/// Opus, VP8 and VP9 profile 0 (libvpx encodes those; there is no H264 encoder, so nacho
/// never produces H264 even when the router offers only that).
public enum NachoCapabilities {
    public static let opus = RtpCodecCapability(
        kind: .audio, mimeType: MimeType.opus, clockRate: 48000, channels: 2,
        parameters: ["useinbandfec": .int(1), "minptime": .int(10)],
        rtcpFeedback: [.transportCC])

    static let videoFeedback: [RtcpFeedback] = [.nack, .pli, .fir, .remb, .transportCC]

    public static let vp8 = RtpCodecCapability(kind: .video, mimeType: MimeType.vp8, clockRate: 90000, rtcpFeedback: videoFeedback)

    /// VP9 profile 0 (8-bit 4:2:0) and 2 (10/12-bit 4:2:0), matched by `profile-id` (RFC 9628 §6).
    public static let vp9Profile0 = RtpCodecCapability(
        kind: .video, mimeType: MimeType.vp9, clockRate: 90000, parameters: ["profile-id": .int(0)], rtcpFeedback: videoFeedback)
    public static let vp9Profile2 = RtpCodecCapability(
        kind: .video, mimeType: MimeType.vp9, clockRate: 90000, parameters: ["profile-id": .int(2)], rtcpFeedback: videoFeedback)

    /// The H264 profiles phones and browsers offer: constrained baseline, baseline, main and
    /// high (the level is only a ceiling: with level-asymmetry-allowed the router's is taken).
    /// Receiving needs no decoder, so any level is fine; packetization mode 1 (RFC 6184 §6.3:
    /// single NAL, STAP-A, FU-A) is what WebRTC endpoints use.
    public static let h264ProfileLevelIds = ["42e01f", "42001f", "4d001f", "640032"]
    public static let h264: [RtpCodecCapability] = h264ProfileLevelIds.map {
        RtpCodecCapability(kind: .video, mimeType: MimeType.h264, clockRate: 90000,
                           parameters: ["packetization-mode": .int(1), "profile-level-id": .string($0),
                                        "level-asymmetry-allowed": .int(1)],
                           rtcpFeedback: videoFeedback)
    }

    public static let rtx = RtpCodecCapability(kind: .video, mimeType: "video/rtx", clockRate: 90000)

    public static let rtpCapabilities = RtpCapabilities(
        codecs: [opus, vp8, vp9Profile0, vp9Profile2] + h264 + [rtx],
        headerExtensions: [
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.mid, preferredId: 1),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.mid, preferredId: 1),
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.absSendTime, preferredId: 4),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.absSendTime, preferredId: 4),
            // Transport-wide sequence numbers: on what nacho sends (audio too, as libwebrtc does),
            // for the router's feedback to nacho's estimator; on the video it receives, for the
            // feedback nacho writes (mediasoup stamps none on audio consumers).
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.transportWideCC, preferredId: 5, direction: .sendonly),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.transportWideCC, preferredId: 5),
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.audioLevel, preferredId: 10),
            // Capture time on the wire: what end-to-end delay is measured from (SFUs rewrite
            // sender reports, so those give the SFU's clock, not the capturer's).
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.absCaptureTime, preferredId: 13),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.absCaptureTime, preferredId: 13),
        ])

    /// Feedback nacho generates for what it receives (a subset of the above): it NACKs, asks
    /// for key frames and sends transport-cc feedback; it never sends REMB, so it does not
    /// offer it for what it receives.
    public static let receiveFeedback: Set<RtcpFeedback> = [.nack, .pli, .fir, .transportCC]

    /// MIME types (lower case) nacho depacketizes and records to WebM: all it offers.
    public static let receivableMimeTypes: Set<String> = Set(MediaCodec.allCases.map { $0.mimeType.lowercased() })
    public static let recordableMimeTypes: Set<String> = receivableMimeTypes
    /// MIME types nacho has an encoder for (VP9: profile 0 only, see `canSend`).
    public static let sendableMimeTypes: Set<String> = Set([MediaCodec.opus, .vp8, .vp9].map { $0.mimeType.lowercased() })

    /// Whether nacho can encode a negotiated codec: Opus, VP8, VP9 profile 0. Never H264.
    public static func canSend(mimeType: String, parameters: [String: CodecParameterValue]) -> Bool {
        let mime = mimeType.lowercased()
        guard sendableMimeTypes.contains(mime) else { return false }
        if MediaCodec(mimeType: mime) == .vp9 { return (parameters["profile-id"] ?? .int(0)) == .int(0) }
        return true
    }

    public static func canReceive(mimeType: String) -> Bool { receivableMimeTypes.contains(mimeType.lowercased()) }
    public static func canRecord(mimeType: String) -> Bool { recordableMimeTypes.contains(mimeType.lowercased()) }
}
