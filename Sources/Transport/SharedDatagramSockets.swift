#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix

/// The UDP sockets the transports of one event loop share: each socket carries the transports
/// whose remote addresses it does not already know (`DatagramRoutes`), reads up to
/// `datagramsPerRead` datagrams a system call into a large receive buffer, and tells each
/// transport that got datagrams once at the end of a burst, then flushes everyone's sends at
/// once. A socket closes when its last transport leaves. On the loop only.
final class SharedDatagramSockets {
    struct Settings: Equatable {
        var bindHost: String
        var datagramsPerRead: Int
        var receiveBufferBytes: Int
        var transportsPerSocket: Int
    }

    private var sockets: [SharedDatagramSocket] = []
    private let eventLoop: any EventLoop

    private init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    private static let pools = LoopLocal<SharedDatagramSockets>()

    /// Puts a transport on a socket of its loop (binding a new one if none can carry it) and
    /// returns that socket; its `channel` completes when it is bound. On `loop`.
    static func attach(_ transport: WebRtcTransport, remotes: Set<SocketAddress>, settings: Settings,
                       on loop: any EventLoop, logger: Logger) -> SharedDatagramSocket {
        let pool = pools.value(on: loop) { SharedDatagramSockets(eventLoop: loop) }
        let choice = SocketChoice.index(among: pool.sockets.map { (group: $0.settings, routes: $0.routes, limit: $0.limit) },
                                        group: settings, addresses: remotes)
        let socket: SharedDatagramSocket
        if let choice {
            socket = pool.sockets[choice]
        } else {
            socket = SharedDatagramSocket(settings: settings, eventLoop: loop, logger: logger) { [weak pool] closed in
                pool?.remove(closed)
            }
            pool.sockets.append(socket)
        }
        // Cannot fail: the choice checked that no address is taken.
        _ = socket.routes.add(transport, addresses: remotes)
        return socket
    }

    private func remove(_ socket: SharedDatagramSocket) {
        sockets.removeAll { $0 === socket }
        if sockets.isEmpty { Self.pools.remove(on: eventLoop) }
    }
}

/// One shared UDP socket and the transports on it.
final class SharedDatagramSocket {
    let settings: SharedDatagramSockets.Settings
    var routes = DatagramRoutes<SocketAddress, WebRtcTransport>()
    /// Transports this socket may carry: the configured cap until it is bound, then no more
    /// than its receive buffer holds at a socket's worth each (`SocketChoice.limit`).
    private(set) var limit: Int
    /// Completes with the bound channel (or the bind error).
    let channel: EventLoopFuture<any Channel>
    private let onClosed: (SharedDatagramSocket) -> Void
    private var closed = false

    fileprivate init(settings: SharedDatagramSockets.Settings, eventLoop: any EventLoop, logger: Logger,
                     onClosed: @escaping (SharedDatagramSocket) -> Void) {
        self.settings = settings
        self.onClosed = onClosed
        limit = max(1, settings.transportsPerSocket)
        let promise = eventLoop.makePromise(of: (any Channel).self)
        channel = promise.futureResult
        let handler = NIOLoopBound(SharedDatagramHandler(), eventLoop: eventLoop)
        DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: settings.datagramsPerRead)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048 * settings.datagramsPerRead))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler.value)
                }
            }
            .bind(host: settings.bindHost, port: 0)
            .cascade(to: promise)
        handler.value.socket = self
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        // Registered first, so it runs before any waiting transport starts.
        channel.whenSuccess { channel in
            let socket = bound.value
            socket.limit = Self.enlargeReceiveBuffer(channel, settings: settings, logger: logger)
        }
        // A socket that cannot be bound is no socket: the next transport tries a new one.
        channel.whenFailure { _ in
            let socket = bound.value
            guard !socket.closed else { return }
            socket.closed = true
            socket.onClosed(socket)
        }
    }

    /// Whether a flush is queued for the end of the loop's current turn.
    private var flushQueued = false

    /// Flushes at the end of the loop's current turn: what the transports write outside a read
    /// burst (receiver reports and feedback from the loop's ticker, all due in the same turn)
    /// leaves in one sendmmsg instead of one system call per compound. On the loop.
    func flushSoon(on eventLoop: any EventLoop) {
        guard !flushQueued, !closed else { return }
        flushQueued = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute {
            let socket = bound.value
            socket.flushQueued = false
            socket.channel.whenSuccess { $0.flush() }
        }
    }

    /// Takes a transport off; the last one out closes the socket.
    func detach(_ transport: WebRtcTransport) {
        guard routes.remove(transport), routes.isEmpty, !closed else { return }
        closed = true
        onClosed(self)
        channel.whenSuccess { $0.close(promise: nil) }
    }

    /// Asks for the configured receive buffer, past the system's maximum when the process may
    /// (SO_RCVBUFFORCE needs CAP_NET_ADMIN), logs what the kernel granted (Linux reports twice
    /// the size asked: the other half is its bookkeeping) and returns how many transports the
    /// socket may carry.
    private static func enlargeReceiveBuffer(_ channel: any Channel, settings: SharedDatagramSockets.Settings, logger: Logger) -> Int {
        guard let options = channel.syncOptions else { return settings.transportsPerSocket }
        let alone = try? options.getOption(.socketOption(.so_rcvbuf))
        var forced = false
        // The kernel takes an int: a larger size would not fit.
        if settings.receiveBufferBytes > 0, settings.receiveBufferBytes <= Int(Int32.max) {
            let size = settings.receiveBufferBytes
            #if os(Linux)
            forced = (try? options.setOption(.socketOption(.init(rawValue: SO_RCVBUFFORCE)), value: size)) != nil
            #endif
            if !forced { try? options.setOption(.socketOption(.so_rcvbuf), value: size) }
        }
        let granted = try? options.getOption(.socketOption(.so_rcvbuf))
        let limit = SocketChoice.limit(cap: settings.transportsPerSocket, granted: granted, alone: alone)
        logger.info("shared UDP socket bound", metadata: [
            "local": "\(channel.localAddress.map { "\($0)" } ?? "?")", "receive buffer asked": "\(settings.receiveBufferBytes)",
            "granted": "\(granted.map { "\($0)" } ?? "?")", "alone": "\(alone.map { "\($0)" } ?? "?")", "forced": "\(forced)",
            "transports at most": "\(limit)",
        ])
        return limit
    }
}

/// Hands each datagram to the transport its source address names (others are dropped); at the
/// end of a read burst tells each transport that got datagrams, then flushes the socket once.
final class SharedDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    /// Set right after the bootstrap is made, before the channel can read. Strong (no weak
    /// load per datagram): the cycle through the channel ends when it closes and the pipeline
    /// lets go of its handlers.
    var socket: SharedDatagramSocket?
    /// Transports that got datagrams in this burst, each once.
    private var touched: [WebRtcTransport] = []

    init() { touched.reserveCapacity(64) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        // From an address no transport here has: nobody's (the core ignores media from
        // anywhere but the selected path anyway).
        guard let transport = socket?.routes.receiver(from: envelope.remoteAddress) else { return }
        if transport.receive(envelope.data, from: envelope.remoteAddress, over: .udp) { touched.append(transport) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for transport in touched { transport.readComplete(flushing: false) }
        touched.removeAll(keepingCapacity: true)
        context.flush()
    }
}
