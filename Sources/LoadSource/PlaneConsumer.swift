import MediaFormat

/// One consumer on a transport: the RTP header it stamps on every packet of its producer (a
/// template made once, patched per packet: marker, sequence, timestamp, abs-send-time, the
/// transport-wide sequence), its own sequence numbers (as an SFU renumbers what it forwards),
/// and the counters of its sender reports. Owned by its event loop.
final class PlaneConsumer {
    let id: String
    let producerIndex: Int
    let kind: MediaKind
    let ssrc: UInt32
    let payloadType: UInt8
    /// Header with the extension block; the fixed part's fields are patched per packet.
    let header: [UInt8]
    let absSendTimeOffset: Int?
    let transportSequenceOffset: Int?
    unowned let transport: PlaneTransport
    var sequenceNumber = UInt16.random(in: 0...UInt16.max)
    /// Resumed (or created unpaused).
    var isSending = false
    /// Video starts at a key frame (as mediasoup's consumers do): what comes before is dropped.
    var waitingForKeyFrame: Bool
    /// Counted when a packet goes into the send batch (the SR's figures).
    var packetsSent: UInt32 = 0
    var octetsSent: UInt32 = 0

    init(id: String, producerIndex: Int, kind: MediaKind, ssrc: UInt32, payloadType: UInt8, mid: String?,
         midId: Int?, absSendTimeId: Int?, transportSequenceId: Int?, transport: PlaneTransport) {
        self.id = id
        self.producerIndex = producerIndex
        self.kind = kind
        self.ssrc = ssrc
        self.payloadType = payloadType & 0x7F
        self.transport = transport
        waitingForKeyFrame = kind == .video
        var header: [UInt8] = [0x80, payloadType & 0x7F, 0, 0, 0, 0, 0, 0,
                               UInt8(ssrc >> 24), UInt8(truncatingIfNeeded: ssrc >> 16),
                               UInt8(truncatingIfNeeded: ssrc >> 8), UInt8(truncatingIfNeeded: ssrc)]
        // One-byte header extensions (RFC 8285): ids 1...14, values of 1...16 bytes.
        var elements: [UInt8] = []
        if let midId, (1...14).contains(midId), let mid, (1...16).contains(mid.utf8.count) {
            elements.append(UInt8(midId) << 4 | UInt8(mid.utf8.count - 1))
            elements.append(contentsOf: mid.utf8)
        }
        var absOffset: Int?
        if let absSendTimeId, (1...14).contains(absSendTimeId) {
            elements.append(UInt8(absSendTimeId) << 4 | 2)
            absOffset = 16 + elements.count
            elements.append(contentsOf: [0, 0, 0])
        }
        var sequenceOffset: Int?
        if let transportSequenceId, (1...14).contains(transportSequenceId) {
            elements.append(UInt8(transportSequenceId) << 4 | 1)
            sequenceOffset = 16 + elements.count
            elements.append(contentsOf: [0, 0])
        }
        if !elements.isEmpty {
            while elements.count % 4 != 0 { elements.append(0) }
            header[0] |= 0x10
            let words = elements.count / 4
            header += [0xBE, 0xDE, UInt8(words >> 8), UInt8(truncatingIfNeeded: words)]
            header += elements
        }
        self.header = header
        absSendTimeOffset = absOffset
        transportSequenceOffset = sequenceOffset
    }
}
