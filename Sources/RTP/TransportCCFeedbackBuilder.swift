import Bytes

extension TransportCCFeedback {
    /// Why a feedback message cannot be written as asked.
    public struct BuildError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Packet status count limit of one message: its 16-bit field, and what keeps one message
    /// well inside a datagram (a status costs at most 2 bits of chunk and 2 bytes of delta).
    public static let maxStatuses = 500

    /// Builds a feedback message (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) for
    /// the packets from `baseSequence` on. `receiveDeltas` are in microseconds, one per received
    /// status, and must be multiples of 250 that fit their symbol: a small delta is 0...63 750,
    /// a large one −8 192 000...8 191 750. Chunks are run-length where a run is long or ends the
    /// list, otherwise one-bit vectors (14 symbols) or two-bit vectors (7) when a large delta is
    /// among them; the message is zero-padded to 32 bits without the P bit, as mediasoup writes it.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, baseSequence: UInt16, referenceTime: Int32, feedbackPacketCount: UInt8,
                statuses: [Status], receiveDeltas: [Int32]) throws {
        guard !statuses.isEmpty, statuses.count <= Self.maxStatuses else {
            throw BuildError(description: "transport-cc: \(statuses.count) statuses (1...\(Self.maxStatuses))")
        }
        guard (-(1 << 23)..<(1 << 23)).contains(referenceTime) else {
            throw BuildError(description: "transport-cc: reference time \(referenceTime) is not 24 bits")
        }
        let received = statuses.filter { $0 != .notReceived }
        guard received.count == receiveDeltas.count else {
            throw BuildError(description: "transport-cc: \(received.count) received statuses, \(receiveDeltas.count) deltas")
        }
        for (status, delta) in zip(received, receiveDeltas) {
            let fits = delta % 250 == 0 && (status == .smallDelta ? (0...63_750).contains(delta) : (-8_192_000...8_191_750).contains(delta))
            guard fits else { throw BuildError(description: "transport-cc: a \(status) delta of \(delta) µs") }
        }
        var body = ByteWriter(capacity: 20 + statuses.count / 3 + 2 * receiveDeltas.count)
        body.u16(baseSequence)
        body.u16(UInt16(statuses.count))
        body.u24(UInt32(bitPattern: referenceTime) & 0xFF_FFFF)
        body.u8(feedbackPacketCount)
        Self.writeChunks(statuses, to: &body)
        for (status, delta) in zip(received, receiveDeltas) {
            let units = delta / 250
            if status == .smallDelta { body.u8(UInt8(units)) } else { body.u16(UInt16(bitPattern: Int16(units))) }
        }
        while body.bytes.count % 4 != 0 { body.u8(0) }
        var writer = ByteWriter(capacity: 12 + body.bytes.count)
        RTCPFeedbackHeader.write(packetType: RTCPPacketType.transportFeedback, format: Self.format, senderSSRC: senderSSRC,
                                 mediaSSRC: mediaSSRC, size: 12 + body.bytes.count, to: &writer)
        writer.append(body.bytes)
        self = try TransportCCFeedback(parsing: writer.bytes[...])
    }

    /// The status symbols as chunks: a run-length chunk for a run of 14 or more (up to 8191) or
    /// for a run that ends the list; otherwise a vector of the next 14 (one bit each) when none
    /// of them is a large delta, else of the next 7 (two bits each).
    private static func writeChunks(_ statuses: [Status], to writer: inout ByteWriter) {
        var index = 0
        while index < statuses.count {
            let symbol = statuses[index]
            var run = 1
            while index + run < statuses.count, run < 0x1FFF, statuses[index + run] == symbol { run += 1 }
            if run >= 14 || index + run == statuses.count {
                writer.u16(UInt16(symbol.rawValue) << 13 | UInt16(run))
                index += run
            } else if !statuses[index..<min(index + 14, statuses.count)].contains(.largeDelta) {
                var chunk: UInt16 = 0x8000
                for bit in 0..<14 where index + bit < statuses.count && statuses[index + bit] != .notReceived {
                    chunk |= 1 << UInt16(13 - bit)
                }
                writer.u16(chunk)
                index += 14
            } else {
                var chunk: UInt16 = 0xC000
                for pair in 0..<7 where index + pair < statuses.count {
                    chunk |= UInt16(statuses[index + pair].rawValue) << UInt16(12 - 2 * pair)
                }
                writer.u16(chunk)
                index += 7
            }
        }
    }
}
