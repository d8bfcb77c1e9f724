import Bytes

/// One report block of an SR or RR (RFC 3550 §6.4.1), 24 bytes.
public struct ReceptionReport: Sendable, Equatable {
    public var ssrc: UInt32
    /// Fraction of packets lost since the last report, in 1/256.
    public var fractionLost: UInt8
    /// Cumulative packets lost; signed 24 bits (duplicates can make it negative).
    public var cumulativeLost: Int32
    public var extendedHighestSequence: UInt32
    public var jitter: UInt32
    /// Middle 32 bits of the NTP time of the last SR received from this source.
    public var lastSenderReport: UInt32
    /// Delay since that SR, in 1/65536 s.
    public var delaySinceLastSenderReport: UInt32

    public init(ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequence: UInt32 = 0,
                jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    static let size = 24

    init(reading reader: inout ByteReader) throws {
        ssrc = try reader.u32("a report block")
        fractionLost = try reader.u8("a report block")
        let lost = try reader.u24("a report block")
        cumulativeLost = Int32(bitPattern: lost << 8) >> 8  // sign-extend 24 bits
        extendedHighestSequence = try reader.u32("a report block")
        jitter = try reader.u32("a report block")
        lastSenderReport = try reader.u32("a report block")
        delaySinceLastSenderReport = try reader.u32("a report block")
    }

    func write(to writer: inout ByteWriter) {
        writer.u32(ssrc)
        writer.u8(fractionLost)
        writer.u24(UInt32(bitPattern: cumulativeLost) & 0x00FF_FFFF)
        writer.u32(extendedHighestSequence)
        writer.u32(jitter)
        writer.u32(lastSenderReport)
        writer.u32(delaySinceLastSenderReport)
    }
}
