import MediaFormat
import ORTC

/// What the load source offers, in mediasoup's numbering (payload types 100 and 101, extension
/// ids 1, 4, 5), restricted to what it sends: Opus and VP8 without RTX (it keeps no history to
/// resend from, so it offers no generic NACK either), mid and abs-send-time on both kinds and
/// the transport-wide sequence on video, as mediasoup stamps consumers.
enum PlaneCapabilities {
    static let opus = RtpCodecCapability(kind: .audio, mimeType: MimeType.opus, preferredPayloadType: 100, clockRate: 48000,
                                         channels: 2, rtcpFeedback: [.transportCC])
    static let vp8 = RtpCodecCapability(kind: .video, mimeType: MimeType.vp8, preferredPayloadType: 101, clockRate: 90000,
                                        rtcpFeedback: [.pli, .fir, .transportCC])

    static let midId = 1
    static let absSendTimeId = 4
    static let transportWideCCId = 5

    static let router = RtpCapabilities(
        codecs: [opus, vp8],
        headerExtensions: [
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.mid, preferredId: midId),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.mid, preferredId: midId),
            RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.absSendTime, preferredId: absSendTimeId),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.absSendTime, preferredId: absSendTimeId),
            RtpHeaderExtension(kind: .video, uri: RtpHeaderExtensionURI.transportWideCC, preferredId: transportWideCCId),
        ])

    static func codec(_ kind: MediaKind) -> RtpCodecCapability { kind == .video ? vp8 : opus }

    /// The consumer's codec: ours, if the client's capabilities hold it (same MIME type, clock
    /// rate and channels); its feedback is what both sides have.
    static func consumerCodec(_ kind: MediaKind, client: RtpCapabilities) throws -> RtpCodecParameters {
        let ours = codec(kind)
        guard let theirs = client.codecs.first(where: {
            $0.codec.mimeType.lowercased() == ours.codec.mimeType.lowercased() && $0.codec.clockRate == ours.codec.clockRate
                && (kind == .video || ($0.codec.channels ?? 1) == (ours.codec.channels ?? 1))
        }) else {
            throw LoadMediaError.cannotConsume("the client cannot receive \(ours.codec.mimeType)/\(ours.codec.clockRate)")
        }
        let feedback = ours.codec.rtcpFeedback.filter { theirs.codec.rtcpFeedback.contains($0) }
        return RtpCodecParameters(mimeType: ours.codec.mimeType, payloadType: ours.preferredPayloadType ?? 0,
                                  clockRate: ours.codec.clockRate, channels: ours.codec.channels, rtcpFeedback: feedback)
    }

    /// The header extensions a consumer gets: ours for its kind that the client also lists.
    static func consumerExtensions(_ kind: MediaKind, client: RtpCapabilities) -> [RtpHeaderExtensionParameters] {
        router.headerExtensions.filter { ext in
            ext.kind == kind && client.headerExtensions.contains { $0.kind == kind && $0.uri == ext.uri && $0.direction.receives }
        }.map { RtpHeaderExtensionParameters(uri: $0.uri, id: $0.preferredId) }
    }
}
