import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
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

    private enum Frame: Sendable {
        case text(String)
        case binary
        case closed
    }

    public nonisolated let incoming: AsyncStream<Incoming>
    private let incomingContinuation: AsyncStream<Incoming>.Continuation
    private let options: Options
    private let group: any EventLoopGroup
    private let logger: Logger
    private var core: SocketIOClientCore
    private var socket: WebSocket?
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
        (incoming, incomingContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024))
    }

    /// The Engine.IO WebSocket endpoint for a server URL: `/socket.io/` unless a path is given,
    /// `EIO=4&transport=websocket` added, http(s) mapped to ws(s).
    public static func engineURL(for url: URL) throws -> URL {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw SocketIOError.unreachable("invalid server URL \(url.absoluteString)")
        }
        switch parts.scheme?.lowercased() {
        case "ws", "http": parts.scheme = "ws"
        case "wss", "https": parts.scheme = "wss"
        default:
            throw SocketIOError.unreachable("server URL must start with ws://, wss://, http:// or https://, got \(url.absoluteString)")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw SocketIOError.unreachable("server URL has no host: \(url.absoluteString)")
        }
        if parts.path.isEmpty || parts.path == "/" { parts.path = "/socket.io/" }
        var query = (parts.queryItems ?? []).filter { $0.name != "EIO" && $0.name != "transport" }
        query += [URLQueryItem(name: "EIO", value: "4"), URLQueryItem(name: "transport", value: "websocket")]
        parts.queryItems = query
        guard let result = parts.url else {
            throw SocketIOError.unreachable("invalid server URL \(url.absoluteString)")
        }
        return result
    }

    /// Opens the WebSocket, completes the Engine.IO handshake and connects the namespace.
    public func connect() async throws {
        let url = try Self.engineURL(for: options.url)
        var configuration = WebSocketClient.Configuration(maxFrameSize: 1 << 24)
        if url.scheme == "wss" {
            var tls = TLSConfiguration.makeClientConfiguration()
            if !options.verifyTLS { tls.certificateVerification = .none }
            configuration.tlsConfiguration = tls
        }
        let (frames, frameSink) = AsyncStream.makeStream(of: Frame.self, bufferingPolicy: .unbounded)
        let upgraded = group.next().makePromise(of: WebSocket.self)
        core = SocketIOClientCore(namespace: options.namespace, auth: options.auth,
                                  openTimeout: options.connectTimeout, now: .now)
        logger.debug("connecting", metadata: ["url": "\(Self.redacted(url))"])
        // URL.path drops the trailing slash that Engine.IO servers route on: pass the parts.
        let parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let scheme = url.scheme ?? "ws"
        let connecting = WebSocket.connect(
            scheme: scheme, host: url.host ?? "127.0.0.1", port: url.port ?? (scheme == "wss" ? 443 : 80),
            path: parts?.percentEncodedPath ?? "/socket.io/", query: parts?.percentEncodedQuery,
            configuration: configuration, on: group
        ) { ws in
            ws.onText { _, text in frameSink.yield(.text(text)) }
            ws.onBinary { _, _ in frameSink.yield(.binary) }
            ws.onClose.whenComplete { _ in
                frameSink.yield(.closed)
                frameSink.finish()
            }
            upgraded.succeed(ws)
        }
        connecting.whenFailure { upgraded.fail($0) }
        do {
            socket = try await withDeadline(options.connectTimeout, what: "WebSocket connect") {
                try await connecting.get()
                return try await upgraded.futureResult.get()
            }
        } catch let error as SocketIOError {
            throw error
        } catch {
            throw SocketIOError.unreachable(Self.describe(connectError: error, url: url))
        }

        tasks.append(Task { [weak self] in
            for await frame in frames {
                guard let self else { return }
                await self.handle(frame)
            }
        })
        tasks.append(Task { [weak self] in
            while !Task.isCancelled {
                guard let deadline = await self?.core.livenessDeadline else { return }
                try? await Task.sleep(until: min(deadline, .now + .milliseconds(500)), clock: .continuous)
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
        if let socket { try? await socket.close(code: .normalClosure) }
        socket = nil
    }

    private func ensureConnected() throws {
        if let failure { throw failure }
        guard core.phase == .connected else { throw SocketIOError.closed }
    }

    private func handle(_ frame: Frame) {
        let outputs: [SocketIOClientCore.Output]
        switch frame {
        case .text(let text):
            outputs = core.receive(frame: text, now: .now)
        case .binary:
            outputs = core.receiveBinaryFrame()
        case .closed:
            failAll(.disconnected("the server closed the WebSocket"), announce: true)
            return
        }
        for output in outputs { apply(output) }
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
            incomingContinuation.yield(.event(name: name, args: args))
        case .ack(let id, let args):
            resolve(id, with: .success(args))
        case .failed(let error):
            logger.debug("link failed", metadata: ["reason": "\(error)"])
            failAll(error, announce: true)
            if let socket { _ = socket.close(code: .protocolError) }
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

    static func redacted(_ url: URL) -> String {
        // Query strings of deployments sometimes carry tokens: log scheme, host, port and path only.
        var parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
        parts?.query = nil
        parts?.user = nil
        parts?.password = nil
        return parts?.string ?? "(url)"
    }

    static func describe(connectError error: any Error, url: URL) -> String {
        let target = "\(url.host ?? "?"):\(url.port.map(String.init) ?? (url.scheme == "wss" ? "443" : "80"))"
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return "\(target): \(describe(first.error))" }
            return "\(target): \(error.dnsAError.map(describe) ?? error.dnsAAAAError.map(describe) ?? "connection failed")"
        case let error as WebSocketClient.Error:
            if case .invalidResponseStatus(let head) = error {
                return "\(target): HTTP \(head.status.code) instead of a WebSocket upgrade (is this a Socket.IO server?)"
            }
            return "\(target): \(error)"
        case let error as NIOSSLError:
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "\(target): TLS certificate verification failed (untrusted or self-signed certificate, or a name mismatch); --insecure skips it, for test servers only"
            }
            // BoringSSL's text carries build paths: keep the first reason only.
            let reason = "\(error)".split(separator: ":").dropFirst(4).first.map(String.init) ?? "handshake failed"
            return "\(target): TLS failed (\(reason))"
        case let error as BoringSSLError:
            return "\(target): TLS verification failed (\(error)); use --insecure only for test servers"
        default:
            return "\(target): \(describe(error))"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return Self.strerror(io.errnoCode) }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connect timed out" }
        return "\(error)"
    }

    private static func strerror(_ code: CInt) -> String {
        String(cString: Foundation.strerror(code)).lowercased()
    }
}

/// Runs `body`, failing with a timeout error naming `what` after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, what: String,
                               _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw SocketIOError.timeout(event: what, seconds: limit.seconds)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw SocketIOError.closed }
        return first
    }
}
