import Logging
import MediaFormat
import ORTC
import SocketIO

/// What a request leads to: events for the client that asked (sent first) and the answer its
/// acknowledgement carries (nil: the request has none, as `getProducers`).
public struct RoomOutcome: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        public var name: String
        public var args: [JSONValue]
    }

    public var events: [Event] = []
    public var answer: JSONValue?
}

/// The signaling side's own figures, printed next to the media plane's.
public struct LoadSourceSignalingStatistics: Sendable, Codable, Equatable {
    /// Socket.IO sessions open now.
    public var connections = 0
    /// Members in a room now, and `join` requests answered since the start.
    public var members = 0
    public var joins = 0
    /// Consumers resumed and still open (their transport not closed).
    public var consumersResumed = 0
    public var requests = 0
    /// Requests answered with `{"error": ...}`.
    public var refusals = 0
    /// Sessions closed because the client broke the Socket.IO protocol.
    public var protocolErrors = 0

    public init() {}
}

/// The room protocol (docs/PROTOCOL.md, as Tests/RoomServer speaks it) on a media plane whose
/// virtual members are in every room: members, their transports and consumers, per client
/// session. One server is edge and origin alike; clients only receive (produce is refused).
public actor LoadRooms {
    /// A client session (its Socket.IO socket id).
    public typealias Session = String

    private struct Member {
        var memberNo: String
        var type: String
        var roomId: String
    }

    private struct Transport {
        var session: Session
        var connected = false
    }

    private struct Consumer {
        var session: Session
        var transportId: String
        var resumed = false
    }

    private let media: any LoadRoomMedia
    private let logger: Logger
    private var rooms: Set<String> = []
    private var sessions: Set<Session> = []
    private var members: [Session: Member] = [:]
    private var transports: [String: Transport] = [:]
    private var consumers: [String: Consumer] = [:]
    private var counters = LoadSourceSignalingStatistics()

    public init(media: any LoadRoomMedia, logger: Logger) {
        self.media = media
        self.logger = logger
    }

    public func open(_ session: Session) {
        sessions.insert(session)
    }

    public func countProtocolError() {
        counters.protocolErrors += 1
    }

    /// The session ended (it left, disconnected or broke the protocol): its member leaves and
    /// its transports close with their consumers.
    public func close(_ session: Session) async {
        sessions.remove(session)
        await leave(session)
    }

    public func statistics() -> LoadSourceSignalingStatistics {
        var figures = counters
        figures.connections = sessions.count
        figures.members = members.count
        figures.consumersResumed = consumers.values.filter(\.resumed).count
        return figures
    }

    /// Runs one request; a refusal is an answer `{"error": ...}`, never a thrown error.
    public func handle(_ event: String, args: [JSONValue], from session: Session) async -> RoomOutcome {
        counters.requests += 1
        do {
            return try await run(event, RoomRequestPayload(event: event, args: args), session)
        } catch {
            counters.refusals += 1
            let message = (error as? RoomRequestError)?.message ?? "\(event) failed: \(error)"
            logger.debug("refused", metadata: ["request": "\(event)", "why": "\(message)"])
            return RoomOutcome(answer: .object(["error": .string(message)]))
        }
    }

    private func run(_ event: String, _ payload: RoomRequestPayload, _ session: Session) async throws -> RoomOutcome {
        switch event {
        case "createRoom":
            let roomId = try payload.identifier("room_id")
            return RoomOutcome(answer: .string(rooms.insert(roomId).inserted ? roomId : "already exists"))
        case "join":
            return RoomOutcome(answer: try join(payload, session))
        case "getRouterRtpCapabilities":
            _ = try member(session, payload.event)
            return RoomOutcome(answer: try JSONValue(encoding: media.routerRtpCapabilities))
        case "createWebRtcTransport":
            return RoomOutcome(answer: try await createTransport(payload, session))
        case "connectTransport":
            return RoomOutcome(answer: try await connectTransport(payload, session))
        case "consume":
            return RoomOutcome(answer: try await consume(payload, session))
        case "resume":
            return RoomOutcome(answer: try await resume(payload, session))
        case "getProducers":
            return RoomOutcome(events: [try producers(session)])
        case "exitRoom":
            await leave(session)
            return RoomOutcome(answer: "successfully exited room")
        case "produce":
            throw RoomRequestError("produce: this load source only publishes its virtual members; it takes no producers")
        case "producerClosed":
            // Fire and forget, and no client here has a producer to close.
            return RoomOutcome()
        default:
            throw RoomRequestError("unknown request \(String(event.prefix(64)).debugDescription)")
        }
    }

    private func join(_ payload: RoomRequestPayload, _ session: Session) throws -> JSONValue {
        let roomId = try payload.identifier("room_id")
        let memberNo = try payload.identifier("member_no")
        let type = try payload.string("type")
        guard type == "consumer" || type == "producer" else {
            throw RoomRequestError("join: type is consumer or producer, not \(String(type.prefix(64)).debugDescription)")
        }
        rooms.insert(roomId)
        members[session] = Member(memberNo: memberNo, type: type, roomId: roomId)
        counters.joins += 1
        var peers: [JSONValue] = members.values.filter { $0.roomId == roomId }
            .map { .object(["member_no": .string($0.memberNo), "type": .string($0.type)]) }
        var virtual: [String] = []
        for producer in media.producers where !virtual.contains(producer.memberNo) { virtual.append(producer.memberNo) }
        peers += virtual.map { .object(["member_no": .string($0), "type": "producer"]) }
        return .object(["room_id": .string(roomId), "peers": .array(peers)])
    }

    private func createTransport(_ payload: RoomRequestPayload, _ session: Session) async throws -> JSONValue {
        _ = try member(session, payload.event)
        guard !payload.bool("forceTcp") else {
            throw RoomRequestError("createWebRtcTransport: this load source has UDP candidates only (forceTcp)")
        }
        let options = try await media.createTransport()
        guard sessions.contains(session) else {
            // The session ended while the transport was made: nobody will use it.
            await media.closeTransport(id: options.id)
            throw RoomRequestError("createWebRtcTransport: the session ended")
        }
        transports[options.id] = Transport(session: session)
        return try JSONValue(encoding: options)
    }

    private func connectTransport(_ payload: RoomRequestPayload, _ session: Session) async throws -> JSONValue {
        let id = try payload.identifier("transport_id")
        guard let transport = transports[id], transport.session == session else {
            throw RoomRequestError("connectTransport: transport not found")
        }
        let dtls = try payload.decode("dtlsParameters", as: DtlsParameters.self)
        guard !dtls.fingerprints.isEmpty else { throw RoomRequestError("connectTransport: dtlsParameters without fingerprints") }
        guard dtls.role != .server else {
            throw RoomRequestError("connectTransport: this load source is the DTLS server; the client must be client or auto")
        }
        guard !transport.connected else { throw RoomRequestError("connectTransport: connect() already called") }
        transports[id]?.connected = true
        do {
            try await media.connectTransport(id: id, dtlsParameters: dtls)
        } catch {
            transports[id]?.connected = false
            throw error
        }
        return "success"
    }

    private func consume(_ payload: RoomRequestPayload, _ session: Session) async throws -> JSONValue {
        _ = try member(session, payload.event)
        let transportId = try payload.identifier("consumerTransportId")
        guard transports[transportId]?.session == session else { throw RoomRequestError("consume: transport not found") }
        let producerId = try payload.identifier("producerId")
        guard media.producers.contains(where: { $0.id == producerId }) else { throw RoomRequestError("consume: producer not found") }
        let capabilities = try payload.decode("rtpCapabilities", as: RtpCapabilities.self)
        // Paused until the client's `resume`, as the widely copied servers create consumers.
        let options = try await media.consume(transportId: transportId, producerId: producerId, rtpCapabilities: capabilities,
                                              paused: true)
        guard transports[transportId] != nil else {
            throw RoomRequestError("consume: the transport closed meanwhile")
        }
        consumers[options.id] = Consumer(session: session, transportId: transportId)
        return try JSONValue(encoding: options)
    }

    private func resume(_ payload: RoomRequestPayload, _ session: Session) async throws -> JSONValue {
        let id = try payload.identifier("consumer_id")
        guard consumers[id]?.session == session else { throw RoomRequestError("resume: consumer not found") }
        try await media.resume(consumerId: id)
        consumers[id]?.resumed = true
        return "success"
    }

    /// The `newProducers` event: every virtual producer, with its member and kind.
    private func producers(_ session: Session) throws -> RoomOutcome.Event {
        let member = try member(session, "getProducers")
        let list: [JSONValue] = media.producers.filter { $0.memberNo != member.memberNo }.map {
            .object(["producer_id": .string($0.id), "member_no": .string($0.memberNo), "kind": .string($0.kind.rawValue)])
        }
        return RoomOutcome.Event(name: "newProducers", args: [.array(list)])
    }

    private func leave(_ session: Session) async {
        members[session] = nil
        let closing = transports.filter { $0.value.session == session }.map(\.key)
        for id in closing {
            transports[id] = nil
            consumers = consumers.filter { $0.value.transportId != id }
        }
        for id in closing { await media.closeTransport(id: id) }
    }

    private func member(_ session: Session, _ event: String) throws -> Member {
        guard let member = members[session] else { throw RoomRequestError("\(event): not joined") }
        return member
    }
}
