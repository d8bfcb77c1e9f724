/// A mediasoup device without a browser: loaded with the router's capabilities, it knows what
/// nacho can send and receive in this room and builds or checks the RTP parameters of each
/// producer and consumer. Pure negotiation, no I/O (mediasoup-client's `Device` + `ortc`).
public struct Device: Sendable {
    public let routerCapabilities: RtpCapabilities
    public let extended: ExtendedRtpCapabilities
    /// What to send with `consume`: router payload types and ids, nacho's feedback.
    public let recvRtpCapabilities: RtpCapabilities

    public init(routerRtpCapabilities: RtpCapabilities, local: RtpCapabilities = NachoCapabilities.rtpCapabilities) throws {
        let router = try Validation.validate(routerRtpCapabilities)
        routerCapabilities = router
        extended = ExtendedRtpCapabilities(local: local, remote: router)
        recvRtpCapabilities = Self.recvCapabilities(extended)
        guard !extended.codecs.isEmpty else {
            throw ORTCError.invalid("the router offers no codec nacho supports (it has: \(router.codecs.map(\.mimeType).joined(separator: ", ")))")
        }
    }

    public func canProduce(_ kind: MediaKind) -> Bool {
        extended.codecs.contains { $0.kind == kind }
    }

    public func canConsume(_ kind: MediaKind) -> Bool {
        recvRtpCapabilities.codecs.contains { $0.kind == kind && !$0.isRtx }
    }

    static func recvCapabilities(_ extended: ExtendedRtpCapabilities) -> RtpCapabilities {
        var codecs: [RtpCodecCapability] = []
        for codec in extended.codecs {
            codecs.append(RtpCodecCapability(
                kind: codec.kind, mimeType: codec.mimeType, preferredPayloadType: codec.remotePayloadType,
                clockRate: codec.clockRate, channels: codec.channels, parameters: codec.localParameters,
                rtcpFeedback: codec.rtcpFeedback.filter { NachoCapabilities.receiveFeedback.contains($0) }))
            if let rtx = codec.remoteRtxPayloadType {
                codecs.append(RtpCodecCapability(
                    kind: codec.kind, mimeType: "\(codec.kind)/rtx", preferredPayloadType: rtx,
                    clockRate: codec.clockRate, parameters: ["apt": .int(codec.remotePayloadType)]))
            }
        }
        let extensions = extended.headerExtensions.filter { $0.direction.receives }.map {
            // mediasoup keeps an extension for a consumer only if this id equals the router's.
            RtpHeaderExtension(kind: $0.kind, uri: $0.uri, preferredId: $0.recvId,
                               preferredEncrypt: $0.encrypt, direction: .recvonly)
        }
        return RtpCapabilities(codecs: codecs, headerExtensions: extensions)
    }

    /// RTP parameters for a new producer of `kind`: the router's payload types and extension
    /// ids, one encoding with the given SSRCs, the MID (mediasoup requires it when the
    /// encoding has no rid), and the CNAME shared by all of this participant's streams.
    public func sendingRtpParameters(kind: MediaKind, ssrc: UInt32, rtxSsrc: UInt32?, cname: String, mid: String,
                                     dtx: Bool? = nil, maxBitrate: Int? = nil) throws -> RtpParameters {
        guard let codec = extended.codecs.first(where: { $0.kind == kind }) else {
            throw ORTCError.noCommonCodec(kind)
        }
        var codecs = [RtpCodecParameters(
            mimeType: codec.mimeType, payloadType: codec.localPayloadType, clockRate: codec.clockRate,
            channels: codec.channels, parameters: codec.localParameters, rtcpFeedback: codec.rtcpFeedback)]
        var rtx: RtpEncodingParameters.Rtx?
        if let rtxPT = codec.localRtxPayloadType, let rtxSsrc {
            codecs.append(RtpCodecParameters(
                mimeType: "\(kind)/rtx", payloadType: rtxPT, clockRate: codec.clockRate,
                parameters: ["apt": .int(codec.localPayloadType)]))
            rtx = .init(ssrc: rtxSsrc)
        }
        let extensions = extended.headerExtensions.filter { $0.kind == kind && $0.direction.sends }.map {
            RtpHeaderExtensionParameters(uri: $0.uri, id: $0.sendId, encrypt: $0.encrypt)
        }
        return RtpParameters(
            mid: mid, codecs: codecs, headerExtensions: extensions,
            encodings: [RtpEncodingParameters(ssrc: ssrc, rtx: rtx, dtx: dtx, maxBitrate: maxBitrate)],
            rtcp: RtcpParameters(cname: cname, reducedSize: true, mux: true))
    }

    /// Checks a `consume` answer against what nacho asked for and can receive; returns it
    /// normalized. Rejects unknown codecs, RTX without a primary, SSRC-less encodings and
    /// header extensions whose id differs from the router's.
    public func validateConsumer(_ options: ConsumerOptions) throws -> ConsumerOptions {
        var out = options
        guard !options.id.isEmpty else { throw ORTCError.cannotConsume("consumer id is empty") }
        out.rtpParameters = try Validation.validate(options.rtpParameters)
        let parameters = out.rtpParameters
        guard let primary = parameters.codecs.first, !primary.isRtx else {
            throw ORTCError.cannotConsume("the first codec must be a media codec, not RTX")
        }
        guard primary.kind == options.kind else {
            throw ORTCError.cannotConsume("consumer kind \(options.kind) but codec \(primary.mimeType)")
        }
        for codec in parameters.codecs {
            if codec.isRtx {
                guard let apt = codec.parameters["apt"]?.intValue,
                      parameters.codecs.contains(where: { !$0.isRtx && $0.payloadType == apt }) else {
                    throw ORTCError.cannotConsume("RTX payload type \(codec.payloadType) points at no codec of this consumer")
                }
                continue
            }
            guard let known = extended.codecs.first(where: {
                $0.mimeType.lowercased() == codec.mimeType.lowercased() && $0.clockRate == codec.clockRate
            }) else {
                throw ORTCError.cannotConsume("codec \(codec.mimeType)/\(codec.clockRate) was not in nacho's capabilities")
            }
            guard known.remotePayloadType == codec.payloadType else {
                throw ORTCError.cannotConsume("\(codec.mimeType) payload type \(codec.payloadType) differs from the router's \(known.remotePayloadType)")
            }
        }
        guard !parameters.encodings.isEmpty else { throw ORTCError.cannotConsume("no encodings") }
        for encoding in parameters.encodings {
            guard encoding.ssrc != nil else { throw ORTCError.cannotConsume("an encoding has no ssrc") }
        }
        for ext in parameters.headerExtensions {
            guard let expected = recvRtpCapabilities.headerExtensions.first(where: { $0.kind == options.kind && $0.uri == ext.uri }) else {
                continue  // The router may list extensions it will not use for this consumer; harmless.
            }
            guard expected.preferredId == ext.id else {
                throw ORTCError.cannotConsume("header extension \(ext.uri) has id \(ext.id), the router's is \(expected.preferredId)")
            }
        }
        return out
    }
}
