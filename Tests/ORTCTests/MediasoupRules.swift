import ORTC

/// What a mediasoup 3.14 server does with `produce` and `consume`, written from its sources
/// (node `Transport.produce`, `ortc.getProducerRtpParametersMapping`,
/// `getConsumableRtpParameters`, `getConsumerRtpParameters`; worker `RtpParameters`
/// `ValidateCodecs`/`ValidateEncodings`, `Producer` constructor, `Codecs::Tools::
/// IsValidTypeForCodec`, `RtpListener`), so tests can check nacho's parameters against the
/// server's rules and not only against nacho's own idea of them. The real produce requests
/// mediasoup accepted pass it too (that is how it is checked).
enum MediasoupRules {
    struct Rejected: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Producer {
        var type: String
        var rtpParameters: RtpParameters
        var consumable: RtpParameters
    }

    /// URIs mediasoup's node layer can serialize (`rtpHeaderExtensionUriToFbs` throws on others).
    static let knownExtensionURIs: Set<String> = [
        "urn:ietf:params:rtp-hdrext:sdes:mid", "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", "http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07",
        "urn:ietf:params:rtp-hdrext:framemarking", "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "urn:3gpp:video-orientation",
        "urn:ietf:params:rtp-hdrext:toffset", "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
        "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    ]

    /// `scalabilityModes.parse`: L<spatial>T<temporal>[_KEY], L1T1 otherwise.
    static func layers(_ mode: String?) -> (spatial: Int, temporal: Int) {
        guard let mode, mode.hasPrefix("L"), let t = mode.firstIndex(of: "T"),
              let spatial = Int(mode[mode.index(after: mode.startIndex)..<t]) else { return (1, 1) }
        let rest = mode[mode.index(after: t)...].prefix { $0.isNumber }
        return (spatial, Int(rest) ?? 1)
    }

    /// `transport.produce`: throws what the server would answer with, or the producer.
    /// `usedSsrcs`/`usedMids`: what other producers of the transport already took.
    static func produce(kind: MediaKind, _ input: RtpParameters, router: RtpCapabilities,
                        usedSsrcs: Set<UInt32> = [], usedMids: Set<String> = []) throws -> Producer {
        var parameters = input
        if parameters.encodings.isEmpty { parameters.encodings = [RtpEncodingParameters()] }
        // getProducerRtpParametersMapping: every media codec matches a router codec strictly.
        var mapped: [Int: RtpCodecCapability] = [:]
        for codec in parameters.codecs where !codec.isRtx {
            guard let capability = router.codecs.first(where: {
                !$0.isRtx && CodecMatching.matches(.init(codec), .init($0), strict: true)
            }) else { throw Rejected("unsupported codec [mimeType:\(codec.mimeType), payloadType:\(codec.payloadType)]") }
            mapped[codec.payloadType] = capability
        }
        for codec in parameters.codecs where codec.isRtx {
            guard let apt = codec.parameters["apt"]?.intValue,
                  let media = parameters.codecs.first(where: { $0.payloadType == apt }), let capability = mapped[media.payloadType] else {
                throw Rejected("missing media codec found for RTX PT \(codec.payloadType)")
            }
            guard router.codecs.contains(where: { $0.isRtx && $0.parameters["apt"]?.intValue == capability.preferredPayloadType }) else {
                throw Rejected("no RTX codec for capability codec PT \(capability.preferredPayloadType ?? -1)")
            }
        }
        // Worker RtpParameters.
        if let mid = parameters.mid, mid.isEmpty { throw Rejected("empty mid") }
        var payloadTypes = Set<Int>()
        for codec in parameters.codecs {
            guard payloadTypes.insert(codec.payloadType).inserted else { throw Rejected("duplicated payloadType") }
            if codec.isRtx {
                guard let apt = codec.parameters["apt"]?.intValue, let target = parameters.codecs.first(where: { $0.payloadType == apt }) else {
                    throw Rejected("apt in RTX codec points to a non existing codec")
                }
                if target.isRtx { throw Rejected("apt in RTX codec points to a RTX codec") }
            }
        }
        guard let firstMedia = parameters.codecs.first(where: { !$0.isRtx }) else { throw Rejected("no media codecs found") }
        for encoding in parameters.encodings {
            if layers(encoding.scalabilityMode).spatial > 1 && parameters.encodings.count > 1 {
                throw Rejected("cannot use both simulcast and encodings with multiple SVC spatial layers")
            }
            if let pt = encoding.codecPayloadType {
                guard let codec = parameters.codecs.first(where: { $0.payloadType == pt }) else { throw Rejected("unknown codecPayloadType") }
                if codec.isRtx { throw Rejected("invalid codecPayloadType") }
            }
        }
        // Producer: type, codec support for it, encodings mapping.
        let firstLayers = layers(parameters.encodings[0].scalabilityMode)
        let type: String
        if parameters.encodings.count > 1 {
            type = "simulcast"
        } else if firstLayers.spatial > 1 || firstLayers.temporal > 1 {
            type = ["video/vp9", "video/h264-svc"].contains(firstMedia.mimeType.lowercased()) ? "svc" : "simulcast"
        } else {
            type = "simple"
        }
        let mime = firstMedia.mimeType.lowercased()
        if type == "simulcast" && !["video/vp8", "video/h264"].contains(mime) { throw Rejected("\(firstMedia.mimeType) codec not supported for simulcast") }
        if type == "svc" && !["video/vp9", "video/h264-svc"].contains(mime) { throw Rejected("\(firstMedia.mimeType) codec not supported for svc") }
        for encoding in parameters.encodings {
            let hasSsrc = (encoding.ssrc ?? 0) != 0  // node's `if (encoding.ssrc)` drops 0
            if parameters.encodings.count > 1 && !hasSsrc && encoding.rid == nil {
                throw Rejected("wrong entry in rtpMapping.encodings (missing ssrc or rid)")
            }
            if (parameters.mid ?? "").isEmpty && parameters.encodings.count == 1 && !hasSsrc && encoding.rid == nil {
                throw Rejected("wrong entry in rtpMapping.encodings (missing ssrc or rid, or rtpParameters.mid)")
            }
        }
        for ext in parameters.headerExtensions {
            guard knownExtensionURIs.contains(ext.uri) else { throw Rejected("invalid RtpHeaderExtensionUri: \(ext.uri)") }
            if ext.id == 0 { throw Rejected("RTP extension id cannot be 0") }
        }
        // RtpListener: SSRCs and MID unique in the transport.
        var ssrcs = usedSsrcs
        for encoding in parameters.encodings {
            for ssrc in [encoding.ssrc, encoding.rtx?.ssrc].compactMap({ $0 }) {
                guard ssrcs.insert(ssrc).inserted else { throw Rejected("ssrc already exists in RTP listener [ssrc:\(ssrc)]") }
            }
        }
        if let mid = parameters.mid, usedMids.contains(mid) { throw Rejected("MID already exists in RTP listener [mid:\(mid)]") }
        // getConsumableRtpParameters.
        var consumable = RtpParameters(codecs: [])
        for codec in parameters.codecs where !codec.isRtx {
            guard let capability = mapped[codec.payloadType], let pt = capability.preferredPayloadType else { continue }
            consumable.codecs.append(RtpCodecParameters(
                mimeType: capability.mimeType, payloadType: pt, clockRate: capability.clockRate, channels: capability.channels,
                parameters: codec.parameters, rtcpFeedback: capability.rtcpFeedback))
            if let rtx = router.codecs.first(where: { $0.isRtx && $0.parameters["apt"]?.intValue == pt }), let rtxPT = rtx.preferredPayloadType {
                consumable.codecs.append(RtpCodecParameters(mimeType: rtx.mimeType, payloadType: rtxPT, clockRate: rtx.clockRate,
                                                            parameters: rtx.parameters))
            }
        }
        consumable.headerExtensions = router.headerExtensions.filter {
            $0.kind == kind && ($0.direction == .sendrecv || $0.direction == .sendonly)
        }.map { RtpHeaderExtensionParameters(uri: $0.uri, id: $0.preferredId, encrypt: $0.preferredEncrypt) }
        consumable.encodings = parameters.encodings.enumerated().map { index, encoding in
            var out = encoding
            out.rid = nil
            out.rtx = nil
            out.codecPayloadType = nil
            out.ssrc = 100_000 + UInt32(index)
            return out
        }
        consumable.rtcp = RtcpParameters(cname: parameters.rtcp.cname, reducedSize: true)
        return Producer(type: type, rtpParameters: parameters, consumable: consumable)
    }

    /// `getConsumerRtpParameters` (not pipe, RTX on for video): what `consume` answers.
    static func consume(_ producer: Producer, kind: MediaKind, capabilities: RtpCapabilities) throws -> ConsumerOptions {
        let caps = try Validation.validate(capabilities)
        var consumer = RtpParameters(codecs: [], rtcp: producer.consumable.rtcp)
        for codec in producer.consumable.codecs {
            guard let capability = caps.codecs.first(where: { CodecMatching.matches(.init($0), .init(codec), strict: true) }) else { continue }
            var out = codec
            out.rtcpFeedback = capability.rtcpFeedback
            consumer.codecs.append(out)
        }
        let mediaPayloadTypes = Set(consumer.codecs.filter { !$0.isRtx }.map(\.payloadType))
        consumer.codecs.removeAll { $0.isRtx && !mediaPayloadTypes.contains($0.parameters["apt"]?.intValue ?? -1) }
        guard let first = consumer.codecs.first, !first.isRtx else { throw Rejected("no compatible media codecs") }
        consumer.headerExtensions = producer.consumable.headerExtensions.filter { ext in
            caps.headerExtensions.contains { $0.preferredId == ext.id && $0.uri == ext.uri }
        }
        let uris = Set(consumer.headerExtensions.map(\.uri))
        for index in consumer.codecs.indices {
            consumer.codecs[index].rtcpFeedback.removeAll {
                uris.contains(RtpHeaderExtensionURI.transportWideCC) ? $0.type == "goog-remb"
                    : uris.contains(RtpHeaderExtensionURI.absSendTime) ? $0.type == "transport-cc"
                    : ($0.type == "transport-cc" || $0.type == "goog-remb")
            }
        }
        var encoding = RtpEncodingParameters(ssrc: 424242)
        if consumer.codecs.contains(where: \.isRtx) { encoding.rtx = .init(ssrc: 424243) }
        var mode = producer.consumable.encodings.first { $0.scalabilityMode != nil }?.scalabilityMode
        if producer.consumable.encodings.count > 1 { mode = "L\(producer.consumable.encodings.count)T\(layers(mode).temporal)" }
        encoding.scalabilityMode = mode
        let maxBitrate = producer.consumable.encodings.compactMap(\.maxBitrate).max() ?? 0
        if maxBitrate > 0 { encoding.maxBitrate = maxBitrate }
        consumer.encodings = [encoding]
        consumer.mid = "0"
        return ConsumerOptions(id: "consumer-1", producerId: "producer-1", kind: kind, rtpParameters: consumer, type: producer.type)
    }
}
