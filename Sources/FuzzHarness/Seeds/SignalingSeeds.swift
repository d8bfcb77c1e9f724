extension SocketIOHarness {
    /// Scripts around the room protocol as the test server speaks it: acks and events from
    /// the captured transcript, pings, ticks, emits, errors and closes.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        // One captured answer or event per script: each run stays small (JSON decoding is
        // most of its cost), and mutations of one frame are as good as of all of them.
        let acks = fixtures.transcript("ack").enumerated().map { ["43\($0.offset)[\($0.element.json)]"] }
        let events = fixtures.transcript("out").map { #"42["\#($0.event)",\#($0.json)]"# }
        let scripts: [[String]] = acks + [
            events + ["2", "~25000", "2", "~44999", "~1"],
            ["2probe", "3", "6", "5", "~e"] + events + ["~e", "~e", "~c", "2"],
            [#"42["newProducers",[{"producer_id":"p","kind":"video"}]]"#, "~e", #"43/room,7["x"]"#, "41", "2"],
            [#"44{"message":"Not authorized"}"#],
            [#"44"refused""#, "2"],
            ["1"],
            ["~b", "2"],
            [#"451-["x",{"_placeholder":true,"num":0}]"#],
            // The client's own open packet: the script starts unconnected.
            [handshake, "~9999", "~1"],
            [handshake, connect, connect, handshake],
            [#"0{"sid":"s","upgrades":["websocket"],"pingInterval":1,"pingTimeout":1}"#, #"40{"sid":"n"}"#, "~3", "2"],
            [#"0{"sid":"s","pingInterval":0,"pingTimeout":5}"#],
            // Boundary numbers in the handshake.
            [#"0{"sid":"s","upgrades":[],"pingInterval":9223372036854775807,"pingTimeout":1}"#, #"40{"sid":"n"}"#, "~1", "2"],
            [#"0{"sid":"s","upgrades":[],"pingInterval":1e300,"pingTimeout":-1}"#],
            ["0not json"],
            [handshake, #"40/other,{"sid":"n"}"#, #"40{}"#, #"40{"sid":"n"}"#, "2"],
            ["", "9"],
        ]
        return scripts.map { Array($0.joined(separator: "\n").utf8) }
    }
}

extension RoomPayloadHarness {
    /// The captured room payloads (acks and events) and the variants servers send.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let files = ["join-answer", "new-producers", "consumer-closed", "produce-answer"].map {
            fixtures.compactJSON("ORTCTests/Fixtures/\($0).json")
        }
        let transcript = (fixtures.transcript("ack") + fixtures.transcript("out")).map(\.json)
        let variants = [
            #"{"room_id":42,"peers":"[{\"member_no\":3,\"type\":\"producer\"}]"}"#,
            #"{"room_id":4.0,"peers":[{"member_no":2.5},{"member_no":-7},{"type":"x"}]}"#,
            #"{"producers":[{"producer_id":7,"producer_socket_id":"s","kind":"audio"}]}"#,
            #"{"producer_id":"p","member_no":1e3}"#,
            #"[{"producer_id":""}]"#,
            #"{"consumer_id":12345678901234567890}"#,
            #"{"room_id":-9223372036854775808,"peers":[{"member_no":9223372036854775807},{"member_no":1.5e300}]}"#,
            #""already exists""#,
        ]
        return (files + transcript + variants).map { Array($0.utf8) }
    }
}
