import Bytes

/// One STUN attribute, type and raw value (RFC 8489 §14, RFC 8445 §16.1).
public struct STUNAttribute: Sendable, Equatable {
    public static let xorMappedAddress: UInt16 = 0x0020
    public static let username: UInt16 = 0x0006
    public static let messageIntegrity: UInt16 = 0x0008
    public static let errorCode: UInt16 = 0x0009
    public static let priority: UInt16 = 0x0024
    public static let useCandidate: UInt16 = 0x0025
    public static let software: UInt16 = 0x8022
    public static let fingerprint: UInt16 = 0x8028
    public static let iceControlled: UInt16 = 0x8029
    public static let iceControlling: UInt16 = 0x802A

    public var type: UInt16
    public var value: [UInt8]

    public init(type: UInt16, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public static func username(_ text: String) -> STUNAttribute { .init(type: username, value: Array(text.utf8)) }

    public static func priority(_ value: UInt32) -> STUNAttribute {
        var w = ByteWriter(capacity: 4)
        w.u32(value)
        return .init(type: priority, value: w.bytes)
    }

    public static func iceControlling(tieBreaker: UInt64) -> STUNAttribute {
        var w = ByteWriter(capacity: 8)
        w.u64(tieBreaker)
        return .init(type: iceControlling, value: w.bytes)
    }

    public static let useCandidateFlag = STUNAttribute(type: useCandidate, value: [])

    public static func xorMappedAddress(_ address: STUNAddress, transactionID: [UInt8]) -> STUNAttribute {
        .init(type: xorMappedAddress, value: address.xorValue(transactionID: transactionID))
    }

    public static func errorCode(_ code: Int, reason: String) -> STUNAttribute {
        .init(type: errorCode, value: [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8))
    }

    func write(to writer: inout ByteWriter) {
        writer.u16(type)
        writer.u16(UInt16(value.count))
        writer.append(value)
        writer.zeros((4 - value.count % 4) % 4)
    }
}

/// A transport address in XOR-MAPPED-ADDRESS form (RFC 8489 §14.2).
public struct STUNAddress: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public var ip: [UInt8]
    public var port: UInt16

    public init(ip: [UInt8], port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Dotted IPv4 text only; IPv6 is not used on nacho's loopback-or-server paths.
    public init?(ipv4: String, port: UInt16) {
        let parts = ipv4.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        self.init(ip: parts, port: port)
    }

    public var description: String {
        ip.count == 4 ? "\(ip.map(String.init).joined(separator: ".")):\(port)" : "[\(ip.hex)]:\(port)"
    }

    init?(xorValue v: [UInt8], transactionID: [UInt8]) {
        guard v.count >= 8 else { return nil }
        let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
        port = (UInt16(v[2]) << 8 | UInt16(v[3])) ^ 0x2112
        switch v[1] {
        case 1 where v.count == 8:
            ip = (0..<4).map { v[4 + $0] ^ cookie[$0] }
        case 2 where v.count == 20 && transactionID.count == 12:
            let mask = cookie + transactionID
            ip = (0..<16).map { v[4 + $0] ^ mask[$0] }
        default:
            return nil
        }
    }

    func xorValue(transactionID: [UInt8]) -> [UInt8] {
        let cookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
        let xport = port ^ 0x2112
        let mask = cookie + transactionID
        return [0, ip.count == 4 ? 1 : 2, UInt8(xport >> 8), UInt8(truncatingIfNeeded: xport)]
            + ip.enumerated().map { $0.element ^ mask[$0.offset] }
    }
}
