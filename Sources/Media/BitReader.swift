import Bytes

/// Reads a bitstream most significant bit first: fixed-width fields and the exp-Golomb codes
/// of H.264 (§9.1, `ue(v)` / `se(v)`), and the `f(n)` fields of the VP9 uncompressed header.
/// Running past the end throws `MalformedPacket`, never traps.
public struct BitReader {
    private let bytes: ArraySlice<UInt8>
    private var position = 0  // in bits from bytes.startIndex
    private let what: String

    public init(_ bytes: ArraySlice<UInt8>, what: String) {
        self.bytes = bytes
        self.what = what
    }

    public var bitsLeft: Int { bytes.count * 8 - position }
    public var bitsRead: Int { position }

    public mutating func bit(_ field: @autoclosure () -> String = "a bit") throws -> Bool {
        guard position < bytes.count * 8 else { throw MalformedPacket("\(what): truncated at \(field())") }
        let byte = bytes[bytes.startIndex + position / 8]
        defer { position += 1 }
        return byte & (0x80 >> UInt8(position % 8)) != 0
    }

    /// An unsigned field of up to 32 bits.
    public mutating func bits(_ count: Int, _ field: @autoclosure () -> String = "a field") throws -> UInt32 {
        precondition((0...32).contains(count), "at most 32 bits at once")
        guard bitsLeft >= count else { throw MalformedPacket("\(what): truncated at \(field()) (\(count) bits, \(bitsLeft) left)") }
        var value: UInt32 = 0
        for _ in 0..<count { value = value << 1 | (try bit(field()) ? 1 : 0) }
        return value
    }

    public mutating func skip(_ count: Int, _ field: @autoclosure () -> String = "reserved bits") throws {
        guard count >= 0, bitsLeft >= count else { throw MalformedPacket("\(what): truncated at \(field())") }
        position += count
    }

    /// `ue(v)`: leading zeros, a one, as many bits again. Codes longer than 32 bits do not
    /// occur in valid streams and are refused rather than overflowing.
    public mutating func ue(_ field: @autoclosure () -> String = "an exp-Golomb code") throws -> UInt32 {
        var zeros = 0
        while try !bit(field()) {
            zeros += 1
            guard zeros < 32 else { throw MalformedPacket("\(what): exp-Golomb code of \(field()) longer than 32 bits") }
        }
        guard zeros > 0 else { return 0 }
        return (UInt32(1) << UInt32(zeros)) - 1 + (try bits(zeros, field()))
    }

    /// `se(v)`: 0, 1, -1, 2, -2, ...
    public mutating func se(_ field: @autoclosure () -> String = "an exp-Golomb code") throws -> Int32 {
        let code = try ue(field())
        let magnitude = Int32(bitPattern: (code >> 1) + (code & 1))
        return code & 1 == 1 ? magnitude : -magnitude
    }
}
