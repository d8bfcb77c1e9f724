import Bytes

/// A DTLS record (RFC 6347 §4.1): content type, version, epoch, 48-bit sequence number,
/// length, fragment. Used to split a flight into datagrams on record boundaries and to
/// recognize DTLS on the shared port (RFC 7983: first byte 20...63).
public struct DTLSRecord: Sendable, Equatable {
    public static let headerSize = 13

    public enum ContentType: UInt8, Sendable {
        case changeCipherSpec = 20, alert = 21, handshake = 22, applicationData = 23
    }

    public var contentType: UInt8
    public var version: UInt16
    public var epoch: UInt16
    public var sequenceNumber: UInt64
    public var fragment: ArraySlice<UInt8>

    public init(contentType: UInt8, version: UInt16 = 0xFEFD, epoch: UInt16, sequenceNumber: UInt64, fragment: ArraySlice<UInt8>) {
        self.contentType = contentType
        self.version = version
        self.epoch = epoch
        self.sequenceNumber = sequenceNumber
        self.fragment = fragment
    }

    public static func looksLikeDTLS(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        return first >= 20 && first <= 63
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        var reader = ByteReader(bytes, what: "DTLS record")
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw MalformedPacket("DTLS record: \(reader.remaining) bytes after the record") }
    }

    init(reading reader: inout ByteReader) throws {
        contentType = try reader.u8("the content type")
        guard (20...63).contains(contentType) else { throw MalformedPacket("DTLS record: content type \(contentType)") }
        version = try reader.u16("the version")
        guard version >> 8 == 0xFE else { throw MalformedPacket("DTLS record: version 0x\(String(version, radix: 16)) is not DTLS") }
        epoch = try reader.u16("the epoch")
        sequenceNumber = UInt64(try reader.u16("the sequence number")) << 32 | UInt64(try reader.u32("the sequence number"))
        let length = Int(try reader.u16("the length"))
        guard length <= 16384 + 2048 else { throw MalformedPacket("DTLS record: length \(length) exceeds the maximum") }
        fragment = try reader.take(length, "the fragment")
    }

    /// All records of a datagram; throws if any is cut off.
    public static func split(_ datagram: ArraySlice<UInt8>) throws -> [DTLSRecord] {
        guard !datagram.isEmpty else { throw MalformedPacket("DTLS datagram: empty") }
        var reader = ByteReader(datagram, what: "DTLS datagram")
        var records: [DTLSRecord] = []
        while !reader.isAtEnd { records.append(try DTLSRecord(reading: &reader)) }
        return records
    }

    public var serializedSize: Int { Self.headerSize + fragment.count }

    public func write(to writer: inout ByteWriter) {
        writer.u8(contentType)
        writer.u16(version)
        writer.u16(epoch)
        writer.u16(UInt16(truncatingIfNeeded: sequenceNumber >> 32))
        writer.u32(UInt32(truncatingIfNeeded: sequenceNumber))
        writer.u16(UInt16(fragment.count))
        writer.append(fragment)
    }

    public func serialize() -> [UInt8] {
        var writer = ByteWriter(capacity: serializedSize)
        write(to: &writer)
        return writer.bytes
    }

    /// Packs a flight (records back to back) into datagrams of at most `mtu` bytes without
    /// splitting a record. A record larger than `mtu` goes alone.
    public static func packetize(_ flight: [UInt8], mtu: Int) -> [[UInt8]] {
        guard let records = try? split(flight[...]) else { return flight.isEmpty ? [] : [flight] }
        var datagrams: [[UInt8]] = []
        var current = ByteWriter(capacity: mtu)
        for record in records {
            if current.count > 0 && current.count + record.serializedSize > mtu {
                datagrams.append(current.bytes)
                current = ByteWriter(capacity: mtu)
            }
            record.write(to: &current)
        }
        if current.count > 0 { datagrams.append(current.bytes) }
        return datagrams
    }
}
