import ORTC
import Signaling
import SocketIO

/// Room payload JSON (acks and events of the room protocol) into the typed decoders of the
/// signaling layer, as `RoomSession` applies them: `join` answers, `newProducers` lists, and
/// the summaries error messages quote.
///
/// Input: one JSON text. Invariants: a decoded join answer or producer list holds only what
/// the protocol promises (non-empty producer ids, every id within `IdentifierLimit`, at most
/// the entries allowed); decoding depends only on the protocol's fields (a decoded list
/// written back with them decodes to the same list, and so does a join answer); summaries
/// stay short; nothing traps.
public enum RoomPayloadHarness {
    public static func run(_ data: [UInt8]) {
        guard let value = try? JSONValue(parsing: Substring(decoding: data, as: UTF8.self)) else { return }
        require(value.summary.count <= 80, "summary of \(value.summary.count) characters")
        if let answer = try? JoinAnswer(parsing: value) {
            require(answer.peers.count <= JoinAnswer.maxPeers, "\(answer.peers.count) peers")
            for peer in answer.peers { requireIdentifier(peer.memberNo, "member_no", allowEmpty: true) }
            if let room = answer.roomId { requireIdentifier(room, "room_id", allowEmpty: true) }
            var written: [String: JSONValue] = ["peers": .array(answer.peers.map { peer in
                var object: [String: JSONValue] = ["member_no": .string(peer.memberNo)]
                if let type = peer.type { object["type"] = .string(type) }
                return .object(object)
            })]
            if let room = answer.roomId { written["room_id"] = .string(room) }
            require((try? JoinAnswer(parsing: .object(written))) == answer, "a join answer written back decodes differently")
        }
        if let producers = try? ProducerInfo.list(parsing: value) {
            require(producers.count <= ProducerInfo.maxEntries, "\(producers.count) producers accepted")
            for producer in producers {
                requireIdentifier(producer.producerId, "producer_id")
                if let member = producer.memberNo { requireIdentifier(member, "member_no", allowEmpty: true) }
                if let socket = producer.producerSocketId { requireIdentifier(socket, "producer_socket_id", allowEmpty: true) }
                require(producer.owner == producer.memberNo ?? producer.producerSocketId, "owner is neither member nor socket")
            }
            let written = JSONValue.array(producers.map { producer in
                var object: [String: JSONValue] = ["producer_id": .string(producer.producerId)]
                if let member = producer.memberNo { object["member_no"] = .string(member) }
                if let kind = producer.kind { object["kind"] = .string(kind.rawValue) }
                if let socket = producer.producerSocketId { object["producer_socket_id"] = .string(socket) }
                return .object(object)
            })
            require((try? ProducerInfo.list(parsing: written)) == producers, "a producer list written back decodes differently")
        }
        // What `RoomSession` does with the first argument of an event.
        _ = value["consumer_id"]?.summary
        for item in value.arrayValue ?? [] { require(item.summary.count <= 80, "item summary too long") }
    }

    private static func requireIdentifier(_ id: String, _ field: String, allowEmpty: Bool = false) {
        require(allowEmpty || !id.isEmpty, "empty \(field) accepted")
        require(id.utf8.count <= IdentifierLimit.maxBytes, "\(field) of \(id.utf8.count) bytes accepted")
    }
}
