/// The intersection of nacho's capabilities and the router's, as mediasoup-client computes it
/// (`ortc.getExtendedRtpCapabilities`): for each common codec both sides' payload types, and
/// for each common header extension the id to send with and the id to expect.
public struct ExtendedRtpCapabilities: Sendable, Hashable {
    public struct Codec: Sendable, Hashable {
        public var kind: MediaKind
        public var mimeType: String
        public var clockRate: Int
        public var channels: Int?
        public var localPayloadType: Int
        public var localRtxPayloadType: Int?
        public var remotePayloadType: Int
        public var remoteRtxPayloadType: Int?
        public var localParameters: [String: CodecParameterValue]
        public var remoteParameters: [String: CodecParameterValue]
        public var rtcpFeedback: [RtcpFeedback]
    }

    public struct HeaderExtension: Sendable, Hashable {
        public var kind: MediaKind
        public var uri: String
        public var sendId: Int
        public var recvId: Int
        public var encrypt: Bool
        /// From nacho's point of view.
        public var direction: RtpHeaderExtensionDirection
    }

    public var codecs: [Codec]
    public var headerExtensions: [HeaderExtension]

    /// - Parameters:
    ///   - local: what nacho implements (payload types and ids may be absent; the router's are
    ///     adopted then, so sending uses the router's numbering).
    ///   - remote: the router's capabilities, already validated.
    public init(local: RtpCapabilities, remote: RtpCapabilities) {
        var codecs: [Codec] = []
        for remoteCodec in remote.codecs where !remoteCodec.isRtx {
            guard let remotePT = remoteCodec.preferredPayloadType else { continue }
            // The first local codec that matches strictly, in nacho's order (H264 by profile,
            // VP9 by profile-id); its outcome carries the negotiated H264 level.
            var found: (codec: RtpCodecCapability, outcome: CodecMatching.Outcome)?
            for localCodec in local.codecs where !localCodec.isRtx {
                let outcome = CodecMatching.compare(.init(localCodec), .init(remoteCodec), strict: true)
                if outcome.matched {
                    found = (localCodec, outcome)
                    break
                }
            }
            guard let (localCodec, outcome) = found else { continue }
            var localParameters = localCodec.parameters
            var remoteParameters = remoteCodec.parameters
            // Both sides then use the answer's profile-level-id (mediasoup-client `modify`).
            CodecMatching.apply(outcome, to: &localParameters)
            CodecMatching.apply(outcome, to: &remoteParameters)
            let kind = MediaKind(mimeType: localCodec.mimeType) ?? .audio
            codecs.append(Codec(
                kind: kind,
                mimeType: localCodec.mimeType,
                clockRate: localCodec.clockRate,
                channels: localCodec.channels,
                localPayloadType: localCodec.preferredPayloadType ?? remotePT,
                localRtxPayloadType: nil,
                remotePayloadType: remotePT,
                remoteRtxPayloadType: nil,
                localParameters: localParameters,
                remoteParameters: remoteParameters,
                rtcpFeedback: localCodec.rtcpFeedback.filter { remoteCodec.rtcpFeedback.contains($0) }
            ))
        }
        for index in codecs.indices {
            let codec = codecs[index]
            let remoteRtx = remote.codecs.first {
                $0.isRtx && $0.parameters["apt"]?.intValue == codec.remotePayloadType
                    && MediaKind(mimeType: $0.mimeType) == codec.kind
            }
            let localRtx = local.codecs.first { $0.isRtx && MediaKind(mimeType: $0.mimeType) == codec.kind }
            if let remoteRtx, let remoteRtxPT = remoteRtx.preferredPayloadType, let localRtx {
                codecs[index].remoteRtxPayloadType = remoteRtxPT
                codecs[index].localRtxPayloadType = localRtx.preferredPayloadType ?? remoteRtxPT
            }
        }
        var extensions: [HeaderExtension] = []
        for remoteExt in remote.headerExtensions {
            guard let localExt = local.headerExtensions.first(where: { $0.kind == remoteExt.kind && $0.uri == remoteExt.uri })
            else { continue }
            // The router's direction is from its side: what it receives, nacho sends.
            let fromRouter: RtpHeaderExtensionDirection
            switch remoteExt.direction {
            case .sendrecv: fromRouter = .sendrecv
            case .recvonly: fromRouter = .sendonly
            case .sendonly: fromRouter = .recvonly
            case .inactive: fromRouter = .inactive
            }
            let sends = fromRouter.sends && localExt.direction.sends
            let receives = fromRouter.receives && localExt.direction.receives
            let direction: RtpHeaderExtensionDirection = sends ? (receives ? .sendrecv : .sendonly) : (receives ? .recvonly : .inactive)
            extensions.append(HeaderExtension(
                kind: remoteExt.kind, uri: remoteExt.uri,
                sendId: remoteExt.preferredId, recvId: remoteExt.preferredId,
                encrypt: localExt.preferredEncrypt, direction: direction))
        }
        self.codecs = codecs
        self.headerExtensions = extensions
    }
}
