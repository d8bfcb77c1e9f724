import Bytes

/// A STUN message (RFC 8489 §5): 20-byte header with the magic cookie, then attributes, each
/// padded to 32 bits. Attributes are kept in order and raw; typed accessors read the ones ICE
/// uses. `serialize` adds MESSAGE-INTEGRITY and FINGERPRINT last, as ICE requires.
public struct STUNMessage: Sendable, Equatable {
    public static let magicCookie: UInt32 = 0x2112_A442

    public enum Method: UInt16, Sendable { case binding = 0x001 }
    public enum Class: UInt8, Sendable { case request = 0, indication = 1, success = 2, error = 3 }

    public var method: UInt16
    public var messageClass: Class
    public var transactionID: [UInt8]
    public var attributes: [STUNAttribute]

    public init(method: Method = .binding, class messageClass: Class, transactionID: [UInt8], attributes: [STUNAttribute] = []) {
        self.method = method.rawValue
        self.messageClass = messageClass
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// Whether a datagram looks like STUN (RFC 7983: first byte 0...3, plus the magic cookie).
    public static func looksLikeSTUN(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 20, bytes[bytes.startIndex] < 4 else { return false }
        let i = bytes.startIndex
        return bytes[i + 4] == 0x21 && bytes[i + 5] == 0x12 && bytes[i + 6] == 0xA4 && bytes[i + 7] == 0x42
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        var reader = ByteReader(bytes, what: "STUN message")
        let type = try reader.u16("the message type")
        guard type & 0xC000 == 0 else { throw MalformedPacket("STUN message: top bits of the type are not zero") }
        let length = Int(try reader.u16("the message length"))
        guard try reader.u32("the magic cookie") == Self.magicCookie else {
            throw MalformedPacket("STUN message: wrong magic cookie")
        }
        transactionID = Array(try reader.take(12, "the transaction ID"))
        guard length % 4 == 0, length == reader.remaining else {
            throw MalformedPacket("STUN message: length \(length) does not match the \(reader.remaining) attribute bytes")
        }
        // Method bits M0-M11 interleave with class bits C0 (bit 4) and C1 (bit 8).
        method = (type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2)
        // Two bits: every value is a class.
        messageClass = Class(rawValue: UInt8(((type >> 4) & 1) | ((type >> 7) & 2))) ?? .request
        var attributes: [STUNAttribute] = []
        while !reader.isAtEnd {
            let attrType = try reader.u16("an attribute type")
            let attrLength = Int(try reader.u16("an attribute length"))
            let value = try reader.take(attrLength, "attribute 0x\(String(attrType, radix: 16))")
            try reader.skip((4 - attrLength % 4) % 4, "attribute padding")
            attributes.append(STUNAttribute(type: attrType, value: Array(value)))
        }
        self.attributes = attributes
    }

    public init(parsing bytes: [UInt8]) throws {
        try self.init(parsing: bytes[...])
    }

    var typeField: UInt16 {
        let c = UInt16(messageClass.rawValue)
        return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    /// Serializes; with `integrityKey`, appends MESSAGE-INTEGRITY (HMAC-SHA1 over the message
    /// with the length covering it); with `fingerprint`, appends FINGERPRINT (CRC-32 ^ 0x5354554e).
    /// Existing MESSAGE-INTEGRITY / FINGERPRINT attributes are dropped first.
    public func serialize(integrityKey: [UInt8]? = nil, fingerprint: Bool = false) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        writer.u16(typeField)
        writer.u16(0)
        writer.u32(Self.magicCookie)
        writer.append(transactionID)
        for attribute in attributes where attribute.type != STUNAttribute.messageIntegrity && attribute.type != STUNAttribute.fingerprint {
            attribute.write(to: &writer)
        }
        var bytes = writer.bytes
        if let integrityKey {
            Self.setLength(&bytes, bytes.count - 20 + 24)
            let mac = HMACSHA1.authenticate(bytes, key: integrityKey)
            bytes += [0x00, 0x08, 0x00, 0x14] + mac
        }
        if fingerprint {
            Self.setLength(&bytes, bytes.count - 20 + 8)
            let crc = CRC32.checksum(bytes) ^ 0x5354_554E
            bytes += [0x80, 0x28, 0x00, 0x04, UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16),
                      UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
        }
        Self.setLength(&bytes, bytes.count - 20)
        return bytes
    }

    /// Rewrites the 16-bit length field. The checks below take raw bytes of any size: a length
    /// past 16 bits cannot verify anyway, and must not trap.
    private static func setLength(_ bytes: inout [UInt8], _ length: Int) {
        bytes[2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: length)
    }

    /// Checks MESSAGE-INTEGRITY against the received bytes (RFC 8489 §14.5): the HMAC covers
    /// the message up to the attribute, with the length field as if it ended right after it.
    public static func verifyIntegrity(_ bytes: ArraySlice<UInt8>, key: [UInt8]) -> Bool {
        guard let offset = attributeOffset(bytes, type: STUNAttribute.messageIntegrity) else { return false }
        var covered = Array(bytes[bytes.startIndex..<(bytes.startIndex + offset)])
        guard offset + 24 <= bytes.count else { return false }
        setLength(&covered, offset - 20 + 24)
        let expected = HMACSHA1.authenticate(covered, key: key)
        let received = bytes[(bytes.startIndex + offset + 4)..<(bytes.startIndex + offset + 24)]
        return constantTimeEqual(expected, Array(received))
    }

    /// Checks FINGERPRINT if present (true when absent: it is optional).
    public static func verifyFingerprint(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let offset = attributeOffset(bytes, type: STUNAttribute.fingerprint) else { return true }
        guard offset + 8 == bytes.count else { return false }
        var covered = Array(bytes[bytes.startIndex..<(bytes.startIndex + offset)])
        setLength(&covered, offset - 20 + 8)
        let crc = CRC32.checksum(covered) ^ 0x5354_554E
        let i = bytes.startIndex + offset + 4
        let received = UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
        return crc == received
    }

    /// Byte offset of the first attribute of `type`, walking the TLVs of a parsed-valid message.
    private static func attributeOffset(_ bytes: ArraySlice<UInt8>, type: UInt16) -> Int? {
        var offset = 20
        while offset + 4 <= bytes.count {
            let i = bytes.startIndex + offset
            let t = UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            let length = Int(UInt16(bytes[i + 2]) << 8 | UInt16(bytes[i + 3]))
            if t == type { return offset }
            offset += 4 + (length + 3) / 4 * 4
        }
        return nil
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    // MARK: - Attributes ICE uses

    public func attribute(_ type: UInt16) -> [UInt8]? {
        attributes.first { $0.type == type }?.value
    }

    public var username: String? {
        attribute(STUNAttribute.username).map { String(decoding: $0, as: UTF8.self) }
    }

    public var priority: UInt32? {
        guard let v = attribute(STUNAttribute.priority), v.count == 4 else { return nil }
        return UInt32(v[0]) << 24 | UInt32(v[1]) << 16 | UInt32(v[2]) << 8 | UInt32(v[3])
    }

    public var hasUseCandidate: Bool { attribute(STUNAttribute.useCandidate) != nil }

    /// The error code of an error response (class * 100 + number).
    public var errorCode: Int? {
        guard let v = attribute(STUNAttribute.errorCode), v.count >= 4 else { return nil }
        return Int(v[2] & 0x7) * 100 + Int(v[3])
    }

    public var xorMappedAddress: STUNAddress? {
        attribute(STUNAttribute.xorMappedAddress).flatMap { STUNAddress(xorValue: $0, transactionID: transactionID) }
    }
}
