import Signaling
import SocketIO

/// Room payload JSON (acks and events of the room protocol) into the typed decoders of the
/// signaling layer, as `RoomSession` applies them: `join` answers, `newProducers` lists, and
/// the summaries error messages quote.
///
/// Input: one JSON text. Invariants: a decoded join answer or producer list holds only what
/// the protocol promises (non-empty producer ids); nothing traps.
public enum RoomPayloadHarness {
    public static func run(_ data: [UInt8]) {
        guard let value = try? JSONValue(parsing: Substring(decoding: data, as: UTF8.self)) else { return }
        _ = value.summary
        if let answer = try? JoinAnswer(parsing: value) {
            for peer in answer.peers { _ = (peer.memberNo, peer.type) }
        }
        if let producers = try? ProducerInfo.list(parsing: value) {
            for producer in producers {
                require(!producer.producerId.isEmpty, "producer without id accepted")
                _ = producer.owner
            }
        }
        // What `RoomSession` does with the first argument of an event.
        _ = value["consumer_id"]?.summary
        for item in value.arrayValue ?? [] { _ = item.summary }
    }
}
