import Transport

/// A TCP byte stream into `RFC4571Framer`, cut into fuzzed chunks, as ICE-TCP delivers it,
/// and each datagram it yields into the transport's demultiplexing (`PacketClass`).
///
/// Input: chunks until the end, each a length byte and that many stream bytes.
/// Invariants: the framer yields exactly the datagrams a whole-stream reference parse finds,
/// in order, and holds exactly the bytes of the unfinished frame; framing each datagram again
/// and feeding it in one piece gives it back.
public enum RFC4571Harness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        var framer = RFC4571Framer()
        var stream: [UInt8] = []
        var frames: [[UInt8]] = []
        while !input.isAtEnd {
            let piece = input.take(Int(input.u8()))
            stream += piece
            for frame in framer.append(piece) {
                // What the transport does next with each datagram: classify it (RFC 7983).
                _ = PacketClass(frame[...])
                frames.append(frame)
            }
        }
        let (expected, consumed) = reference(stream)
        require(frames == expected, "framer found \(frames.count) datagrams, the reference \(expected.count)")
        require(framer.pendingCount == stream.count - consumed, "framer holds \(framer.pendingCount) bytes, expected \(stream.count - consumed)")
        var again = RFC4571Framer()
        let reframed = again.append(frames.flatMap { RFC4571Framer.frame($0) })
        require(reframed == frames && again.pendingCount == 0, "re-framed datagrams do not come back")
    }

    /// RFC 4571 §2 over the whole stream at once: 16-bit length, then that many bytes;
    /// zero-length frames carry nothing.
    private static func reference(_ stream: [UInt8]) -> (frames: [[UInt8]], consumed: Int) {
        var frames: [[UInt8]] = []
        var offset = 0
        while stream.count - offset >= 2 {
            let length = Int(stream[offset]) << 8 | Int(stream[offset + 1])
            guard stream.count - offset - 2 >= length else { break }
            if length > 0 { frames.append(Array(stream[(offset + 2)..<(offset + 2 + length)])) }
            offset += 2 + length
        }
        return (frames, offset)
    }
}
