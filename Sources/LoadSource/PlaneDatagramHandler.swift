import NIOCore

/// A transport's socket: hands every datagram to the engine of its loop.
final class PlaneDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let engine: NIOLoopBoundBox<PlaneEngine>
    private let transportId: String

    init(engine: NIOLoopBoundBox<PlaneEngine>, transportId: String) {
        self.engine = engine
        self.transportId = transportId
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        engine.value.receive(envelope.data, from: envelope.remoteAddress, transportId: transportId)
    }

    /// Socket errors (a refused send, ICMP port unreachable once a client is gone) are
    /// counted; the socket stays open, as a UDP server's does.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        engine.value.socketError()
    }
}
