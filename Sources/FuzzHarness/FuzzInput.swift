/// Reads a fuzz input as a script: small integers, flags and length-prefixed chunks taken from
/// the front (in the manner of LLVM's FuzzedDataProvider). Past the end every read yields zero
/// or empty, so any byte string is a valid script and a mutation changes one decision locally.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var index = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { index >= bytes.count }
    public var remaining: Int { max(0, bytes.count - index) }

    public mutating func u8() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func u16() -> UInt16 {
        UInt16(u8()) << 8 | UInt16(u8())
    }

    public mutating func u32() -> UInt32 {
        UInt32(u16()) << 16 | UInt32(u16())
    }

    public mutating func bool() -> Bool { u8() & 1 == 1 }

    /// Up to `count` bytes (fewer at the end of the input).
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, index + max(0, count))
        defer { index = max(index, end) }
        return index < end ? Array(bytes[index..<end]) : []
    }

    /// A chunk with a 16-bit length prefix, the framing every packet-sequence harness uses.
    public mutating func chunk() -> [UInt8] {
        take(Int(u16()))
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        take(remaining)
    }
}

/// Builds inputs in the format `FuzzInput` reads, for seeds and tests.
public struct FuzzInputWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ value: UInt8) { bytes.append(value) }

    public mutating func u16(_ value: UInt16) {
        bytes += [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(truncatingIfNeeded: value))
    }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func chunk<C: Collection>(_ data: C) where C.Element == UInt8 {
        precondition(data.count <= 0xFFFF, "a chunk carries at most 65535 bytes")
        u16(UInt16(data.count))
        bytes += data
    }

    public mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes += data }
}
