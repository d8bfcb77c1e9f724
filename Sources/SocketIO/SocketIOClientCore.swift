/// The Socket.IO v5 client protocol without I/O: feed it received WebSocket frames and the
/// current time, send what it returns. The socket, clock and timers live outside, so the
/// protocol is tested without a network (see `SocketIOClient` for the wiring).
public struct SocketIOClientCore: Sendable {
    public enum Output: Sendable, Equatable {
        /// A text frame to send to the server.
        case send(String)
        /// The namespace is connected; requests may flow.
        case connected(sid: String)
        case event(name: String, args: [JSONValue])
        case ack(id: Int, args: [JSONValue])
        /// The link is over; nothing more will be produced.
        case failed(SocketIOError)
    }

    public enum Phase: Sendable, Equatable {
        case awaitingOpen, awaitingConnect, connected, closed
    }

    public private(set) var phase: Phase = .awaitingOpen
    public private(set) var handshake: EngineIOHandshake?
    public let namespace: String
    private let auth: JSONValue?
    private var nextAckId = 0
    private var lastHeard: ContinuousClock.Instant
    private let openTimeout: Duration

    /// - Parameters:
    ///   - auth: the CONNECT payload (`{"token": ...}`), or nil for none.
    ///   - openTimeout: how long to wait for the open packet and the namespace connect.
    public init(namespace: String = "/", auth: JSONValue? = nil, openTimeout: Duration = .seconds(10),
                now: ContinuousClock.Instant) {
        self.namespace = namespace
        self.auth = auth
        self.openTimeout = openTimeout
        self.lastHeard = now
    }

    /// When the link must be declared dead if nothing arrives: the open/connect timeout at
    /// first, then the server's ping interval plus its ping timeout after each ping.
    public var livenessDeadline: ContinuousClock.Instant {
        guard let handshake, phase == .connected else { return lastHeard + openTimeout }
        // Parsed handshakes are within `pingRange`; clamp for hand-built ones.
        let range = EngineIOHandshake.pingRange
        let grace = handshake.pingInterval.clamped(to: range) + handshake.pingTimeout.clamped(to: range)
        return lastHeard + .milliseconds(grace)
    }

    /// Checks the liveness deadline; past it, the link fails.
    public mutating func tick(now: ContinuousClock.Instant) -> [Output] {
        guard phase != .closed, now >= livenessDeadline else { return [] }
        let error: SocketIOError = phase == .connected
            ? .heartbeatTimeout
            : .timeout(event: "the Socket.IO handshake", seconds: openTimeout.seconds)
        return fail(error)
    }

    /// The session id the server gave the namespace connection.
    public private(set) var sid: String?

    /// Handles one text frame from the server.
    public mutating func receive(frame: String, now: ContinuousClock.Instant) -> [Output] {
        guard phase != .closed else { return [] }
        let packet: EngineIOPacket
        do {
            packet = try EngineIOPacket(parsing: frame)
        } catch let error as SocketIOError {
            return fail(error)
        } catch {
            return fail(.malformedPacket("\(error)"))
        }
        switch (packet.type, phase) {
        case (.open, .awaitingOpen):
            do {
                handshake = try EngineIOHandshake(parsing: packet.payload)
            } catch let error as SocketIOError {
                return fail(error)
            } catch {
                return fail(.malformedPacket("\(error)"))
            }
            phase = .awaitingConnect
            lastHeard = now
            let connect = SocketIOPacket(type: .connect, namespace: namespace, data: auth)
            return [.send(EngineIOPacket(type: .message, payload: Substring(connect.serialize())).serialize())]
        case (.open, _):
            return fail(.malformedPacket("unexpected second Engine.IO open packet"))
        case (_, .awaitingOpen):
            return fail(.malformedPacket("expected the Engine.IO open packet first, got \(SocketIOPacket.clip(Substring(frame)))"))
        case (.ping, _):
            lastHeard = now
            return [.send(EngineIOPacket(type: .pong, payload: packet.payload).serialize())]
        case (.close, _):
            return fail(.disconnected("server closed the Engine.IO session"))
        case (.pong, _), (.noop, _), (.upgrade, _):
            return []
        case (.message, _):
            return receive(message: packet.payload)
        }
    }

    /// Binary frames carry attachments of binary events, which no room server uses.
    public mutating func receiveBinaryFrame() -> [Output] {
        guard phase != .closed else { return [] }
        return fail(.malformedPacket("unexpected binary frame (binary attachments are not supported)"))
    }

    private mutating func receive(message: Substring) -> [Output] {
        let packet: SocketIOPacket
        do {
            packet = try SocketIOPacket(parsing: message)
        } catch let error as SocketIOError {
            return fail(error)
        } catch {
            return fail(.malformedPacket("\(error)"))
        }
        guard packet.namespace == namespace else { return [] }
        switch packet.type {
        case .connect:
            guard phase == .awaitingConnect else { return [] }
            guard let sid = packet.data?["sid"]?.stringValue else {
                return fail(.malformedPacket("namespace connect answer without sid"))
            }
            self.sid = sid
            phase = .connected
            return [.connected(sid: sid)]
        case .connectError:
            let message = packet.data?["message"]?.stringValue ?? packet.data?.summary ?? "no reason given"
            return fail(.connectRefused(message))
        case .disconnect:
            return fail(.disconnected("server disconnected the client"))
        case .event:
            guard phase == .connected, let content = packet.eventContent else { return [] }
            return [.event(name: content.name, args: content.args)]
        case .ack:
            guard phase == .connected, let id = packet.ackId, case .array(let args)? = packet.data else { return [] }
            return [.ack(id: id, args: args)]
        case .binaryEvent, .binaryAck:
            return fail(.malformedPacket("binary Socket.IO packets are not supported"))
        }
    }

    /// Builds the frame for an event; with `expectsAck` it carries a fresh ack id.
    /// Only valid once connected.
    public mutating func emit(_ name: String, _ args: [JSONValue], expectsAck: Bool) -> (frame: String, ackId: Int?) {
        var ackId: Int?
        if expectsAck {
            ackId = nextAckId
            nextAckId += 1
        }
        let packet = SocketIOPacket.event(name, args, ackId: ackId, namespace: namespace)
        return (EngineIOPacket(type: .message, payload: Substring(packet.serialize())).serialize(), ackId)
    }

    /// Leaves the namespace and closes the Engine.IO session (frames to send, in order).
    public mutating func close() -> [String] {
        defer { phase = .closed }
        guard phase == .connected else { return [] }
        let disconnect = SocketIOPacket(type: .disconnect, namespace: namespace)
        return [EngineIOPacket(type: .message, payload: Substring(disconnect.serialize())).serialize()]
    }

    private mutating func fail(_ error: SocketIOError) -> [Output] {
        phase = .closed
        return [.failed(error)]
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
