/// A Socket.IO v5 packet, the payload of an Engine.IO `message`:
/// `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`.
public struct SocketIOPacket: Sendable, Equatable {
    public enum PacketType: Int, Sendable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    public var type: PacketType
    public var namespace: String
    public var ackId: Int?
    /// For events and acks, an array; for connect, the auth object or handshake; else nil.
    public var data: JSONValue?
    /// Number of binary attachments announced (binary packets only).
    public var attachments: Int

    public init(type: PacketType, namespace: String = "/", ackId: Int? = nil, data: JSONValue? = nil, attachments: Int = 0) {
        self.type = type
        self.namespace = namespace
        self.ackId = ackId
        self.data = data
        self.attachments = attachments
    }

    /// An event packet: `["name", args...]`.
    public static func event(_ name: String, _ args: [JSONValue], ackId: Int? = nil, namespace: String = "/") -> SocketIOPacket {
        SocketIOPacket(type: .event, namespace: namespace, ackId: ackId, data: .array([.string(name)] + args))
    }

    public init(parsing text: Substring) throws {
        var rest = text[...]
        guard let digit = rest.first, let raw = digit.wholeNumberValue, let type = PacketType(rawValue: raw) else {
            throw SocketIOError.malformedPacket("unknown Socket.IO packet type in \(Self.clip(text))")
        }
        rest = rest.dropFirst()
        self.type = type
        self.attachments = 0
        if type == .binaryEvent || type == .binaryAck {
            guard let dash = rest.firstIndex(of: "-"), let count = Int(rest[..<dash]), count >= 0 else {
                throw SocketIOError.malformedPacket("binary Socket.IO packet without attachment count")
            }
            self.attachments = count
            rest = rest[rest.index(after: dash)...]
        }
        self.namespace = "/"
        if rest.first == "/" {
            // The namespace runs to the first comma; a packet may end right after it.
            if let comma = rest.firstIndex(of: ",") {
                self.namespace = String(rest[..<comma])
                rest = rest[rest.index(after: comma)...]
            } else {
                self.namespace = String(rest)
                rest = rest[rest.endIndex...]
            }
        }
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        if digits.isEmpty {
            self.ackId = nil
        } else {
            guard digits.count <= 15, let id = Int(digits) else {
                throw SocketIOError.malformedPacket("Socket.IO ack id out of range")
            }
            self.ackId = id
            rest = rest[digits.endIndex...]
        }
        if rest.isEmpty {
            self.data = nil
        } else {
            // Payloads are objects or arrays (a connect error may be a bare string in v4 servers);
            // anything else is ambiguous with the ack id digits before it.
            guard let opener = rest.first, opener == "[" || opener == "{" || (opener == "\"" && type == .connectError) else {
                throw SocketIOError.malformedPacket("Socket.IO packet payload is not an object or array: \(Self.clip(text))")
            }
            do {
                self.data = try JSONValue(parsing: rest)
            } catch {
                throw SocketIOError.malformedPacket("Socket.IO packet with invalid JSON: \(Self.clip(text))")
            }
        }
        try validate()
    }

    /// The shape rules of the protocol: events carry a non-empty array starting with a name,
    /// acks carry an array, connect errors an object.
    private func validate() throws {
        switch type {
        case .event, .binaryEvent:
            guard case .array(let items)? = data, case .string? = items.first else {
                throw SocketIOError.malformedPacket("Socket.IO event without a name")
            }
        case .ack, .binaryAck:
            guard ackId != nil, case .array? = data else {
                throw SocketIOError.malformedPacket("Socket.IO ack without id or arguments")
            }
        case .connect:
            if let data, data.objectValue == nil {
                throw SocketIOError.malformedPacket("Socket.IO connect payload is not an object")
            }
        case .connectError:
            break
        case .disconnect:
            if data != nil { throw SocketIOError.malformedPacket("Socket.IO disconnect with a payload") }
        }
    }

    public func serialize() -> String {
        var out = String(type.rawValue)
        if type == .binaryEvent || type == .binaryAck {
            out += "\(attachments)-"
        }
        if namespace != "/" {
            out += namespace + ","
        }
        if let ackId {
            out += String(ackId)
        }
        if let data {
            out += data.jsonText
        }
        return out
    }

    /// Event name and arguments, for event packets.
    public var eventContent: (name: String, args: [JSONValue])? {
        guard type == .event || type == .binaryEvent, case .array(let items)? = data,
              case .string(let name)? = items.first else { return nil }
        return (name, Array(items.dropFirst()))
    }

    static func clip(_ text: Substring) -> String {
        text.count > 60 ? String(text.prefix(57)).debugDescription + "..." : String(text).debugDescription
    }
}
