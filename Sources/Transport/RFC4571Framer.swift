/// RTP/RTCP/STUN/DTLS over a TCP stream (RFC 4571 §2, as ICE-TCP uses it, RFC 6544): each
/// datagram is prefixed with its 16-bit length. Sans-IO: append what the stream delivers, get
/// whole datagrams back.
public struct RFC4571Framer: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Datagrams completed by `bytes`. Zero-length frames carry nothing and are skipped.
    public mutating func append<C: Collection>(_ bytes: C) -> [[UInt8]] where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        var frames: [[UInt8]] = []
        while buffer.count - start >= 2 {
            let length = Int(buffer[start]) << 8 | Int(buffer[start + 1])
            guard buffer.count - start - 2 >= length else { break }
            if length > 0 { frames.append(Array(buffer[(start + 2)..<(start + 2 + length)])) }
            start += 2 + length
        }
        // Compact once the consumed prefix is large, so the buffer does not grow forever.
        if start > 65536 || start == buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }

    /// Bytes buffered but not yet a whole datagram.
    public var pendingCount: Int { buffer.count - start }

    /// The length-prefixed form of one datagram (at most 65535 bytes).
    public static func frame(_ datagram: [UInt8]) -> [UInt8] {
        precondition(datagram.count <= 0xFFFF, "RFC 4571 frames carry at most 65535 bytes")
        return [UInt8(datagram.count >> 8), UInt8(truncatingIfNeeded: datagram.count)] + datagram
    }
}
