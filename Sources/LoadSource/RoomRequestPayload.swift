import ORTC
import SocketIO

/// A request the load source refuses: answered `{"error": message}`, as the room servers nacho
/// talks to answer a failed request.
public struct RoomRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One request's payload (the event's first argument), read field by field with errors that
/// name the request and the field.
struct RoomRequestPayload {
    let event: String
    let fields: [String: JSONValue]

    /// A missing payload is an empty object (`getProducers`, `exitRoom` carry `{}` or nothing).
    init(event: String, args: [JSONValue]) throws {
        self.event = event
        switch args.first {
        case nil, .null?: fields = [:]
        case .object(let object)?: fields = object
        case let other?: throw RoomRequestError("\(event): the payload is not an object: \(other.summary)")
        }
    }

    /// An id given as a non-empty string or an integer (PROTOCOL.md: ids may be either).
    func identifier(_ key: String) throws -> String {
        switch fields[key] {
        case .string(let text)? where IdentifierLimit.fits(text): return text
        case .int(let number)?: return String(number)
        case nil, .null?: throw RoomRequestError("\(event) needs \(key)")
        case let other?:
            throw RoomRequestError("\(event): \(key) is not a string or integer id of at most \(IdentifierLimit.maxBytes) bytes: \(other.summary)")
        }
    }

    func string(_ key: String) throws -> String {
        guard case .string(let text)? = fields[key] else { throw RoomRequestError("\(event) needs \(key) (a string)") }
        return text
    }

    func bool(_ key: String) -> Bool {
        if case .bool(true)? = fields[key] { return true }
        return false
    }

    /// A typed ORTC object (dtlsParameters, rtpCapabilities).
    func decode<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
        guard let value = fields[key], value != .null else { throw RoomRequestError("\(event) needs \(key)") }
        do {
            return try value.decode(T.self)
        } catch {
            throw RoomRequestError("\(event): \(key) is not valid: \(value.summary)")
        }
    }
}
