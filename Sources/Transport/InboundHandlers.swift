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
    private var framer = RFC4571Framer()

    init(transport: WebRtcTransport, remote: SocketAddress) {
        self.transport = transport
        self.remote = remote
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data)) { transport.receive($0, from: remote, over: .tcp) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        transport.readComplete()
    }
}
