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

    /// Whether nacho can send `kind` here: the router must offer a codec nacho can encode.
    public func canProduce(_ kind: MediaKind) -> Bool {
        !sendableCodecs(kind).isEmpty
    }

    public func canConsume(_ kind: MediaKind) -> Bool {
        recvRtpCapabilities.codecs.contains { $0.kind == kind && !$0.isRtx }
    }

    /// The common codecs nacho can receive and record, in the router's order.
    public var receivableCodecs: [ExtendedRtpCapabilities.Codec] {
        extended.codecs.filter { NachoCapabilities.canReceive(mimeType: $0.mimeType) }
    }

    /// The common codecs of `kind` nacho can encode, in the router's order (no H264, VP9
    /// profile 0 only).
    public func sendableCodecs(_ kind: MediaKind) -> [ExtendedRtpCapabilities.Codec] {
        extended.codecs.filter { $0.kind == kind && NachoCapabilities.canSend(mimeType: $0.mimeType, parameters: $0.localParameters) }
    }

    /// The codec a new producer of `kind` uses. With `preferred` (a MIME type such as
    /// "video/VP9", any case) that codec or an error; without, audio takes the first codec
    /// nacho can send (Opus) and video takes VP8 when the router has it, else VP9 (profile 0),
    /// never H264: nacho has no H264 encoder.
    public func sendCodec(kind: MediaKind, preferred: String? = nil) throws -> ExtendedRtpCapabilities.Codec {
        let candidates = sendableCodecs(kind)
        if let preferred {
            let wanted = preferred.lowercased()
            if let codec = candidates.first(where: { $0.mimeType.lowercased() == wanted }) { return codec }
            if !NachoCapabilities.canSend(mimeType: preferred, parameters: [:]) {
                throw ORTCError.cannotSend("nacho has no \(preferred) encoder (it sends \(NachoCapabilities.sendableMimeTypes.sorted().joined(separator: ", ")))")
            }
            throw ORTCError.cannotSend("the router offers no \(preferred) nacho can send")
        }
        for mime in kind == .video ? [MimeType.vp8.lowercased(), MimeType.vp9.lowercased()] : [] {
            if let codec = candidates.first(where: { $0.mimeType.lowercased() == mime }) { return codec }
        }
        guard let codec = candidates.first else {
            let offered = extended.codecs.filter { $0.kind == kind }.map(\.mimeType)
            guard offered.isEmpty else {
                throw ORTCError.cannotSend("the router offers only \(offered.joined(separator: ", ")) for \(kind), which nacho receives but cannot encode")
            }
            throw ORTCError.noCommonCodec(kind)
        }
        return codec
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
    /// `codec` picks the codec by MIME type; the default follows `sendCodec(kind:preferred:)`.
    public func sendingRtpParameters(kind: MediaKind, ssrc: UInt32, rtxSsrc: UInt32?, cname: String, mid: String,
                                     dtx: Bool? = nil, maxBitrate: Int? = nil, codec preferred: String? = nil) throws -> RtpParameters {
        let codec = try sendCodec(kind: kind, preferred: preferred)
        let withRtx = codec.localRtxPayloadType != nil && rtxSsrc != nil
        return RtpParameters(
            mid: mid, codecs: Self.codecParameters(codec, rtx: withRtx), headerExtensions: sendingHeaderExtensions(kind),
            encodings: [RtpEncodingParameters(ssrc: ssrc, rtx: withRtx ? rtxSsrc.map { .init(ssrc: $0) } : nil, dtx: dtx,
                                              maxBitrate: maxBitrate)],
            rtcp: RtcpParameters(cname: cname, reducedSize: true, mux: true))
    }

    /// RTP parameters for a simulcast video producer: one encoding per layer, lowest first, each
    /// with its SSRC (and its RTX SSRC when the router has RTX), no rid. mediasoup maps such
    /// streams by SSRC, so the MID is optional; it is still sent when given (mediasoup-client
    /// does). Only VP8: mediasoup accepts simulcast for VP8 and H264, and nacho encodes VP8.
    public func sendingSimulcastRtpParameters(layers: [SimulcastLayer], cname: String, mid: String?,
                                              codec preferred: String? = nil) throws -> RtpParameters {
        let codec = try sendCodec(kind: .video, preferred: preferred ?? MimeType.vp8)
        guard MediaCodec(mimeType: codec.mimeType) == .vp8 else {
            throw ORTCError.cannotSend("simulcast is VP8 only in nacho (mediasoup takes VP8 or H264; \(codec.mimeType) would be SVC)")
        }
        guard layers.count >= 2 else { throw ORTCError.cannotSend("simulcast needs at least 2 layers, got \(layers.count)") }
        var ssrcs = Set<UInt32>()
        let withRtx = codec.localRtxPayloadType != nil
        for (index, layer) in layers.enumerated() {
            for ssrc in [layer.ssrc] + (withRtx ? layer.rtxSsrc.map { [$0] } ?? [] : []) {
                guard ssrc != 0 else { throw ORTCError.cannotSend("layer \(index): SSRC 0 (mediasoup reads 0 as no SSRC)") }
                guard ssrcs.insert(ssrc).inserted else { throw ORTCError.cannotSend("layer \(index): SSRC \(ssrc) used twice") }
            }
            guard layer.scaleResolutionDownBy >= 1, layer.scaleResolutionDownBy.isFinite else {
                throw ORTCError.cannotSend("layer \(index): scaleResolutionDownBy \(layer.scaleResolutionDownBy) below 1")
            }
            guard layer.maxBitrate > 0 else { throw ORTCError.cannotSend("layer \(index): maxBitrate \(layer.maxBitrate)") }
            if index > 0, layer.scaleResolutionDownBy >= layers[index - 1].scaleResolutionDownBy {
                throw ORTCError.cannotSend("layers must go from the smallest to the largest (mediasoup's spatial layer = encoding index)")
            }
        }
        let encodings = layers.map {
            RtpEncodingParameters(ssrc: $0.ssrc, rtx: withRtx ? $0.rtxSsrc.map { .init(ssrc: $0) } : nil,
                                  maxBitrate: $0.maxBitrate, scaleResolutionDownBy: $0.scaleResolutionDownBy)
        }
        return RtpParameters(
            mid: mid, codecs: Self.codecParameters(codec, rtx: withRtx), headerExtensions: sendingHeaderExtensions(.video),
            encodings: encodings, rtcp: RtcpParameters(cname: cname, reducedSize: true, mux: true))
    }

    /// The codec (and its RTX) as sent: nacho's payload types, parameters and feedback.
    static func codecParameters(_ codec: ExtendedRtpCapabilities.Codec, rtx: Bool) -> [RtpCodecParameters] {
        var codecs = [RtpCodecParameters(
            mimeType: codec.mimeType, payloadType: codec.localPayloadType, clockRate: codec.clockRate,
            channels: codec.channels, parameters: codec.localParameters, rtcpFeedback: codec.rtcpFeedback)]
        if rtx, let rtxPT = codec.localRtxPayloadType {
            codecs.append(RtpCodecParameters(
                mimeType: "\(codec.kind)/rtx", payloadType: rtxPT, clockRate: codec.clockRate,
                parameters: ["apt": .int(codec.localPayloadType)]))
        }
        return codecs
    }

    func sendingHeaderExtensions(_ kind: MediaKind) -> [RtpHeaderExtensionParameters] {
        extended.headerExtensions.filter { $0.kind == kind && $0.direction.sends }.map {
            RtpHeaderExtensionParameters(uri: $0.uri, id: $0.sendId, encrypt: $0.encrypt)
        }
    }

    /// Checks a `consume` answer against what nacho asked for and can receive; returns it
    /// normalized. Rejects unknown codecs, RTX without a primary, SSRC-less encodings and
    /// header extensions whose id differs from the router's.
    public func validateConsumer(_ options: ConsumerOptions) throws -> ConsumerOptions {
        var out = options
        guard IdentifierLimit.fits(options.id) else {
            throw ORTCError.cannotConsume("consumer id is empty or longer than \(IdentifierLimit.maxBytes) bytes")
        }
        guard IdentifierLimit.fits(options.producerId) else {
            throw ORTCError.cannotConsume("producer id is empty or longer than \(IdentifierLimit.maxBytes) bytes")
        }
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
            // mediasoup's canConsume: a strict match (H264 profile and packetization mode,
            // VP9 profile-id) with what nacho asked for, at the router's payload type.
            let offered = recvRtpCapabilities.codecs.filter {
                !$0.isRtx && CodecMatching.matches(.init($0), .init(codec), strict: true)
            }
            guard !offered.isEmpty else {
                throw ORTCError.cannotConsume("codec \(codec.mimeType)/\(codec.clockRate)\(Self.describe(codec.parameters)) was not in nacho's capabilities")
            }
            guard offered.contains(where: { $0.preferredPayloadType == codec.payloadType }) else {
                let theirs = offered.compactMap(\.preferredPayloadType).map(String.init).joined(separator: " or ")
                throw ORTCError.cannotConsume("\(codec.mimeType) payload type \(codec.payloadType) differs from the router's \(theirs)")
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

    /// The parameters that decide a strict match, for error messages.
    static func describe(_ parameters: [String: CodecParameterValue]) -> String {
        let named = ["packetization-mode", "profile-level-id", "profile-id"].compactMap { key in
            parameters[key].map { "\(key) \($0)" }
        }
        return named.isEmpty ? "" : " (" + named.joined(separator: ", ") + ")"
    }
}
