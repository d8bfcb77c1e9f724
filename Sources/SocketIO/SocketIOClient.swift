import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket
import WebSocketKit

/// A Socket.IO v5 client over WebSocket (ws and wss) on websocket-kit: connects a namespace,
/// emits events, runs requests with acknowledgements and timeouts, answers Engine.IO pings and
/// detects a dead link. Protocol state lives in `SocketIOClientCore`; this actor is the wiring.
public actor SocketIOClient {
    public struct Options: Sendable {
        public var url: URL
        /// CONNECT payload, e.g. `{"token": "..."}`. Never logged.
        public var auth: JSONValue?
        /// Verify the server certificate on wss:// (on by default).
        public var verifyTLS: Bool
        public var connectTimeout: Duration
        public var namespace: String

        public init(url: URL, auth: JSONValue? = nil, verifyTLS: Bool = true,
                    connectTimeout: Duration = .seconds(10), namespace: String = "/") {
            self.url = url
            self.auth = auth
            self.verifyTLS = verifyTLS
            self.connectTimeout = connectTimeout
            self.namespace = namespace
        }
    }

    /// What the server sends outside of acknowledgements.
    public enum Incoming: Sendable {
        case event(name: String, args: [JSONValue])
        /// The link ended; the stream finishes after this.
        case disconnected(SocketIOError)
    }

    public nonisolated let incoming: AsyncStream<Incoming>
    private let incomingContinuation: AsyncStream<Incoming>.Continuation
    private let options: Options
    private let group: any EventLoopGroup
    private let logger: Logger
    private var core: SocketIOClientCore
    private var socket: WebSocket?
    private var channel: (any Channel)?
    private var failure: SocketIOError?
    private var connectWaiter: CheckedContinuation<Void, any Error>?
    private var pending: [Int: PendingRequest] = [:]
    private var tasks: [Task<Void, Never>] = []

    private struct PendingRequest {
        var continuation: CheckedContinuation<[JSONValue], any Error>
        var timeout: Task<Void, Never>
    }

    public init(options: Options, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "nacho.socketio")) {
        self.options = options
        self.group = eventLoopGroup
        self.logger = logger
        self.core = SocketIOClientCore(namespace: options.namespace, auth: options.auth,
                                       openTimeout: options.connectTimeout, now: .now)
        // Events are never dropped silently: a consumer 1024 events behind fails the link (see
        // `apply`); the newest-first policy keeps room for that last `.disconnected`.
        (incoming, incomingContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(Self.maxPendingEvents))
    }

    /// The Engine.IO WebSocket endpoint for a server URL: `/socket.io/` unless a path is given,
    /// `EIO=4&transport=websocket` added, http(s) mapped to ws(s).
    public static func engineURL(for url: URL) throws -> URL {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw SocketIOError.unreachable("invalid server URL \(Self.redacted(url))")
        }
        switch parts.scheme?.lowercased() {
        case "ws", "http": parts.scheme = "ws"
        case "wss", "https": parts.scheme = "wss"
        default:
            throw SocketIOError.unreachable("server URL must start with ws://, wss://, http:// or https://, got \(Self.redacted(url))")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw SocketIOError.unreachable("server URL has no host: \(Self.redacted(url))")
        }
        if parts.path.isEmpty || parts.path == "/" { parts.path = "/socket.io/" }
        var query = (parts.queryItems ?? []).filter { $0.name != "EIO" && $0.name != "transport" }
        query += [URLQueryItem(name: "EIO", value: "4"), URLQueryItem(name: "transport", value: "websocket")]
        parts.queryItems = query
        guard let result = parts.url else {
            throw SocketIOError.unreachable("invalid server URL \(Self.redacted(url))")
        }
        return result
    }

    /// Opens the WebSocket, completes the Engine.IO handshake and connects the namespace.
    public func connect() async throws {
        let url = try Self.engineURL(for: options.url)
        let scheme = url.scheme ?? "ws"
        var tls: TLSConfiguration?
        if scheme == "wss" {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if !options.verifyTLS { configuration.certificateVerification = .none }
            tls = configuration
        }
        let inbox = FrameInbox()
        core = SocketIOClientCore(namespace: options.namespace, auth: options.auth,
                                  openTimeout: options.connectTimeout, now: .now)
        logger.debug("connecting", metadata: ["url": "\(Self.redacted(url))"])
        // URL.path drops the trailing slash that Engine.IO servers route on: use the parts.
        let parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = parts?.percentEncodedPath ?? "/socket.io/"
        let connection = WebSocketConnector.connect(
            host: url.host ?? "127.0.0.1", port: url.port ?? (scheme == "wss" ? 443 : 80),
            uri: parts?.percentEncodedQuery.map { "\(path)?\($0)" } ?? path, tls: tls, limits: .socketIO,
            connectTimeout: TimeAmount(clamping: options.connectTimeout),
            group: group,
            onUpgrade: { ws in
                ws.onText { ws, text in
                    if !inbox.yield(.text(text)) { ws.close(code: .policyViolation, promise: nil) }
                }
                ws.onBinary { ws, _ in
                    if !inbox.yield(.binary) { ws.close(code: .policyViolation, promise: nil) }
                }
                ws.onClose.whenComplete { _ in
                    inbox.yield(.closed)
                    inbox.finish()
                }
            },
            onError: { error in inbox.yield(.failed(Self.describe(linkError: error))) })
        do {
            let upgraded = connection.upgraded
            socket = try await withDeadline(options.connectTimeout, what: "WebSocket connect") {
                try await upgraded.get()
            }
            channel = try await connection.channel.get()
        } catch {
            // Whatever state the attempt is in (TCP pending, upgrade unanswered, or upgraded
            // just too late), it ends here rather than holding a socket.
            connection.channel.whenSuccess { $0.close(promise: nil) }
            if let error = error as? SocketIOError { throw error }
            throw SocketIOError.unreachable(Self.describe(connectError: error, url: url))
        }

        tasks.append(Task { [weak self] in
            for await frame in inbox.frames {
                inbox.consumed(frame)
                guard let self else { return }
                await self.handle(frame)
            }
        })
        tasks.append(Task { [weak self] in
            while !Task.isCancelled {
                guard let (deadline, connected) = await self?.livenessWake() else { return }
                // Connected, the deadline only moves later (each frame heard pushes it), so one
                // wake-up at it suffices: a bot no longer wakes twice a second for nothing. Before
                // the handshake it can move earlier (a short ping interval), hence the 500 ms.
                try? await Task.sleep(until: connected ? deadline : min(deadline, .now + .milliseconds(500)), clock: .continuous)
                guard let self, await self.checkLiveness() else { return }
            }
        })

        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let failure {
                continuation.resume(throwing: failure)
            } else if core.phase == .connected {
                continuation.resume()
            } else {
                connectWaiter = continuation
            }
        }
        logger.debug("connected", metadata: ["sid": "\(core.sid ?? "")"])
    }

    /// Sends an event without asking for an acknowledgement.
    public func emit(_ event: String, _ args: [JSONValue]) throws {
        try ensureConnected()
        let (frame, _) = core.emit(event, args, expectsAck: false)
        logger.trace("emit", metadata: ["event": "\(event)"])
        socket?.send(frame, promise: nil)
    }

    /// Sends an event and waits for its acknowledgement's arguments.
    public func request(_ event: String, _ args: [JSONValue], timeout: Duration) async throws -> [JSONValue] {
        try ensureConnected()
        let (frame, ackId) = core.emit(event, args, expectsAck: true)
        guard let id = ackId else { throw SocketIOError.closed }
        logger.trace("request", metadata: ["event": "\(event)", "ack": "\(id)"])
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    await self?.resolve(id, with: .failure(SocketIOError.timeout(event: event, seconds: timeout.seconds)))
                }
                pending[id] = PendingRequest(continuation: continuation, timeout: timer)
                socket?.send(frame, promise: nil)
            }
        } onCancel: {
            Task { await self.resolve(id, with: .failure(CancellationError())) }
        }
    }

    /// Leaves the namespace and closes the socket. Pending requests fail with `.closed`.
    public func close() async {
        for frame in core.close() { socket?.send(frame, promise: nil) }
        failAll(.closed, announce: false)
        if let socket {
            // Sending the close frame waits for the socket to take it: a server that stops
            // reading must not hold us here.
            let sent = socket.eventLoop.makePromise(of: Void.self)
            socket.close(code: .normalClosure, promise: sent)
            let future = sent.futureResult
            _ = try? await withDeadline(.seconds(1), what: "WebSocket close") { try await future.get() }
        }
        closeChannel()
        socket = nil
    }

    /// Seconds the peer gets to answer our close frame before the TCP connection is closed
    /// anyway: a server that never answers must not keep the socket.
    static let closeGrace: TimeAmount = .seconds(1)

    /// Events a consumer may fall behind before the link fails.
    static let maxPendingEvents = 1024

    private func closeChannel() {
        guard let channel else { return }
        self.channel = nil
        channel.eventLoop.scheduleTask(in: Self.closeGrace) { channel.close(promise: nil) }
    }

    private func ensureConnected() throws {
        if let failure { throw failure }
        guard core.phase == .connected else { throw SocketIOError.closed }
    }

    private func handle(_ frame: FrameInbox.Frame) {
        let outputs: [SocketIOClientCore.Output]
        switch frame {
        case .text(let text):
            outputs = core.receive(frame: text, now: .now)
        case .binary:
            outputs = core.receiveBinaryFrame()
        case .failed(let error):
            outputs = [.failed(error)]
        case .closed:
            failAll(.disconnected("the server closed the WebSocket"), announce: true)
            return
        }
        for output in outputs { apply(output) }
    }

    private func livenessWake() -> (deadline: ContinuousClock.Instant, connected: Bool) {
        (core.livenessDeadline, core.phase == .connected)
    }

    private func checkLiveness() -> Bool {
        for output in core.tick(now: .now) { apply(output) }
        return core.phase != .closed
    }

    private func apply(_ output: SocketIOClientCore.Output) {
        switch output {
        case .send(let frame):
            socket?.send(frame, promise: nil)
        case .connected:
            connectWaiter?.resume()
            connectWaiter = nil
        case .event(let name, let args):
            logger.trace("event", metadata: ["event": "\(name)"])
            if case .dropped = incomingContinuation.yield(.event(name: name, args: args)) {
                apply(.failed(.malformedPacket("more than \(Self.maxPendingEvents) server events waiting to be handled")))
            }
        case .ack(let id, let args):
            resolve(id, with: .success(args))
        case .failed(let error):
            logger.debug("link failed", metadata: ["reason": "\(error)"])
            failAll(error, announce: true)
            if let socket { _ = socket.close(code: .protocolError) }
            closeChannel()
        }
    }

    private func resolve(_ id: Int, with result: Result<[JSONValue], any Error>) {
        guard let request = pending.removeValue(forKey: id) else { return }
        request.timeout.cancel()
        request.continuation.resume(with: result)
    }

    private func failAll(_ error: SocketIOError, announce: Bool) {
        guard failure == nil else { return }
        failure = error
        connectWaiter?.resume(throwing: error)
        connectWaiter = nil
        for (_, request) in pending {
            request.timeout.cancel()
            request.continuation.resume(throwing: error)
        }
        pending.removeAll()
        if announce { incomingContinuation.yield(.disconnected(error)) }
        incomingContinuation.finish()
        for task in tasks { task.cancel() }
    }
}
