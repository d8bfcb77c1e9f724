/// A value in a codec's `parameters` object: mediasoup allows only strings and numbers
/// (`apt` must be a number; `profile-level-id`, `useinbandfec`, ... are either).
public enum CodecParameterValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let i = try? container.decode(Int.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if container.decodeNil() {
            // mediasoup turns an undefined parameter into "".
            self = .string("")
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "codec parameter must be a string or a number")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        }
    }

    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return d == d.rounded() ? Int(exactly: d) : nil
        case .string: return nil
        }
    }

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        }
    }
}
