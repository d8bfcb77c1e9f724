import Bytes

/// Transport-wide congestion-control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1, RTPFB FMT 15): per transport-wide sequence number, whether it arrived and its receive
/// delta. Parsed for the sender's bandwidth adaptation; kept raw for re-serialization.
public struct TransportCCFeedback: Sendable, Equatable {
    public static let format: UInt8 = 15

    public enum Status: UInt8, Sendable {
        case notReceived = 0
        case smallDelta = 1
        case largeDelta = 2
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequence: UInt16
    /// Reference time in multiples of 64 ms (signed 24 bits).
    public var referenceTime: Int32
    public var feedbackPacketCount: UInt8
    /// One status per sequence number from `baseSequence` on.
    public var statuses: [Status]
    /// Receive deltas of the received packets, in microseconds.
    public var receiveDeltas: [Int32]
    /// The packet as read or built, written back unchanged.
    var raw: ArraySlice<UInt8>

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let common = try RTCPFeedbackHeader(parsing: bytes, packetType: RTCPPacketType.transportFeedback,
                                            format: Self.format, what: "RTCP transport-cc")
        raw = bytes.prefix(common.header.length)
        senderSSRC = common.senderSSRC
        mediaSSRC = common.mediaSSRC
        var reader = common.fci
        baseSequence = try reader.u16("the base sequence number")
        let count = Int(try reader.u16("the status count"))
        let reference = try reader.u24("the reference time")
        referenceTime = Int32(bitPattern: reference << 8) >> 8
        feedbackPacketCount = try reader.u8("the feedback packet count")
        var statuses: [Status] = []
        statuses.reserveCapacity(count)
        while statuses.count < count {
            let chunk = try reader.u16("a packet status chunk")
            if chunk & 0x8000 == 0 {
                // Run length chunk: one symbol repeated.
                guard let symbol = Status(rawValue: UInt8((chunk >> 13) & 0x3)) else {
                    throw MalformedPacket("RTCP transport-cc: reserved status symbol")
                }
                let run = Int(chunk & 0x1FFF)
                statuses.append(contentsOf: repeatElement(symbol, count: min(run, count - statuses.count)))
            } else if chunk & 0x4000 == 0 {
                // Status vector of 14 one-bit symbols.
                for bit in (0..<14).reversed() where statuses.count < count {
                    statuses.append((chunk >> UInt16(bit)) & 1 == 1 ? .smallDelta : .notReceived)
                }
            } else {
                // Status vector of 7 two-bit symbols.
                for pair in (0..<7).reversed() where statuses.count < count {
                    guard let symbol = Status(rawValue: UInt8((chunk >> UInt16(pair * 2)) & 0x3)) else {
                        throw MalformedPacket("RTCP transport-cc: reserved status symbol")
                    }
                    statuses.append(symbol)
                }
            }
        }
        var deltas: [Int32] = []
        for status in statuses {
            switch status {
            case .notReceived: continue
            case .smallDelta: deltas.append(Int32(try reader.u8("a receive delta")) * 250)
            case .largeDelta: deltas.append(Int32(Int16(bitPattern: try reader.u16("a receive delta"))) * 250)
            }
        }
        self.statuses = statuses
        self.receiveDeltas = deltas
    }

    public var receivedCount: Int { statuses.filter { $0 != .notReceived }.count }

    public var serializedSize: Int { raw.count }

    public func write(to writer: inout ByteWriter) {
        writer.append(raw)
    }
}
