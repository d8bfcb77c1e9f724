import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import WebSocketKit

/// Opens a client WebSocket (an HTTP/1.1 upgrade, RFC 6455 §4.1, over TCP or TLS) with the
/// channel in hand from the first byte. websocket-kit's `WebSocket.connect` shows the channel
/// only once the upgrade is done and has no upgrade timeout, so a server that accepts TCP and
/// never answers held a connection, and the task waiting for it, forever; here the caller can
/// close the channel in any state.
enum WebSocketConnector {
    /// What one peer may make nacho hold in memory.
    struct Limits: Sendable {
        /// Largest single frame.
        var maxFrameSize: Int
        /// Largest message once its continuation frames are joined.
        var maxMessageSize: Int
        /// Most frames one message may be split into.
        var maxFragments: Int

        /// A room server's messages are JSON of a few KiB (router capabilities, the largest,
        /// are ~10 KiB; a producer list of a few hundred entries ~50 KiB): 1 MiB leaves wide
        /// headroom and bounds what a hostile server can make nacho buffer per message.
        static let socketIO = Limits(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, maxFragments: 256)
    }

    struct Connection: Sendable {
        /// The TCP channel, once connected: closing it ends the attempt whatever its state.
        var channel: EventLoopFuture<any Channel>
        /// Completes when the upgrade is done and `onUpgrade` has run.
        var upgraded: EventLoopFuture<WebSocket>
    }

    /// Starts connecting.
    /// - Parameters:
    ///   - onUpgrade: runs on the channel's event loop before any frame is read, to install
    ///     the WebSocket's callbacks.
    ///   - onError: errors of the upgraded link (a frame or message over `limits`, TLS or I/O
    ///     failures); the channel is closed after it.
    static func connect(host: String, port: Int, uri: String, tls: TLSConfiguration?, limits: Limits,
                        connectTimeout: TimeAmount, group: any EventLoopGroup,
                        onUpgrade: @escaping @Sendable (WebSocket) -> Void,
                        onError: @escaping @Sendable (any Error) -> Void) -> Connection {
        let eventLoop = group.next()
        let upgraded = eventLoop.makePromise(of: WebSocket.self)
        let hostHeader = (port == 80 && tls == nil) || (port == 443 && tls != nil) ? host : "\(host):\(port)"
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(try tlsHandler(tls, host: host)) }
                    let request = NIOLoopBound(UpgradeRequestHandler(host: hostHeader, uri: uri, upgraded: upgraded),
                                               eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: limits.maxFrameSize, automaticErrorHandling: true) { channel, _ in
                        var configuration = WebSocket.Configuration()
                        configuration.maxAccumulatedFrameSize = limits.maxMessageSize
                        configuration.maxAccumulatedFrameCount = limits.maxFragments
                        return WebSocket.client(on: channel, config: configuration) { webSocket in
                            // Last in the pipeline: what websocket-kit only answers with a close
                            // frame (then waits for the peer, maybe forever) ends the link here.
                            try? channel.pipeline.syncOperations.addHandler(LinkErrorHandler(onError: onError))
                            onUpgrade(webSocket)
                            upgraded.succeed(webSocket)
                        }
                    }
                    let upgrade: NIOHTTPClientUpgradeConfiguration = (upgraders: [upgrader], completionHandler: { _ in
                        channel.pipeline.syncOperations.removeHandler(request.value, promise: nil)
                    })
                    try pipeline.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes, withClientUpgrade: upgrade)
                    try pipeline.addHandler(request.value)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel = bootstrap.connect(host: host, port: port)
        channel.whenFailure { upgraded.fail($0) }
        return Connection(channel: channel, upgraded: upgraded.futureResult)
    }

    private static func tlsHandler(_ configuration: TLSConfiguration, host: String) throws -> NIOSSLClientHandler {
        let context = try NIOSSLContext(configuration: configuration)
        do {
            return try NIOSSLClientHandler(context: context, serverHostname: host)
        } catch let error as NIOSSLExtraError where error == .cannotUseIPAddressInSNI {
            return try NIOSSLClientHandler(context: context, serverHostname: nil)
        }
    }
}

/// The server answered the upgrade request with something else than a WebSocket.
struct WebSocketUpgradeError: Error, CustomStringConvertible {
    enum Reason: Sendable {
        case status(HTTPResponseStatus)
        case closedBeforeUpgrade
    }

    var reason: Reason

    var description: String {
        switch reason {
        case .status(let status): return "HTTP \(status.code) instead of a WebSocket upgrade (is this a Socket.IO server?)"
        case .closedBeforeUpgrade: return "the server closed the connection before the WebSocket upgrade"
        }
    }
}

/// Sends the upgrade request once the channel is active and reports what answers it when no
/// upgrade happens (NIOHTTPClientUpgradeHandler passes non-101 responses on to here).
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let uri: String
    private let upgraded: EventLoopPromise<WebSocket>
    private var sent = false

    init(host: String, uri: String, upgraded: EventLoopPromise<WebSocket>) {
        self.host = host
        self.uri = uri
        self.upgraded = upgraded
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            upgraded.fail(WebSocketUpgradeError(reason: .status(head.status)))
        case .body:
            break
        case .end:
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A no-op when the upgrade already succeeded or failed.
        upgraded.fail(WebSocketUpgradeError(reason: .closedBeforeUpgrade))
        context.fireChannelInactive()
    }
}

/// Reports an error of the upgraded link once and closes the channel.
private final class LinkErrorHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let onError: @Sendable (any Error) -> Void
    private var reported = false

    init(onError: @escaping @Sendable (any Error) -> Void) {
        self.onError = onError
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !reported {
            reported = true
            onError(error)
        }
        context.close(promise: nil)
    }
}

extension TimeAmount {
    /// A `Duration` in NIO's nanoseconds, saturating instead of overflowing.
    init(clamping duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = overflow ? .nanoseconds(seconds < 0 ? .min : .max) : .nanoseconds(nanoseconds &+ attoseconds / 1_000_000_000)
    }
}
