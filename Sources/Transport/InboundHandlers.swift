import NIOCore

/// Hands each datagram to the transport, on the event loop; flushes once per read burst.
final class InboundDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let transport: WebRtcTransport

    init(transport: WebRtcTransport) { self.transport = transport }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        transport.receive(envelope.data, from: envelope.remoteAddress, over: .udp)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        transport.readComplete()
    }
}

/// Deframes RFC 4571 and hands each datagram to the transport, on the event loop.
final class InboundStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let transport: WebRtcTransport
    private let remote: SocketAddress
    private var pending: ByteBuffer?

    init(transport: WebRtcTransport, remote: SocketAddress) {
        self.transport = transport
        self.remote = remote
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var pending {
            pending.writeBuffer(&buffer)
            buffer = pending
            self.pending = nil
        }
        while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) {
            buffer.moveReaderIndex(forwardBy: 2)
            if let frame = buffer.readSlice(length: Int(length)), length > 0 {
                transport.receive(frame, from: remote, over: .tcp)
            }
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            pending = buffer
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        transport.readComplete()
    }
}
