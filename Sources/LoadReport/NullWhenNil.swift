/// An optional field that a line always writes: `null` when it has no value, never left out,
/// and `null` for a number that is not finite (JSON has no NaN, and one bad figure must not
/// cost the whole line). docs/STATS.md promises every documented key on every line ("number or
/// null"), and the encoder Swift synthesizes leaves nil optionals out.
@propertyWrapper
public struct NullWhenNil<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue, (wrappedValue as? Double)?.isFinite ?? true {
            try container.encode(wrappedValue)
        } else {
            try container.encodeNil()
        }
    }
}

extension KeyedDecodingContainer {
    /// A reader takes a missing key as null too (lines of older writers, other tools).
    public func decode<Value>(_ type: NullWhenNil<Value>.Type, forKey key: Key) throws -> NullWhenNil<Value> {
        NullWhenNil(wrappedValue: try decodeIfPresent(Value.self, forKey: key))
    }
}
