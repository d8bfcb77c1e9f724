/// One Engine.IO v4 packet as carried by a WebSocket text frame: a type digit followed by
/// the payload. Over WebSocket there is no payload framing (no length prefixes, no `\x1e`
/// separators): one frame, one packet. Binary frames are `message` packets with raw bytes.
public struct EngineIOPacket: Sendable, Equatable {
    public enum PacketType: Character, Sendable {
        case open = "0"
        case close = "1"
        case ping = "2"
        case pong = "3"
        case message = "4"
        case upgrade = "5"
        case noop = "6"
    }

    public var type: PacketType
    public var payload: Substring

    public init(type: PacketType, payload: Substring = "") {
        self.type = type
        self.payload = payload
    }

    /// Parses a text frame; throws on an empty frame or an unknown type digit.
    public init(parsing frame: String) throws {
        guard let first = frame.first else {
            throw SocketIOError.malformedPacket("empty Engine.IO frame")
        }
        guard let type = PacketType(rawValue: first) else {
            throw SocketIOError.malformedPacket("unknown Engine.IO packet type \(String(first).debugDescription)")
        }
        self.type = type
        self.payload = frame.dropFirst()
    }

    public func serialize() -> String {
        String(type.rawValue) + payload
    }
}

/// The JSON body of the Engine.IO `open` packet (protocol v4).
public struct EngineIOHandshake: Sendable, Equatable, Codable {
    public var sid: String
    public var upgrades: [String]
    /// Milliseconds between the server's pings.
    public var pingInterval: Int
    /// Milliseconds the server waits for a pong, and the client's grace on top of the interval.
    public var pingTimeout: Int
    public var maxPayload: Int?

    /// Accepted ping interval and timeout, in milliseconds. Servers use seconds to a minute
    /// (Engine.IO defaults: 25 s and 20 s); beyond an hour a dead link would go unnoticed, and
    /// unbounded values overflow the liveness deadline (interval + timeout).
    public static let pingRange = 1...3_600_000

    public init(sid: String, upgrades: [String] = [], pingInterval: Int, pingTimeout: Int, maxPayload: Int? = nil) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    public init(parsing payload: Substring) throws {
        do {
            self = try JSONValue(parsing: payload).decode(EngineIOHandshake.self)
        } catch {
            throw SocketIOError.malformedPacket("Engine.IO open packet is not a valid handshake: \(payload.prefix(60))")
        }
        guard Self.pingRange.contains(pingInterval), Self.pingRange.contains(pingTimeout) else {
            throw SocketIOError.malformedPacket(
                "Engine.IO handshake with ping timers outside 1 ms ... 1 h (interval \(pingInterval), timeout \(pingTimeout))")
        }
    }
}
