/// What nacho itself implements: Opus and VP8 (+ RTX), the feedback its RTP stack answers or
/// sends, and the header extensions it reads and writes. Payload types and extension ids are
/// placeholders: the device adopts the router's numbering when it loads.
public enum NachoCapabilities {
    public static let opus = RtpCodecCapability(
        kind: .audio, mimeType: "audio/opus", clockRate: 48000, channels: 2,
        parameters: ["useinbandfec": .int(1), "minptime": .int(10)],
        rtcpFeedback: [.transportCC])

    public static let vp8 = RtpCodecCapability(
        kind: .video, mimeType: "video/VP8", clockRate: 90000,
        rtcpFeedback: [.nack, .pli, .fir, .remb, .transportCC])

    public static let rtx = RtpCodecCapability(kind: .video, mimeType: "video/rtx", clockRate: 90000)

    public static let rtpCapabilities = RtpCapabilities(
        codecs: [opus, vp8, rtx],
        headerExtensions: [
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.mid, preferredId: 1),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.mid, preferredId: 1),
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.absSendTime, preferredId: 4),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.absSendTime, preferredId: 4),
            // Sent so the router can run transport-cc; nacho does not produce transport-cc
            // feedback for what it receives, so it does not ask the router to stamp it.
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.transportWideCC, preferredId: 5, direction: .sendonly),
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.audioLevel, preferredId: 10),
        ])

    /// Feedback nacho generates for what it receives (a subset of the above): it NACKs and asks
    /// for key frames, but sends neither REMB nor transport-cc feedback.
    public static let receiveFeedback: Set<RtcpFeedback> = [.nack, .pli, .fir]
}
