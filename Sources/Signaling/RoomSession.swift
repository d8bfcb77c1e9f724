import Foundation
import Logging
import ORTC
import SocketIO

/// One Socket.IO connection to a room server (edge or origin) and the requests of
/// docs/PROTOCOL.md with typed payloads. It does not reconnect by itself: a dropped link ends
/// the session (`events` yields `.disconnected`) and the owner starts a new one (Participant's
/// `RoomSupervisor`).
public actor RoomSession {
    public enum Role: String, Sendable { case edge, origin }

    public struct Configuration: Sendable {
        public var url: URL
        public var role: Role
        public var auth: JSONValue?
        public var verifyTLS: Bool
        public var requestTimeout: Duration
        public var names: ProtocolNames
        /// Send `room_id` / `member_no` as JSON numbers (some servers compare numbers).
        public var numericIds: Bool

        public init(url: URL, role: Role, auth: JSONValue? = nil, verifyTLS: Bool = true,
                    requestTimeout: Duration = .seconds(10), names: ProtocolNames = .standard, numericIds: Bool = false) {
            self.url = url
            self.role = role
            self.auth = auth
            self.verifyTLS = verifyTLS
            self.requestTimeout = requestTimeout
            self.names = names
            self.numericIds = numericIds
        }
    }

    public nonisolated let events: AsyncStream<RoomEvent>
    private let eventSink: AsyncStream<RoomEvent>.Continuation
    public nonisolated let configuration: Configuration
    private let client: SocketIOClient
    private let logger: Logger
    private var forwarder: Task<Void, Never>?

    public init(configuration: Configuration, logger: Logger = Logger(label: "nacho.signaling")) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "server"] = "\(configuration.role.rawValue)"
        self.logger = logger
        self.client = SocketIOClient(
            options: .init(url: configuration.url, auth: configuration.auth, verifyTLS: configuration.verifyTLS,
                           connectTimeout: configuration.requestTimeout),
            logger: logger)
        // Never drop an announcement: a lost newProducers is a member never consumed, a lost
        // consumerClosed a ghost track. The stream stays small because its reader never waits
        // on the network while reading it, and the WebSocket layer bounds what one message holds.
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    private var step: String { "\(configuration.role.rawValue) " }

    /// Connects the Socket.IO namespace (step `connect`).
    public func connect() async throws {
        do {
            try await client.connect()
        } catch {
            throw RoomError.from(error, step: "\(step)connect")
        }
        let incoming = client.incoming
        let names = configuration.names
        let sink = eventSink
        let logger = logger
        let role = configuration.role.rawValue
        forwarder = Task {
            for await message in incoming {
                switch message {
                case .event(let wireName, let args):
                    let name = names.canonicalEvent(wireName)
                    let payload = names.incoming(args.first ?? .null)
                    switch name {
                    case "newProducers":
                        do {
                            sink.yield(.newProducers(try ProducerInfo.list(parsing: payload)))
                        } catch {
                            logger.warning("ignoring malformed newProducers: \(error)")
                        }
                    case "consumerClosed", "consumerPaused", "consumerResumed":
                        // mediasoup-demo style servers say consumerId; the room protocol consumer_id.
                        guard let id = (payload["consumer_id"] ?? payload["consumerId"]).flatMap(JoinAnswer.identifier) else {
                            logger.warning("ignoring \(name) without a consumer_id of at most \(IdentifierLimit.maxBytes) bytes")
                            continue
                        }
                        switch name {
                        case "consumerClosed": sink.yield(.consumerClosed(consumerId: id))
                        case "consumerPaused": sink.yield(.consumerPaused(consumerId: id))
                        default: sink.yield(.consumerResumed(consumerId: id))
                        }
                    default:
                        logger.debug("ignoring event \(wireName)")
                    }
                case .disconnected(let error):
                    sink.yield(.disconnected(RoomError.from(error, step: "\(role) session")))
                }
            }
            sink.finish()
        }
    }

    public func createRoom(roomId: String) async throws {
        _ = try await request("createRoom", ["room_id": id(roomId)])
    }

    /// `type` is `consumer` on the edge and `producer` on the origin unless configured otherwise.
    public func join(roomId: String, memberNo: String, type: String) async throws -> JoinAnswer {
        let answer = try await request("join", ["type": .string(type), "room_id": id(roomId), "member_no": id(memberNo)])
        return try decode("join") { try JoinAnswer(parsing: answer) }
    }

    public func routerRtpCapabilities() async throws -> RtpCapabilities {
        let answer = try await request("getRouterRtpCapabilities", [:])
        return try decode("getRouterRtpCapabilities") { try Validation.validate(answer.decode(RtpCapabilities.self)) }
    }

    public func createWebRtcTransport(producing: Bool, consuming: Bool, forceTcp: Bool = false) async throws -> TransportOptions {
        let answer = try await request("createWebRtcTransport",
                                       ["producing": .bool(producing), "consuming": .bool(consuming), "forceTcp": .bool(forceTcp)])
        return try decode("createWebRtcTransport") { try answer.decode(TransportOptions.self).validated() }
    }

    public func connectTransport(transportId: String, dtlsParameters: DtlsParameters) async throws {
        _ = try await request("connectTransport",
                              ["transport_id": .string(transportId), "dtlsParameters": try JSONValue(encoding: dtlsParameters)])
    }

    /// Returns the new producer's id.
    public func produce(transportId: String, kind: MediaKind, rtpParameters: RtpParameters,
                        appData: JSONValue = [:]) async throws -> String {
        let answer = try await request("produce", [
            "producerTransportId": .string(transportId), "kind": .string(kind.rawValue),
            "rtpParameters": try JSONValue(encoding: rtpParameters), "appData": appData,
        ])
        guard let id = (answer["producer_id"] ?? answer["id"]).flatMap(JoinAnswer.identifier) else {
            throw RoomError.protocolViolation(
                step: "\(step)produce", "answer without a producer_id of at most \(IdentifierLimit.maxBytes) bytes: \(answer.summary)")
        }
        return id
    }

    public func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities) async throws -> ConsumerOptions {
        let answer = try await request("consume", [
            "consumerTransportId": .string(transportId), "producerId": .string(producerId),
            "rtpCapabilities": try JSONValue(encoding: rtpCapabilities),
        ])
        return try decode("consume") { try answer.decode(ConsumerOptions.self) }
    }

    public func resume(consumerId: String) async throws {
        _ = try await request("resume", ["consumer_id": .string(consumerId)])
    }

    /// Fire-and-forget: the server answers with a `newProducers` event.
    public func requestProducers() async throws {
        try await emit("getProducers", [:])
    }

    /// Fire-and-forget: closes one of this client's producers.
    public func closeProducer(producerId: String) async throws {
        try await emit("producerClosed", ["producer_id": .string(producerId)])
    }

    public func exitRoom() async throws {
        _ = try await request("exitRoom", [:])
    }

    /// Closes the connection; pending requests fail.
    public func close() async {
        await client.close()
        forwarder?.cancel()
        eventSink.finish()
    }

    // MARK: - Plumbing

    private func id(_ value: String) -> JSONValue {
        if configuration.numericIds, let n = Int(value) { return .int(n) }
        return .string(value)
    }

    private func emit(_ event: String, _ payload: [String: JSONValue]) async throws {
        do {
            try await client.emit(configuration.names.wireEvent(event), [configuration.names.outgoing(payload)])
        } catch {
            throw RoomError.from(error, step: "\(step)\(event)")
        }
    }

    /// Runs one request: the answer is the first ack argument; `{error}` is a refusal, an
    /// empty ack a protocol violation.
    private func request(_ event: String, _ payload: [String: JSONValue]) async throws -> JSONValue {
        let stepName = "\(step)\(event)"
        let args: [JSONValue]
        do {
            args = try await client.request(configuration.names.wireEvent(event), [configuration.names.outgoing(payload)],
                                            timeout: configuration.requestTimeout)
        } catch {
            throw RoomError.from(error, step: stepName)
        }
        guard let first = args.first, first != .null else {
            throw RoomError.protocolViolation(step: stepName, "server answered with no value")
        }
        let answer = configuration.names.incoming(first)
        if case .object(let object) = answer, let error = object["error"] {
            throw RoomError.refused(step: stepName, ServerText.clipped(error.stringValue ?? error.summary))
        }
        logger.debug("answered", metadata: ["request": "\(event)"])
        return answer
    }

    private func decode<T>(_ event: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw RoomError.from(error, step: "\(step)\(event)")
        }
    }
}
