import Media
import RTP

/// RTP datagrams into the receive path of one consumer, as `MediaReceiver` runs it: parse,
/// reception statistics, RTX unwrap (payload type 102, original sequence number first),
/// jitter buffer, then VP8 reassembly (video) or whole payloads (audio); every so often the
/// repair step (NACK list) and a receiver report.
///
/// Input: a first byte (bit 0: audio, else video), then operations:
///   even  a datagram: the op byte / 2 is the arrival delay in ms, then a length-prefixed datagram
///   odd   the 20 ms repair timer: drain, NACK list, receiver report
/// Invariants: what parses re-serializes to the same packet and its header extension
/// elements rebuild into the same elements; the jitter buffer releases sequence numbers in
/// order, with `discontinuity` over every gap.
public enum RTPReceiveHarness {
    static let rtxPayloadType: UInt8 = 102

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let video = !input.bool()
        var statistics = ReceptionStatistics(ssrc: 0x2222_2222, clockRate: video ? 90000 : 48000)
        var jitter = JitterBuffer<RTPPacket>(maxWait: video ? 0.3 : 0.08)
        var depacketizer = VP8Depacketizer()
        var order = OrderCheck()
        var now = 1.0

        func drain() {
            for output in jitter.pop(now: now) {
                order.released(output.sequenceNumber, discontinuity: output.discontinuity)
                let packet = output.element
                require(packet.sequenceNumber == output.sequenceNumber, "jitter buffer released \(output.sequenceNumber) for packet \(packet.sequenceNumber)")
                guard video else { continue }
                if let frame = depacketizer.add(packet.payload, timestamp: packet.timestamp, marker: packet.marker,
                                                discontinuity: output.discontinuity) {
                    VP8Harness.check(frame)
                }
            }
        }

        while !input.isAtEnd {
            let op = input.u8()
            if op & 1 == 1 {
                now += 0.02
                drain()
                let missing = jitter.nackList(now: now)
                if !missing.isEmpty { _ = GenericNACK(senderSSRC: 1, mediaSSRC: statistics.ssrc, lost: missing).serializedSize }
                _ = statistics.makeReport(now: now)
                continue
            }
            now += Double(op / 2) / 1000
            let datagram = input.chunk()
            guard !RTPPacket.isRTCP(datagram[...]), let packet = try? RTPPacket(parsing: datagram) else { continue }
            checkRoundTrip(packet, datagram)
            if packet.payloadType == rtxPayloadType {
                // RFC 4588: the original sequence number leads the payload.
                guard packet.payload.count >= 2 else { continue }
                var original = packet
                let start = packet.payload.startIndex
                original.sequenceNumber = UInt16(packet.payload[start]) << 8 | UInt16(packet.payload[start + 1])
                original.payload = packet.payload.dropFirst(2)
                jitter.insert(original, sequenceNumber: original.sequenceNumber, arrival: now)
            } else {
                statistics.packetReceived(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                          size: packet.serializedSize, arrival: now)
                jitter.insert(packet, sequenceNumber: packet.sequenceNumber, arrival: now)
            }
            drain()
        }
        now = .infinity
        drain()
    }

    private static func checkRoundTrip(_ packet: RTPPacket, _ datagram: [UInt8]) {
        // Padding may hold any filler, which RTP leaves unspecified: compare packets then.
        if packet.paddingLength == 0 {
            require(packet.serialize() == datagram, "RTP packet does not serialize back to its bytes")
        } else {
            require((try? RTPPacket(parsing: packet.serialize())) == packet, "padded RTP packet does not read back")
        }
        guard let block = packet.headerExtension, let elements = try? block.elements() else { return }
        for element in elements { require(packet.extensionElement(element.id) != nil, "extension element \(element.id) not found") }
        // Elements with a usable id (1...255; the parser also surfaces the reserved id 0 of a
        // one-byte header, which no writer can express) rebuild into the same list.
        let usable = elements.filter { $0.id != 0 }
        require((try? RTPHeaderExtension(elements: usable).elements()) == usable, "header extension elements do not rebuild")
    }
}

/// Sequence numbers out of a jitter buffer: each after the one before (16-bit serial order),
/// and a step of more than one only with `discontinuity`.
struct OrderCheck {
    private var last: UInt16?

    mutating func released(_ sequence: UInt16, discontinuity: Bool) {
        defer { last = sequence }
        guard let last else { return }
        let step = Int16(bitPattern: sequence &- last)
        require(step > 0, "released \(sequence) after \(last)")
        require(step == 1 || discontinuity, "released \(sequence) after \(last) without discontinuity")
    }
}
