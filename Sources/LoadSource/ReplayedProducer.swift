import Capture
import Media
import MediaFormat

/// A virtual producer on one event loop: its current frame, packetized once (VP8 payload
/// descriptors and payloads end to end in one reused buffer) and copied into every consumer's
/// packets; its consumers on this loop.
final class ReplayedProducer {
    let index: Int
    let kind: MediaKind
    let clockRate: Int
    /// Added to the capture time's RTP ticks, so streams do not all start at 0.
    let timestampOffset = UInt32.random(in: 0...UInt32.max)
    var packetizer = VP8Packetizer()
    var consumers: [PlaneConsumer] = []
    /// The current frame's payloads: `bytes[payloads[i].start ..< +count]`.
    var bytes: [UInt8] = []
    var payloads: [(start: Int, count: Int, marker: Bool)] = []
    /// Payload budget (descriptor included): a datagram stays under 1200 bytes after the header and SRTP tag.
    static let maxPayloadSize = 1100

    init(index: Int, kind: MediaKind) {
        self.index = index
        self.kind = kind
        clockRate = kind == .video ? 90000 : 48000
        bytes.reserveCapacity(64 << 10)
        payloads.reserveCapacity(64)
    }

    var hasSendingConsumer: Bool { consumers.contains { $0.isSending } }

    func rtpTimestamp(at seconds: Double) -> UInt32 {
        let ticks = (seconds * Double(clockRate)).rounded()
        guard ticks.isFinite, abs(ticks) < 9e18 else { return timestampOffset }
        return timestampOffset &+ UInt32(truncatingIfNeeded: Int64(ticks))
    }

    /// Packetizes one frame of the clip into `bytes` and `payloads`.
    func packetize(_ frame: [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        payloads.removeAll(keepingCapacity: true)
        if kind == .audio {
            bytes.append(contentsOf: frame)
            payloads.append((0, frame.count, false))
            return
        }
        packetizer.forEachPayload(frame, maxPayloadSize: Self.maxPayloadSize) { descriptor, part, last in
            let start = bytes.count
            descriptor.append(to: &bytes)
            bytes.append(contentsOf: part)
            payloads.append((start, bytes.count - start, last))
        }
    }
}
