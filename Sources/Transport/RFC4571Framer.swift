import NIOCore

/// RTP/RTCP/STUN/DTLS over a TCP stream (RFC 4571 §2, as ICE-TCP uses it, RFC 6544): each
/// datagram is prefixed with its 16-bit length. Sans-IO: append what the stream delivers, get
/// whole datagrams back.
public struct RFC4571Framer: Sendable {
    /// The start of a datagram that has not fully arrived (at most 65,537 bytes).
    private var pending: ByteBuffer?

    public init() {}

    /// Hands each datagram that `bytes` completes to `body`, as a slice of the stream's own
    /// buffer (no copy); keeps the unfinished rest. Zero-length frames carry nothing and are
    /// skipped. The transport's TCP channel calls this for every read.
    public mutating func append(_ bytes: ByteBuffer, _ body: (ByteBuffer) -> Void) {
        var buffer = bytes
        if var pending {
            pending.writeBuffer(&buffer)
            buffer = pending
            self.pending = nil
        }
        while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) {
            buffer.moveReaderIndex(forwardBy: 2)
            if let frame = buffer.readSlice(length: Int(length)), length > 0 { body(frame) }
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            pending = buffer
        }
    }

    /// Datagrams completed by `bytes`, as arrays (tests and tools).
    public mutating func append<C: Collection>(_ bytes: C) -> [[UInt8]] where C.Element == UInt8 {
        var frames: [[UInt8]] = []
        append(ByteBuffer(bytes: bytes)) { frames.append(Array($0.readableBytesView)) }
        return frames
    }

    /// Bytes buffered but not yet a whole datagram.
    public var pendingCount: Int { pending?.readableBytes ?? 0 }

    /// The length-prefixed form of one datagram (at most 65535 bytes).
    public static func frame(_ datagram: [UInt8]) -> [UInt8] {
        precondition(datagram.count <= 0xFFFF, "RFC 4571 frames carry at most 65535 bytes")
        return [UInt8(datagram.count >> 8), UInt8(truncatingIfNeeded: datagram.count)] + datagram
    }
}
