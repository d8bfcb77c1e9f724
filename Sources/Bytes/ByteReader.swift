/// Reads big-endian fields from a packet, throwing `MalformedPacket` instead of trapping when
/// the input is short: every wire-format parser of nacho reads through this.
public struct ByteReader {
    public let bytes: ArraySlice<UInt8>
    /// Absolute index of the next byte in `bytes`.
    public private(set) var index: Int
    private let what: String

    public init(_ bytes: ArraySlice<UInt8>, what: String) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.what = what
    }

    public init(_ bytes: [UInt8], what: String) {
        self.init(bytes[...], what: what)
    }

    public var remaining: Int { bytes.endIndex - index }
    public var isAtEnd: Bool { index >= bytes.endIndex }
    /// Bytes consumed so far.
    public var consumed: Int { index - bytes.startIndex }

    @inline(__always)
    public mutating func require(_ count: Int, _ field: @autoclosure () -> String) throws {
        guard count >= 0, remaining >= count else {
            throw MalformedPacket("\(what): truncated at \(field()) (needs \(count) bytes, \(max(remaining, 0)) left)")
        }
    }

    public mutating func u8(_ field: @autoclosure () -> String = "a byte") throws -> UInt8 {
        try require(1, field())
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func u16(_ field: @autoclosure () -> String = "a 16-bit field") throws -> UInt16 {
        try require(2, field())
        defer { index += 2 }
        return UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
    }

    public mutating func u24(_ field: @autoclosure () -> String = "a 24-bit field") throws -> UInt32 {
        try require(3, field())
        defer { index += 3 }
        return UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
    }

    public mutating func u32(_ field: @autoclosure () -> String = "a 32-bit field") throws -> UInt32 {
        try require(4, field())
        defer { index += 4 }
        return UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    public mutating func u64(_ field: @autoclosure () -> String = "a 64-bit field") throws -> UInt64 {
        let high = try u32(field())
        let low = try u32(field())
        return UInt64(high) << 32 | UInt64(low)
    }

    public mutating func take(_ count: Int, _ field: @autoclosure () -> String = "a field") throws -> ArraySlice<UInt8> {
        try require(count, field())
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    public mutating func skip(_ count: Int, _ field: @autoclosure () -> String = "padding") throws {
        try require(count, field())
        index += count
    }

    /// Everything not read yet.
    public mutating func rest() -> ArraySlice<UInt8> {
        defer { index = bytes.endIndex }
        return bytes[index...]
    }

    public func peekU8() -> UInt8? { isAtEnd ? nil : bytes[index] }
}

/// Input that does not follow its wire format. The description names the format and the field.
public struct MalformedPacket: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
