/// mediasoup's codec comparison (`matchCodecs` in its `ortc` module and mediasoup-client's):
/// MIME type (case-insensitive), clock rate and audio channels always; in strict mode also
/// H264 packetization-mode and profile (RFC 6184 §8.1: the level is negotiated, not matched)
/// and VP9 profile-id (RFC 9628 §6; absent means 0). Strict mode is what the router applies to
/// produce and consume, so nacho uses it everywhere.
public enum CodecMatching {
    /// The parts of a codec the comparison looks at.
    public struct Codec: Sendable, Hashable {
        public var mimeType: String
        public var clockRate: Int
        public var channels: Int?
        public var parameters: [String: CodecParameterValue]

        public init(mimeType: String, clockRate: Int, channels: Int? = nil, parameters: [String: CodecParameterValue] = [:]) {
            self.mimeType = mimeType
            self.clockRate = clockRate
            self.channels = channels
            self.parameters = parameters
        }

        public init(_ capability: RtpCodecCapability) {
            self.init(mimeType: capability.mimeType, clockRate: capability.clockRate, channels: capability.channels,
                      parameters: capability.parameters)
        }

        public init(_ parameters: RtpCodecParameters) {
            self.init(mimeType: parameters.mimeType, clockRate: parameters.clockRate, channels: parameters.channels,
                      parameters: parameters.parameters)
        }
    }

    /// What a strict H264 match negotiates: the profile-level-id both sides then use (nil: leave
    /// it out, neither side gave one).
    public enum Outcome: Sendable, Equatable {
        case noMatch
        case match
        case h264(profileLevelId: String?)

        public var matched: Bool { self != .noMatch }
    }

    public static func matches(_ a: Codec, _ b: Codec, strict: Bool) -> Bool {
        compare(a, b, strict: strict).matched
    }

    /// Compares `local` (a's role in mediasoup: the side whose level the answer keeps) with `remote`.
    public static func compare(_ local: Codec, _ remote: Codec, strict: Bool) -> Outcome {
        let mimeType = local.mimeType.lowercased()
        guard mimeType == remote.mimeType.lowercased(), local.clockRate == remote.clockRate else { return .noMatch }
        if MediaKind(mimeType: mimeType) == .audio {
            // Validation gives audio codecs 1 channel when they name none.
            guard (local.channels ?? 1) == (remote.channels ?? 1) else { return .noMatch }
        }
        guard strict else { return .match }
        switch mimeType {
        case "video/h264", "video/h264-svc":
            let zero = CodecParameterValue.int(0)
            guard (local.parameters["packetization-mode"] ?? zero) == (remote.parameters["packetization-mode"] ?? zero),
                  H264ProfileLevelId.isSameProfile(local.parameters, remote.parameters) else { return .noMatch }
            do {
                return .h264(profileLevelId: try H264ProfileLevelId.answer(local: local.parameters, remote: remote.parameters))
            } catch {
                return .noMatch
            }
        case "video/vp9":
            let zero = CodecParameterValue.int(0)
            guard (local.parameters["profile-id"] ?? zero) == (remote.parameters["profile-id"] ?? zero) else { return .noMatch }
            return .match
        default:
            return .match
        }
    }

    /// Applies a strict H264 outcome to a codec's parameters (mediasoup-client's `modify`).
    public static func apply(_ outcome: Outcome, to parameters: inout [String: CodecParameterValue]) {
        guard case .h264(let profileLevelId) = outcome else { return }
        if let profileLevelId {
            parameters["profile-level-id"] = .string(profileLevelId)
        } else {
            parameters["profile-level-id"] = nil
        }
    }
}
