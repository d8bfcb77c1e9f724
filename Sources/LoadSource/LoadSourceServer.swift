import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// Everything the load source counts: the signaling's figures and the media plane's.
public struct LoadSourceReport: Sendable, Codable, Equatable {
    public var signaling: LoadSourceSignalingStatistics
    public var media: LoadSourceStatistics
}

/// A Socket.IO room server (WebSocket transport only, Engine.IO v4) for nacho's load tests:
/// `ws://HOST:PORT/socket.io/?EIO=4&transport=websocket`, one URL for edge and origin. Each
/// WebSocket gets a `LoadSourceSession`; the rooms map requests onto the media plane.
public final class LoadSourceServer: Sendable {
    public let port: Int
    public let host: String
    public let rooms: LoadRooms
    private let media: any LoadRoomMedia
    private let listener: any Channel
    /// Open client connections, closed at shutdown.
    private let connections: ConnectionTable

    /// Binds at once (port 0: a free one); refuses non-loopback addresses.
    public init(media: any LoadRoomMedia, group: any EventLoopGroup, host: String = "127.0.0.1", port: Int = 0,
                settings: SocketIOServerCore.Settings = .init(), logger: Logger) async throws {
        let rooms = LoadRooms(media: media, logger: logger)
        let connections = ConnectionTable()
        listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let key = ObjectIdentifier(channel)
                connections.channels.withLock { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in _ = connections.channels.withLock { $0.removeValue(forKey: key) } }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, rooms: rooms, settings: settings, logger: logger)
                }
            }
            .bind(host: host, port: port).get()
        self.port = listener.localAddress?.port ?? port
        self.host = host
        self.rooms = rooms
        self.media = media
        self.connections = connections
    }

    /// The URL clients connect to (nacho adds the Socket.IO path).
    public var url: String { "ws://\(host):\(port)" }

    public func statistics() async -> LoadSourceReport {
        LoadSourceReport(signaling: await rooms.statistics(), media: await media.statistics())
    }

    /// Stops listening and closes every client connection (their sessions end, their
    /// transports close). The media plane is the caller's to shut down.
    public func shutdown() async {
        try? await listener.close()
        let open = connections.channels.withLock { Array($0.values) }
        for channel in open { try? await channel.close() }
    }

    private static func configure(_ channel: any Channel, rooms: LoadRooms, settings: SocketIOServerCore.Settings,
                                  logger: Logger) throws {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: settings.maxPayload,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(SocketIOPath.refusal(uri: head.uri) == nil ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let (inputs, inbox) = AsyncStream.makeStream(of: SessionInput.self)
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                                                    maxAccumulatedFrameSize: settings.maxPayload),
                        SessionFrameHandler(inbox: inbox),
                    ])
                    let session = LoadSourceSession(
                        core: SocketIOServerCore(engineSid: SessionID.make(), socketSid: SessionID.make(), settings: settings,
                                                 now: .now),
                        rooms: rooms, logger: logger)
                    Self.run(session, inputs: inputs, inbox: inbox, channel: channel)
                }
            })
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.removeHandler(name: RefusalHandler.name, promise: nil)
            }))
        try channel.pipeline.syncOperations.addHandler(RefusalHandler(), name: RefusalHandler.name)
    }

    /// The session's loop: its inputs one at a time, its actions written in order; a timer
    /// wakes it for the server's pings.
    private static func run(_ start: LoadSourceSession, inputs: AsyncStream<SessionInput>,
                            inbox: AsyncStream<SessionInput>.Continuation, channel: any Channel) {
        let period = tickPeriod(start.core.settings)
        let ticker = channel.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in inbox.yield(.tick) }
        Task {
            var session = start
            var open = write(await session.start(), to: channel)
            for await input in inputs where open {
                switch input {
                case .text(let frame): open = write(await session.receive(frame: frame, now: .now), to: channel)
                case .binary: open = write(await session.receiveBinaryFrame(), to: channel)
                case .tick: open = write(await session.tick(now: .now), to: channel)
                }
            }
            ticker.cancel()
            await session.end()
        }
    }

    /// Writes the actions; false once the connection is being closed.
    private static func write(_ actions: [LoadSourceSession.Action], to channel: any Channel) -> Bool {
        for action in actions {
            switch action {
            case .send(let text):
                channel.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)), promise: nil)
            case .close(let reason, let protocolError):
                var data = ByteBuffer()
                data.write(webSocketErrorCode: protocolError ? .protocolError : .normalClosure)
                // A close frame's reason fits in 123 bytes (RFC 6455 5.5: 125 with the code).
                data.writeString(String(decoding: Array(reason.utf8.prefix(123)), as: UTF8.self))
                channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return false
            }
        }
        channel.flush()
        return true
    }

    /// How often a session looks at its ping schedule: a quarter of the shorter of interval
    /// and timeout, at most a second (a ping goes out at most that late).
    static func tickPeriod(_ settings: SocketIOServerCore.Settings) -> TimeAmount {
        let shorter = min(settings.pingInterval, settings.pingTimeout) / 4
        let milliseconds = SocketIOServerCore.milliseconds(min(max(shorter, .milliseconds(5)), .seconds(1)))
        return .milliseconds(Int64(milliseconds))
    }
}

/// The server's open connections.
final class ConnectionTable: Sendable {
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
}

/// What a session's loop takes in.
enum SessionInput: Sendable {
    case text(String)
    case binary
    case tick
}

/// Random ids for Engine.IO and Socket.IO sessions (20 URL-safe characters, as Socket.IO's).
enum SessionID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }
}

/// The Socket.IO endpoint's URL rules: path `/socket.io/`, Engine.IO 4, WebSocket transport.
enum SocketIOPath {
    /// Why a request URI is refused, or nil when it is the endpoint.
    static func refusal(uri: String) -> String? {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        guard path == "/socket.io/" || path == "/socket.io" else {
            return "no Socket.IO endpoint at \(String(path.prefix(80))): use /socket.io/?EIO=4&transport=websocket"
        }
        var query: [Substring: Substring] = [:]
        for item in (parts.count > 1 ? parts[1] : "").split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            query[pair[0]] = pair.count > 1 ? pair[1] : ""
        }
        guard query["EIO"] == "4" else { return "this server speaks Engine.IO 4 only (EIO=4)" }
        guard query["transport"] == "websocket" else { return "this server speaks the websocket transport only (transport=websocket)" }
        return nil
    }
}

/// Moves WebSocket frames into the session's inbox; answers WebSocket pings and close frames.
private final class SessionFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let inbox: AsyncStream<SessionInput>.Continuation

    init(inbox: AsyncStream<SessionInput>.Continuation) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            inbox.yield(.text(String(buffer: frame.unmaskedData)))
        case .binary:
            inbox.yield(.binary)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            // Echo the close and end the connection (RFC 6455 5.5.1).
            let context = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.value.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)))
                .whenComplete { _ in context.value.close(promise: nil) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Oversized or malformed WebSocket frames: nothing to do but close.
        context.close(promise: nil)
    }
}

/// Answers plain HTTP requests (anything that is not the WebSocket upgrade) with 400 and why.
private final class RefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "load-source-refusal"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let reason = SocketIOPath.refusal(uri: request.uri) ?? "expected a WebSocket upgrade (transport=websocket)"
        let body = ByteBuffer(string: reason + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .badRequest, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
