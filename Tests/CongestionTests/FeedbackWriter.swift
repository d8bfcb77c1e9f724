import Bytes
import RTP

/// Test-side writer of transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// §3.1), so simulations hand the controller bytes the real `TransportCCFeedback(parsing:)`
/// reads. Status chunks are all two-bit status vectors (7 symbols each); a received packet's
/// delta (250 µs ticks) is small when it fits 0...255, large otherwise (clamped to 16 bits).
enum FeedbackWriter {
    enum Symbol: Equatable {
        case lost
        /// Ticks of 250 µs since the previous received packet (the first: since the reference time).
        case received(deltaTicks: Int)
    }

    static func bytes(base: UInt16, referenceTime: Int32, feedbackCount: UInt8, symbols: [Symbol],
                      senderSSRC: UInt32 = 1, mediaSSRC: UInt32 = 2) -> [UInt8] {
        var body = ByteWriter()
        body.u32(senderSSRC)
        body.u32(mediaSSRC)
        body.u16(base)
        body.u16(UInt16(clamping: symbols.count))
        body.u24(UInt32(bitPattern: referenceTime) & 0xFF_FFFF)
        body.u8(feedbackCount)
        let codes: [UInt16] = symbols.map { symbol in
            switch symbol {
            case .lost: return 0
            case .received(let ticks): return (0...255).contains(ticks) ? 1 : 2
            }
        }
        var index = 0
        while index < codes.count {
            var chunk: UInt16 = 0xC000
            for slot in 0..<7 where index + slot < codes.count {
                chunk |= codes[index + slot] << UInt16(12 - 2 * slot)
            }
            body.u16(chunk)
            index += 7
        }
        for symbol in symbols {
            guard case .received(let ticks) = symbol else { continue }
            if (0...255).contains(ticks) {
                body.u8(UInt8(ticks))
            } else {
                body.u16(UInt16(bitPattern: Int16(clamping: ticks)))
            }
        }
        while body.count % 4 != 0 { body.u8(0) }
        var packet = ByteWriter()
        RTCPHeader.write(count: TransportCCFeedback.format, packetType: RTCPPacketType.transportFeedback,
                         bodyLength: body.count, to: &packet)
        packet.append(body.bytes)
        return packet.bytes
    }

    /// Feedback about consecutive packets from `base`: each nil (lost) or its arrival time in
    /// seconds on the receiver's clock; the reference time is taken from the first arrival.
    static func bytes(base: UInt16, arrivals: [Double?], feedbackCount: UInt8) -> [UInt8] {
        let first = arrivals.compactMap { $0 }.first ?? 0
        let reference = Int32(max(0, (first / 0.064).rounded(.down)))
        var previousTick = Int(reference) * 256
        var symbols: [Symbol] = []
        for arrival in arrivals {
            guard let arrival else {
                symbols.append(.lost)
                continue
            }
            let tick = Int((arrival / 0.000_25).rounded())
            symbols.append(.received(deltaTicks: tick - previousTick))
            previousTick = tick
        }
        return bytes(base: base, referenceTime: reference & 0xFF_FFFF, feedbackCount: feedbackCount, symbols: symbols)
    }
}
