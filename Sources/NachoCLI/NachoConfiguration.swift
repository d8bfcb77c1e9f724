import Foundation
import Participant
import Signaling
import SocketIO
import Transport

/// The JSON configuration file (`--config`). Every field is optional; flags win over it.
/// See config.example.json for a commented example of each field.
public struct NachoConfigurationFile: Codable, Sendable {
    public var server: String?
    public var edge: String?
    public var origin: String?
    public var room: FlexibleString?
    public var member: FlexibleString?
    public var joinTypes: JoinTypes?
    public var auth: JSONValue?
    public var requestTimeout: Double?
    public var tlsVerify: Bool?
    public var numericIds: Bool?
    public var forceTcp: Bool?
    /// Seconds without an answer to ICE consent checks before the media link counts as lost
    /// (default 30, mediasoup's own consent timeout).
    public var iceConsentTimeout: Double?
    /// Reconnections in a row (each after backoff) before a lost link or transport ends the
    /// run (default 10).
    public var reconnectAttempts: Int?
    public var events: [String: String]?
    public var fields: [String: String]?
    public var audio: MediaSourceSettings?
    public var video: MediaSourceSettings?
    public var logLevel: String?
    /// `nacho bots`: the flags' equivalents.
    public var bots: BotsSettings?

    public struct BotsSettings: Codable, Sendable {
        public var videoPublishers: Int?
        public var audioPublishers: Int?
        public var subscribers: Int?
        public var memberBase: Int?
        public var index: Int?
        public var numPerSecond: Double?
        public var duration: Double?
        public var stats: String?
        public var expect: [String]?
        public var videoSource: String?
        public var audioSource: String?
        public var simulcast: Bool?
        public var metrics: String?
    }

    public struct JoinTypes: Codable, Sendable {
        public var edge: String?
        public var origin: String?
    }

    public struct MediaSourceSettings: Codable, Sendable {
        public var source: String?
        public var bitrate: Int?
        public var width: Int?
        public var height: Int?
        public var fps: Int?
        public var channels: Int?
        public var fec: Bool?
        public var dtx: Bool?
        public var keyframeInterval: Int?
        /// Video: the codec to send (`vp8`, `vp9`).
        public var codec: String?
        /// Video: VP8 simulcast (three encodings).
        public var simulcast: Bool?

        /// The numbers the encoders take as 32-bit values: out of range is a usage error here,
        /// not a trap in the encoder (Opus takes 500 ... 512000 b/s).
        func validate(section: String, bitrates: ClosedRange<Int>) throws {
            if let bitrate, !bitrates.contains(bitrate) {
                throw NachoFailure(.usage, "config \(section).bitrate must be between \(bitrates.lowerBound) and \(bitrates.upperBound) bits per second")
            }
            if let keyframeInterval, !(1...100_000).contains(keyframeInterval) {
                throw NachoFailure(.usage, "config \(section).keyframeInterval must be between 1 and 100000 frames")
            }
        }
    }

    /// Room and member numbers may be written as numbers or strings.
    public struct FlexibleString: Codable, Sendable {
        public var value: String
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { value = String(i) } else { value = try c.decode(String.self) }
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(value)
        }
    }

    public static func load(path: String) throws -> NachoConfigurationFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NachoFailure(.usage, "cannot read config file \(path): \((error as NSError).localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(NachoConfigurationFile.self, from: data)
        } catch let error as DecodingError {
            throw NachoFailure(.usage, "config file \(path) is invalid: \(describe(error))")
        } catch {
            throw NachoFailure(.usage, "config file \(path) is not JSON")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): wrong type"
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON" : "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Flags and file merged: what a run uses.
public struct ResolvedSettings: Sendable {
    public var edgeURL: URL
    public var originURL: URL
    public var room: String
    public var member: String
    public var edgeJoinType: String
    public var originJoinType: String
    public var auth: JSONValue?
    public var requestTimeout: Duration
    public var verifyTLS: Bool
    public var names: ProtocolNames
    public var numericIds: Bool
    public var forceTcp: Bool
    public var iceConsentTimeout: Duration
    public var reconnectAttempts: Int
    public var audio: NachoConfigurationFile.MediaSourceSettings
    public var video: NachoConfigurationFile.MediaSourceSettings
    public var bots: NachoConfigurationFile.BotsSettings = .init()

    public func transportConfiguration(forceTcp flag: Bool) -> WebRtcTransport.Configuration {
        var configuration = WebRtcTransport.Configuration(forceTcp: flag || forceTcp)
        configuration.consentTimeout = iceConsentTimeout
        // Check well inside the timeout: a sixth of it, at most every 5 s (RFC 7675 suggests 5 s).
        configuration.consentInterval = min(.seconds(5), iceConsentTimeout / 6)
        return configuration
    }

    /// How both halves of a participant ride out outages.
    public var supervision: RoomSupervisor.Policy { RoomSupervisor.Policy(maxAttempts: reconnectAttempts) }

    public func session(_ role: RoomSession.Role) -> RoomSession.Configuration {
        RoomSession.Configuration(
            url: role == .edge ? edgeURL : originURL, role: role, auth: auth, verifyTLS: verifyTLS,
            requestTimeout: requestTimeout, names: names, numericIds: numericIds)
    }
}
