/// mediasoup's ORTC validation (its `ortc` module): the rules a server applies to capabilities
/// and parameters, applied by nacho to what it receives before it relies on it. Each function
/// returns a normalized copy (defaults filled in, `kind` derived from the MIME type, video
/// codecs without `channels`, audio codecs with `channels` defaulting to 1).
public enum Validation {
    public static func validate(_ caps: RtpCapabilities) throws -> RtpCapabilities {
        var out = caps
        out.codecs = try caps.codecs.enumerated().map { index, codec in
            try validate(codec, at: "codecs[\(index)]")
        }
        var seen = Set<Int>()
        for codec in out.codecs {
            guard let pt = codec.preferredPayloadType else { continue }
            guard seen.insert(pt).inserted else { throw ORTCError.invalid("duplicated preferredPayloadType \(pt)") }
        }
        for ext in out.headerExtensions {
            guard !ext.uri.isEmpty else { throw ORTCError.invalid("header extension with empty uri") }
            guard (1...255).contains(ext.preferredId) else {
                throw ORTCError.invalid("header extension \(ext.uri) has preferredId \(ext.preferredId) outside 1...255")
            }
        }
        return out
    }

    static func validate(_ codec: RtpCodecCapability, at path: String) throws -> RtpCodecCapability {
        var out = codec
        guard let kind = MediaKind(mimeType: codec.mimeType) else {
            throw ORTCError.invalid("\(path): wrong codec.mimeType \(codec.mimeType.debugDescription)")
        }
        if let declared = codec.kind, declared != kind {
            throw ORTCError.invalid("\(path): kind \(declared) does not match mimeType \(codec.mimeType)")
        }
        out.kind = kind
        try validateCommon(mimeType: codec.mimeType, kind: kind, clockRate: codec.clockRate,
                           channels: &out.channels, parameters: codec.parameters, path: path)
        if let pt = codec.preferredPayloadType, !(0...127).contains(pt) {
            throw ORTCError.invalid("\(path): preferredPayloadType \(pt) outside 0...127")
        }
        return out
    }

    public static func validate(_ parameters: RtpParameters) throws -> RtpParameters {
        var out = parameters
        guard !parameters.codecs.isEmpty else { throw ORTCError.invalid("empty rtpParameters.codecs") }
        var payloadTypes = Set<Int>()
        for index in out.codecs.indices {
            let codec = out.codecs[index]
            let path = "codecs[\(index)]"
            guard let kind = codec.kind else {
                throw ORTCError.invalid("\(path): wrong codec.mimeType \(codec.mimeType.debugDescription)")
            }
            guard (0...127).contains(codec.payloadType) else {
                throw ORTCError.invalid("\(path): payloadType \(codec.payloadType) outside 0...127")
            }
            guard payloadTypes.insert(codec.payloadType).inserted else {
                throw ORTCError.invalid("duplicated codec payloadType \(codec.payloadType)")
            }
            try validateCommon(mimeType: codec.mimeType, kind: kind, clockRate: codec.clockRate,
                               channels: &out.codecs[index].channels, parameters: codec.parameters, path: path)
        }
        var ids = Set<Int>()
        for ext in parameters.headerExtensions {
            guard !ext.uri.isEmpty else { throw ORTCError.invalid("header extension with empty uri") }
            guard (1...255).contains(ext.id) else {
                throw ORTCError.invalid("header extension \(ext.uri) has id \(ext.id) outside 1...255")
            }
            guard ids.insert(ext.id).inserted else { throw ORTCError.invalid("duplicated header extension id \(ext.id)") }
        }
        return out
    }

    private static func validateCommon(mimeType: String, kind: MediaKind, clockRate: Int, channels: inout Int?,
                                       parameters: [String: CodecParameterValue], path: String) throws {
        guard clockRate > 0 else { throw ORTCError.invalid("\(path): invalid clockRate \(clockRate)") }
        switch kind {
        case .audio:
            if let c = channels, c < 1 { throw ORTCError.invalid("\(path): invalid channels \(c)") }
            channels = channels ?? 1
        case .video:
            channels = nil
        }
        if MimeType.isRtx(mimeType) {
            guard let apt = parameters["apt"] else {
                throw ORTCError.invalid("\(path): missing apt parameter in RTX codec")
            }
            guard apt.intValue != nil else { throw ORTCError.invalid("\(path): invalid codec apt parameter") }
        }
    }
}
