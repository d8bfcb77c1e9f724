import SocketIO

/// The server half of one Socket.IO v5 session over Engine.IO v4 on a WebSocket, without I/O:
/// feed it the client's text frames and the time, send what it returns. It answers the
/// namespace CONNECT, pings on the server's schedule (Engine.IO v4: the server pings, the
/// client pongs) and turns events into requests; the room logic lives elsewhere.
public struct SocketIOServerCore: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Engine.IO defaults: 25 s between pings, 20 s to answer one, 1 MB per packet.
        public var pingInterval: Duration = .seconds(25)
        public var pingTimeout: Duration = .seconds(20)
        public var maxPayload = 1_000_000

        public init(pingInterval: Duration = .seconds(25), pingTimeout: Duration = .seconds(20), maxPayload: Int = 1_000_000) {
            self.pingInterval = pingInterval
            self.pingTimeout = pingTimeout
            self.maxPayload = maxPayload
        }
    }

    public enum Output: Sendable, Equatable {
        /// A text frame for the client.
        case send(String)
        /// The client joined the namespace.
        case connected
        /// An event; with an ack id the client waits for an answer (`ackFrame`).
        case event(name: String, args: [JSONValue], ackId: Int?)
        /// The session is over: close the WebSocket. `protocolError` when the client broke the
        /// protocol (the reason says how), false when it left or stopped answering pings.
        case close(reason: String, protocolError: Bool)
    }

    public enum Phase: Sendable, Equatable {
        case awaitingConnect, connected, closed
    }

    public let settings: Settings
    /// The Engine.IO session id (the open packet's) and the namespace's socket id (CONNECT's).
    public let engineSid: String
    public let socketSid: String
    public private(set) var phase: Phase = .awaitingConnect
    /// When the next ping goes out, and when the one in flight was sent (nil: none unanswered).
    private var nextPing: ContinuousClock.Instant
    private var pingSent: ContinuousClock.Instant?

    public init(engineSid: String, socketSid: String, settings: Settings = Settings(), now: ContinuousClock.Instant) {
        self.engineSid = engineSid
        self.socketSid = socketSid
        self.settings = settings
        self.nextPing = now + settings.pingInterval
    }

    /// The Engine.IO open packet, the first frame of the session.
    public var openFrame: String {
        let handshake = EngineIOHandshake(sid: engineSid, upgrades: [], pingInterval: Self.milliseconds(settings.pingInterval),
                                          pingTimeout: Self.milliseconds(settings.pingTimeout), maxPayload: settings.maxPayload)
        // Encoding a struct of strings and integers cannot fail.
        let body = (try? JSONValue(encoding: handshake))?.jsonText ?? "{}"
        return EngineIOPacket(type: .open, payload: Substring(body)).serialize()
    }

    /// When `tick` has something to do next: the next ping, or the deadline of the one in flight.
    public var nextDeadline: ContinuousClock.Instant {
        pingSent.map { $0 + settings.pingTimeout } ?? nextPing
    }

    /// Sends the ping that is due; ends the session when the last one went unanswered.
    public mutating func tick(now: ContinuousClock.Instant) -> [Output] {
        guard phase != .closed else { return [] }
        if let pingSent {
            guard now >= pingSent + settings.pingTimeout else { return [] }
            return close("no pong within \(Self.milliseconds(settings.pingTimeout)) ms of a ping", protocolError: false)
        }
        guard now >= nextPing else { return [] }
        pingSent = now
        return [.send(EngineIOPacket(type: .ping).serialize())]
    }

    /// Handles one text frame from the client.
    public mutating func receive(frame: String, now: ContinuousClock.Instant) -> [Output] {
        guard phase != .closed else { return [] }
        let packet: EngineIOPacket
        do {
            packet = try EngineIOPacket(parsing: frame)
        } catch {
            return close(Self.text(of: error), protocolError: true)
        }
        switch packet.type {
        case .pong:
            // The pong ends the ping in flight; the next one goes out an interval later.
            if pingSent != nil {
                pingSent = nil
                nextPing = now + settings.pingInterval
            }
            return []
        case .ping:
            // Clients of v4 do not ping, but a probe ("2probe") is answered in kind.
            return [.send(EngineIOPacket(type: .pong, payload: packet.payload).serialize())]
        case .close:
            return close("the client closed the Engine.IO session", protocolError: false)
        case .noop, .upgrade:
            return []
        case .open:
            return close("an Engine.IO open packet from the client", protocolError: true)
        case .message:
            return receive(message: packet.payload)
        }
    }

    /// Binary frames carry binary attachments, which the room protocol never uses.
    public mutating func receiveBinaryFrame() -> [Output] {
        guard phase != .closed else { return [] }
        return close("a binary frame (binary attachments are not supported)", protocolError: true)
    }

    /// An acknowledgement frame for a request.
    public func ackFrame(id: Int, args: [JSONValue]) -> String {
        message(SocketIOPacket(type: .ack, ackId: id, data: .array(args)))
    }

    /// A server-initiated event frame.
    public func eventFrame(_ name: String, _ args: [JSONValue]) -> String {
        message(SocketIOPacket.event(name, args))
    }

    private mutating func receive(message text: Substring) -> [Output] {
        let packet: SocketIOPacket
        do {
            packet = try SocketIOPacket(parsing: text)
        } catch {
            return close(Self.text(of: error), protocolError: true)
        }
        switch packet.type {
        case .connect:
            guard packet.namespace == "/" else {
                // What Socket.IO servers answer for a namespace they do not serve; the session stays.
                let refusal = SocketIOPacket(type: .connectError, namespace: packet.namespace,
                                             data: .object(["message": "Invalid namespace"]))
                return [.send(message(refusal))]
            }
            guard phase == .awaitingConnect else {
                return close("a second CONNECT to the namespace", protocolError: true)
            }
            phase = .connected
            let answer = SocketIOPacket(type: .connect, data: .object(["sid": .string(socketSid)]))
            return [.send(message(answer)), .connected]
        case .disconnect:
            return close("the client left the namespace", protocolError: false)
        case .event:
            guard packet.namespace == "/" else { return [] }
            guard phase == .connected else {
                return close("an event before the namespace CONNECT", protocolError: true)
            }
            guard let content = packet.eventContent else { return [] }
            return [.event(name: content.name, args: content.args, ackId: packet.ackId)]
        case .ack:
            // The server asks nothing of its clients, so an ack answers nothing: ignored.
            return []
        case .connectError:
            return close("a CONNECT_ERROR packet from the client", protocolError: true)
        case .binaryEvent, .binaryAck:
            return close("a binary Socket.IO packet (binary attachments are not supported)", protocolError: true)
        }
    }

    private func message(_ packet: SocketIOPacket) -> String {
        EngineIOPacket(type: .message, payload: Substring(packet.serialize())).serialize()
    }

    private mutating func close(_ reason: String, protocolError: Bool) -> [Output] {
        phase = .closed
        return [.close(reason: reason, protocolError: protocolError)]
    }

    /// The parsers' errors say "malformed data from server"; here the client sent it.
    private static func text(of error: any Error) -> String {
        if case SocketIOError.malformedPacket(let why)? = error as? SocketIOError { return "malformed packet: \(why)" }
        return "malformed packet: \(error)"
    }

    /// Whole milliseconds, within 0 ... Int32.max (the handshake's fields are JavaScript numbers).
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return Int(min(max(value, 0), Double(Int32.max)))
    }
}
