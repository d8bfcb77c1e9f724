import Media

/// One packet of the depacketizer harnesses' input (VP8, VP9, H264): packets until the end,
/// each a flags byte (bit 0: marker, bit 1: discontinuity, bit 2: next frame's timestamp,
/// bit 3: flush first) and a length-prefixed payload.
struct FuzzedPacket {
    var payload: [UInt8]
    /// From 90000, 3000 more at each packet with bit 2.
    var timestamp: UInt32
    var marker: Bool
    var discontinuity: Bool
    /// Flush the assembler before this packet (the harnesses whose codec has a flush).
    var flushFirst: Bool

    /// Reads the packets of `input` to its end.
    static func forEach(in input: inout FuzzInput, _ body: (FuzzedPacket) -> Void) {
        var timestamp: UInt32 = 90000
        while !input.isAtEnd {
            let flags = input.u8()
            if flags & 4 != 0 { timestamp &+= 3000 }
            body(FuzzedPacket(payload: input.chunk(), timestamp: timestamp, marker: flags & 1 != 0, discontinuity: flags & 2 != 0,
                              flushFirst: flags & 8 != 0))
        }
    }

    /// Feeds the packets of `input` to an assembler, flushing where a packet asks and at the end;
    /// `inspect` sees each packet first, `check` each frame handed out. A delta frame before any
    /// key frame fails. (Not `!waitingForKeyFrame` after each frame: one completed by the
    /// previous packet comes out with this one, after a gap this one reports.)
    static func assemble<Depacketizer>(_ input: inout FuzzInput, into assembler: inout FrameAssembler<Depacketizer>,
                                       inspect: (FuzzedPacket) -> Void, check: (Depacketizer.Frame) -> Void) {
        var sawKeyFrame = false
        func delivered(_ frame: Depacketizer.Frame) {
            check(frame)
            if frame.isKeyFrame { sawKeyFrame = true }
            require(sawKeyFrame, "a delta frame before any key frame")
        }
        forEach(in: &input) { packet in
            if packet.flushFirst, let frame = assembler.flush() { delivered(frame) }
            inspect(packet)
            if let frame = assembler.add(packet.payload[...], timestamp: packet.timestamp, marker: packet.marker,
                                         discontinuity: packet.discontinuity) {
                delivered(frame)
            }
        }
        if let frame = assembler.flush() { delivered(frame) }
    }

    /// An input of these packets: (payload, marker, discontinuity, new timestamp) each.
    static func write(_ packets: [(payload: [UInt8], marker: Bool, discontinuity: Bool, newTimestamp: Bool)],
                      into writer: inout FuzzInputWriter) {
        for packet in packets {
            writer.u8((packet.marker ? 1 : 0) | (packet.discontinuity ? 2 : 0) | (packet.newTimestamp ? 4 : 0))
            writer.chunk(packet.payload)
        }
    }
}
