import LoadSource
import Logging
import ORTC
import SocketIO
import XCTest

/// A client's whole conversation with the load source, frame by frame, on a media plane that
/// records the calls: what nacho sends (docs/PROTOCOL.md) and what it reads back.
final class LoadSourceSessionTests: XCTestCase {
    private let now = ContinuousClock.now
    private let logger = Logger(label: "test")

    private func session(_ media: RecordingMedia, sid: String = "S1", rooms: LoadRooms? = nil) -> LoadSourceSession {
        LoadSourceSession(core: SocketIOServerCore(engineSid: "E-" + sid, socketSid: sid, now: now),
                          rooms: rooms ?? LoadRooms(media: media, logger: logger), logger: logger)
    }

    /// The frames the session sends for one client frame.
    private func frames(_ session: inout LoadSourceSession, _ frame: String) async -> [String] {
        await session.receive(frame: frame, now: now).map { action in
            if case .send(let text) = action { return text }
            return "CLOSE \(action)"
        }
    }

    /// The one acknowledgement a request gets, its id checked, its argument as JSON.
    private func answer(_ session: inout LoadSourceSession, _ id: Int, _ event: String, _ payload: String,
                        line: UInt = #line) async throws -> JSONValue {
        let sent = await frames(&session, "42\(id)[\"\(event)\",\(payload)]")
        XCTAssertEqual(sent.count, 1, "\(sent)", line: line)
        let prefix = "43\(id)"
        let frame = try XCTUnwrap(sent.first, line: line)
        XCTAssertTrue(frame.hasPrefix(prefix), frame, line: line)
        let args = try JSONValue(parsing: frame.dropFirst(prefix.count)).arrayValue
        return try XCTUnwrap(args?.first, "an ack with one argument: \(frame)", line: line)
    }

    private static let dtls = #"{"role":"client","fingerprints":[{"algorithm":"sha-256","value":"01:02"}]}"#
    private static let capabilities = #"{"codecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"preferredPayloadType":100},{"kind":"video","mimeType":"video/VP8","clockRate":90000,"preferredPayloadType":101}],"headerExtensions":[]}"#

    func testASubscribersJoinConversation() async throws {
        let media = RecordingMedia()
        let rooms = LoadRooms(media: media, logger: logger)
        var client = session(media, rooms: rooms)
        let opening = await client.start()
        XCTAssertEqual(opening.count, 1)
        guard case .send(let open)? = opening.first else { return XCTFail("\(opening)") }
        XCTAssertTrue(open.hasPrefix(#"0{"maxPayload":1000000,"pingInterval":25000,"pingTimeout":20000,"sid":"E-S1""#), open)
        let connected = await frames(&client, "40")
        XCTAssertEqual(connected, [#"40{"sid":"S1"}"#])

        var ack = try await answer(&client, 0, "createRoom", #"{"room_id":"42"}"#)
        XCTAssertEqual(ack, "42")
        ack = try await answer(&client, 1, "createRoom", #"{"room_id":42}"#)
        XCTAssertEqual(ack, "already exists", "ids as numbers name the same room")

        ack = try await answer(&client, 2, "join", #"{"type":"consumer","room_id":"42","member_no":1000}"#)
        XCTAssertEqual(ack, ["room_id": "42", "peers": [["member_no": "1000", "type": "consumer"],
                                                        ["member_no": "1001", "type": "producer"],
                                                        ["member_no": "1002", "type": "producer"]]])

        ack = try await answer(&client, 3, "getRouterRtpCapabilities", "{}")
        XCTAssertEqual(try ack.decode(RtpCapabilities.self), media.routerRtpCapabilities)

        ack = try await answer(&client, 4, "createWebRtcTransport", #"{"producing":false,"consuming":true,"forceTcp":false}"#)
        let transport = try ack.decode(TransportOptions.self).validated()
        XCTAssertEqual(transport.id, "t1")

        ack = try await answer(&client, 5, "connectTransport", #"{"transport_id":"t1","dtlsParameters":\#(Self.dtls)}"#)
        XCTAssertEqual(ack, "success")

        // getProducers is fire and forget: the answer is a newProducers event.
        let announced = await frames(&client, #"42["getProducers",{}]"#)
        XCTAssertEqual(announced, [#"42["newProducers",[{"kind":"video","member_no":"1001","producer_id":"pv1"},{"kind":"audio","member_no":"1002","producer_id":"pa1"}]]"#])

        ack = try await answer(&client, 6, "consume", #"{"consumerTransportId":"t1","producerId":"pv1","rtpCapabilities":\#(Self.capabilities)}"#)
        let consumer = try ack.decode(ConsumerOptions.self)
        XCTAssertEqual(consumer.id, "c1")
        XCTAssertEqual(consumer.producerId, "pv1")
        XCTAssertEqual(consumer.kind, .video)

        var figures = await rooms.statistics()
        XCTAssertEqual(figures.consumersResumed, 0)
        ack = try await answer(&client, 7, "resume", #"{"consumer_id":"c1"}"#)
        XCTAssertEqual(ack, "success")
        figures = await rooms.statistics()
        XCTAssertEqual(figures.connections, 1)
        XCTAssertEqual(figures.members, 1)
        XCTAssertEqual(figures.joins, 1)
        XCTAssertEqual(figures.consumersResumed, 1)
        XCTAssertEqual(figures.refusals, 0)

        ack = try await answer(&client, 8, "exitRoom", "{}")
        XCTAssertEqual(ack, "successfully exited room")
        XCTAssertEqual(media.calls, [.createTransport("t1"), .connectTransport("t1", .client),
                                     .consume(transport: "t1", producer: "pv1", paused: true), .resume("c1"), .closeTransport("t1")])
        figures = await rooms.statistics()
        XCTAssertEqual(figures.members, 0)
        XCTAssertEqual(figures.consumersResumed, 0)
        XCTAssertEqual(figures.requests, 10, "nine acknowledged and getProducers")
    }

    func testADisconnectClosesTheClientsTransports() async throws {
        let media = RecordingMedia()
        let rooms = LoadRooms(media: media, logger: logger)
        var client = session(media, rooms: rooms)
        _ = await client.start()
        _ = await frames(&client, "40")
        _ = try await answer(&client, 0, "join", #"{"type":"consumer","room_id":"42","member_no":"1000"}"#)
        _ = try await answer(&client, 1, "createWebRtcTransport", #"{"producing":false,"consuming":true}"#)
        _ = try await answer(&client, 2, "createWebRtcTransport", #"{"producing":false,"consuming":true}"#)
        let leaving = await client.receive(frame: "41", now: now)
        XCTAssertEqual(leaving, [.close(reason: "the client left the namespace", protocolError: false)])
        await client.end()
        XCTAssertEqual(Set(media.calls.filter { if case .closeTransport = $0 { true } else { false } }),
                       [.closeTransport("t1"), .closeTransport("t2")])
        let figures = await rooms.statistics()
        XCTAssertEqual(figures.connections, 0)
        XCTAssertEqual(figures.members, 0)
    }

    /// Produce and every malformed or out-of-order request get `{"error": ...}` naming what is
    /// wrong; the session stays.
    func testRefusedRequestsAreAnsweredWithAnErrorObject() async throws {
        let media = RecordingMedia()
        let rooms = LoadRooms(media: media, logger: logger)
        var client = session(media, rooms: rooms)
        _ = await client.start()
        _ = await frames(&client, "40")
        let refusals: [(event: String, payload: String, mentions: String)] = [
            ("getRouterRtpCapabilities", "{}", "not joined"),
            ("createWebRtcTransport", "{}", "not joined"),
            ("join", #"{"type":"consumer","room_id":"42"}"#, "join needs member_no"),
            ("join", #"{"type":"consumer","room_id":"42","member_no":2.5}"#, "member_no is not a string or integer id"),
            ("join", #"{"type":"consumer","room_id":"","member_no":"1"}"#, "room_id is not a string or integer id"),
            ("join", #"{"type":"viewer","room_id":"42","member_no":"1"}"#, "type is consumer or producer"),
            ("join", #""42""#, "the payload is not an object"),
            ("createRoom", "{}", "createRoom needs room_id"),
            ("nonsense", "{}", "unknown request \"nonsense\""),
        ]
        var id = 0
        for (event, payload, mentions) in refusals {
            let ack = try await answer(&client, id, event, payload)
            id += 1
            let error = try XCTUnwrap(ack["error"]?.stringValue, "\(event) \(payload): \(ack)")
            XCTAssertTrue(error.contains(mentions), "\(event) \(payload): \(error)")
        }
        _ = try await answer(&client, id, "join", #"{"type":"consumer","room_id":"42","member_no":"1000"}"#)
        let joined: [(event: String, payload: String, mentions: String)] = [
            ("produce", #"{"producerTransportId":"t1","kind":"video","rtpParameters":{"codecs":[]}}"#, "only publishes its virtual members"),
            ("createWebRtcTransport", #"{"forceTcp":true}"#, "UDP candidates only"),
            ("connectTransport", #"{"transport_id":"nope","dtlsParameters":\#(Self.dtls)}"#, "transport not found"),
            ("consume", #"{"consumerTransportId":"nope","producerId":"pv1","rtpCapabilities":{}}"#, "transport not found"),
            ("resume", #"{"consumer_id":"nope"}"#, "consumer not found"),
        ]
        for (event, payload, mentions) in joined {
            id += 1
            let ack = try await answer(&client, id, event, payload)
            let error = try XCTUnwrap(ack["error"]?.stringValue, "\(event) \(payload): \(ack)")
            XCTAssertTrue(error.contains(mentions), "\(event) \(payload): \(error)")
        }
        id += 1
        _ = try await answer(&client, id, "createWebRtcTransport", "{}")
        let late: [(event: String, payload: String, mentions: String)] = [
            ("connectTransport", #"{"transport_id":"t1","dtlsParameters":{"role":"server","fingerprints":[{"algorithm":"sha-256","value":"01"}]}}"#,
             "must be client or auto"),
            ("connectTransport", #"{"transport_id":"t1","dtlsParameters":{"fingerprints":"none"}}"#, "dtlsParameters is not valid"),
            ("consume", #"{"consumerTransportId":"t1","producerId":"other","rtpCapabilities":{}}"#, "producer not found"),
            ("consume", #"{"consumerTransportId":"t1","producerId":"pv1","rtpCapabilities":{"codecs":[]}}"#, "no codec in common"),
        ]
        for (event, payload, mentions) in late {
            id += 1
            let ack = try await answer(&client, id, event, payload)
            let error = try XCTUnwrap(ack["error"]?.stringValue, "\(event) \(payload): \(ack)")
            XCTAssertTrue(error.contains(mentions), "\(event) \(payload): \(error)")
        }
        id += 1
        let ack = try await answer(&client, id, "connectTransport", #"{"transport_id":"t1","dtlsParameters":\#(Self.dtls)}"#)
        XCTAssertEqual(ack, "success", "refusals change nothing: the transport still connects")
        id += 1
        let again = try await answer(&client, id, "connectTransport", #"{"transport_id":"t1","dtlsParameters":\#(Self.dtls)}"#)
        XCTAssertEqual(again["error"]?.stringValue, "connectTransport: connect() already called")
        let figures = await rooms.statistics()
        XCTAssertEqual(figures.refusals, refusals.count + joined.count + late.count + 1)
    }

    /// Sessions see only their own transports and consumers; both members are peers.
    func testTwoSessionsInOneRoomKeepTheirTransportsApart() async throws {
        let media = RecordingMedia()
        let rooms = LoadRooms(media: media, logger: logger)
        var first = session(media, sid: "A", rooms: rooms)
        var second = session(media, sid: "B", rooms: rooms)
        _ = await first.start()
        _ = await second.start()
        _ = await frames(&first, "40")
        _ = await frames(&second, "40")
        _ = try await answer(&first, 0, "join", #"{"type":"consumer","room_id":"7","member_no":"1"}"#)
        let joined = try await answer(&second, 0, "join", #"{"type":"consumer","room_id":"7","member_no":"2"}"#)
        let peers = joined["peers"]?.arrayValue?.compactMap { $0["member_no"]?.stringValue } ?? []
        XCTAssertEqual(Set(peers), ["1", "2", "1001", "1002"])
        _ = try await answer(&first, 1, "createWebRtcTransport", "{}")
        let stolen = try await answer(&second, 1, "connectTransport", #"{"transport_id":"t1","dtlsParameters":\#(Self.dtls)}"#)
        XCTAssertEqual(stolen["error"]?.stringValue, "connectTransport: transport not found")
        await second.end()
        XCTAssertFalse(media.calls.contains(.closeTransport("t1")), "the other session's transport stays")
        await first.end()
        XCTAssertTrue(media.calls.contains(.closeTransport("t1")))
    }
}
