import SocketIO

/// Event and field names of the room protocol. The defaults are docs/PROTOCOL.md's; a
/// deployment that renamed them is reached through configuration (`events`, `fields`).
public struct ProtocolNames: Sendable, Equatable {
    /// Canonical event name → wire name.
    public var events: [String: String]
    /// Canonical top-level field name → wire name (`room_id`, `member_no`, `producer_id`, ...).
    public var fields: [String: String]

    public static let canonicalEvents = [
        "createRoom", "join", "getRouterRtpCapabilities", "createWebRtcTransport", "connectTransport",
        "produce", "consume", "resume", "exitRoom", "getProducers", "producerClosed",
        "newProducers", "consumerClosed", "consumerPaused", "consumerResumed",
    ]

    public static let canonicalFields = [
        "room_id", "member_no", "type", "peers", "transport_id", "producer_id", "consumer_id",
        "producer_socket_id", "producerTransportId", "consumerTransportId", "producerId",
        "rtpCapabilities", "rtpParameters", "dtlsParameters", "kind", "appData",
        "producing", "consuming", "forceTcp", "error",
    ]

    public init(events: [String: String] = [:], fields: [String: String] = [:]) throws {
        for key in events.keys where !Self.canonicalEvents.contains(key) {
            throw RoomError.configuration("unknown event name \(key.debugDescription) in events overrides (known: \(Self.canonicalEvents.joined(separator: ", ")))")
        }
        for key in fields.keys where !Self.canonicalFields.contains(key) {
            throw RoomError.configuration("unknown field name \(key.debugDescription) in fields overrides (known: \(Self.canonicalFields.joined(separator: ", ")))")
        }
        self.events = events
        self.fields = fields
    }

    public static let standard = try! ProtocolNames()

    public func wireEvent(_ canonical: String) -> String { events[canonical] ?? canonical }

    public func canonicalEvent(_ wire: String) -> String {
        events.first { $0.value == wire }?.key ?? wire
    }

    public func wireField(_ canonical: String) -> String { fields[canonical] ?? canonical }

    /// Renames the top-level keys of an outgoing object.
    func outgoing(_ object: [String: JSONValue]) -> JSONValue {
        guard !fields.isEmpty else { return .object(object) }
        return .object(Dictionary(object.map { (wireField($0.key), $0.value) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Renames wire keys back to canonical ones, at the top level and one array level down
    /// (`newProducers` is a list of objects; `peers` lists objects too).
    func incoming(_ value: JSONValue) -> JSONValue {
        guard !fields.isEmpty else { return value }
        let reverse = Dictionary(fields.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
        func rename(_ v: JSONValue, depth: Int) -> JSONValue {
            switch v {
            case .object(let o):
                return .object(Dictionary(o.map { key, value in
                    (reverse[key] ?? key, depth > 0 ? rename(value, depth: depth - 1) : value)
                }, uniquingKeysWith: { a, _ in a }))
            case .array(let a) where depth > 0:
                return .array(a.map { rename($0, depth: depth - 1) })
            default:
                return v
            }
        }
        return rename(value, depth: 2)
    }
}
