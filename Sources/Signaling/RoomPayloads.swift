import ORTC
import SocketIO

/// A member present in the room, as `join` lists them.
public struct Peer: Sendable, Hashable {
    public var memberNo: String
    public var type: String?
}

/// The `join` answer. Servers send `peers` as an array or as a JSON-encoded string, and
/// member numbers as strings or numbers: all are accepted.
public struct JoinAnswer: Sendable, Hashable {
    /// More peers than this in one answer is a protocol error (no room holds that many; a
    /// hostile list would only cost memory).
    public static let maxPeers = 10_000

    public var roomId: String?
    public var peers: [Peer]

    public init(roomId: String?, peers: [Peer]) {
        self.roomId = roomId
        self.peers = peers
    }

    public init(parsing value: JSONValue) throws {
        guard case .object(let object) = value else {
            throw RoomPayloadError("expected an object, got \(value.summary)")
        }
        roomId = try Self.optionalIdentifier(value, "room_id", in: "join answer")
        var peersValue = object["peers"] ?? .array([])
        if case .string(let text) = peersValue {
            do {
                peersValue = try JSONValue(parsing: Substring(text))
            } catch {
                throw RoomPayloadError("peers is a string that is not JSON")
            }
        }
        guard case .array(let items) = peersValue else {
            throw RoomPayloadError("peers is not a list")
        }
        guard items.count <= Self.maxPeers else {
            throw RoomPayloadError("join answer lists \(items.count) peers, more than \(Self.maxPeers)")
        }
        // Entries without a member number (or that are no objects) say nothing: skipped.
        peers = try items.compactMap { item in
            guard let member = try Self.optionalIdentifier(item, "member_no", in: "peers entry") else { return nil }
            return Peer(memberNo: member, type: item["type"]?.stringValue)
        }
    }

    /// An id sent as a string or as a number. A number must be an integer that fits in `Int`
    /// (1e300 or 2.5 name nothing): anything else is nil.
    /// A string or integer id of at most `IdentifierLimit.maxBytes` bytes, else nil.
    static func identifier(_ value: JSONValue) -> String? {
        let id: String?
        switch value {
        case .string(let s): id = s
        case .int(let i): id = String(i)
        case .double(let d): id = Int(exactly: d).map(String.init)
        default: id = nil
        }
        guard let id, id.utf8.count <= IdentifierLimit.maxBytes else { return nil }
        return id
    }

    /// The id in `key` of an object: nil when absent or null; a value that is no id makes the
    /// entry malformed rather than silently ownerless.
    static func optionalIdentifier(_ object: JSONValue, _ key: String, in what: String) throws -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard let id = identifier(value) else {
            throw RoomPayloadError(
                "\(what): \(key) is not a string or an integer id of at most \(IdentifierLimit.maxBytes) bytes: \(value.summary)")
        }
        return id
    }
}

/// One entry of `newProducers`. Some servers send only `producer_id` (+ `producer_socket_id`):
/// `kind` is then learned from the `consume` answer and members are told apart by socket id.
public struct ProducerInfo: Sendable, Hashable, Codable {
    public var producerId: String
    public var memberNo: String?
    public var kind: MediaKind?
    public var producerSocketId: String?

    public init(producerId: String, memberNo: String? = nil, kind: MediaKind? = nil, producerSocketId: String? = nil) {
        self.producerId = producerId
        self.memberNo = memberNo
        self.kind = kind
        self.producerSocketId = producerSocketId
    }

    /// Who owns the producer: the member number, else the socket id the server gave.
    public var owner: String? { memberNo ?? producerSocketId }

    /// More entries than this in one `newProducers` event is a protocol error.
    public static let maxEntries = 10_000

    public static func list(parsing value: JSONValue) throws -> [ProducerInfo] {
        var value = value
        // Tolerate a single object, or the list wrapped in {"producers": [...]}.
        if case .object(let o) = value { value = o["producers"] ?? .array([value]) }
        guard case .array(let items) = value else {
            throw RoomPayloadError("newProducers is not a list")
        }
        guard items.count <= maxEntries else {
            throw RoomPayloadError("newProducers lists \(items.count) producers, more than \(maxEntries)")
        }
        return try items.map { item in
            guard let id = item["producer_id"].flatMap(JoinAnswer.identifier), !id.isEmpty else {
                throw RoomPayloadError(
                    "newProducers entry without a producer_id of at most \(IdentifierLimit.maxBytes) bytes: \(item.summary)")
            }
            var socketId: String?
            if let value = item["producer_socket_id"], value != .null {
                guard case .string(let text) = value, text.utf8.count <= IdentifierLimit.maxBytes else {
                    throw RoomPayloadError(
                        "newProducers entry: producer_socket_id is not a string of at most \(IdentifierLimit.maxBytes) bytes: \(value.summary)")
                }
                socketId = text
            }
            return ProducerInfo(
                producerId: id,
                memberNo: try JoinAnswer.optionalIdentifier(item, "member_no", in: "newProducers entry"),
                kind: item["kind"]?.stringValue.flatMap(MediaKind.init(rawValue:)),
                producerSocketId: socketId)
        }
    }
}

/// What the server tells the client unasked.
public enum RoomEvent: Sendable {
    case newProducers([ProducerInfo])
    case consumerClosed(consumerId: String)
    /// The remote producer paused (camera or microphone off) or resumed: the consumer stays,
    /// its media stops or starts again (mediasoup's `producerpause` / `producerresume`).
    case consumerPaused(consumerId: String)
    case consumerResumed(consumerId: String)
    /// The link ended; the stream finishes after this.
    case disconnected(RoomError)
}

/// A payload that does not have the shape the protocol promises.
public struct RoomPayloadError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
