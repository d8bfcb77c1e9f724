import Media
import MediaFormat
import RTP

/// RTP datagrams into the receive path of one consumer, as `MediaReceiver` runs it: parse,
/// then the consumer's `InboundStream` (reception statistics, RTX unwrap, ring jitter buffer,
/// VP8, VP9 or H264 reassembly or whole Opus payloads); every so often its repair step (NACK
/// list, key-frame requests) and a receiver report.
///
/// Input: a first byte (bit 0: audio, else video; bits 1-2: the video codec, 0 VP8, 1 VP9,
/// 2 H264, 3 VP8), then operations:
///   even  a datagram: the op byte / 2 is the arrival delay in ms, then a length-prefixed datagram
///   odd   the 20 ms repair timer
/// Invariants: what parses re-serializes to the same packet and its header extension
/// elements rebuild into the same elements; frames come out in RTP time order (serial
/// arithmetic) except where one follows a gap given up, video only from a key frame on; NACK lists are bounded and never name a
/// packet twice; counters stay consistent; each codec's frames pass its harness's checks
/// (H264 key frames carry an avcC that reads back).
public enum RTPReceiveHarness {
    static let rtxPayloadType: UInt8 = 102

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let first = input.u8()
        let video = first & 1 == 0
        let codec: MediaCodec = !video ? .opus : [.vp8, .vp9, .h264, .vp8][Int(first >> 1 & 3)]
        var configuration = InboundStream.Configuration(ssrc: 0x2222_2222, payloadType: video ? 101 : 100,
                                                        clockRate: video ? 90000 : 48000, codec: codec)
        configuration.rtx = (0x2222_2223, rtxPayloadType)
        let stream = InboundStream(configuration: configuration)
        var now = 1.0
        var lastFrame: UInt32?
        var sawKeyFrame = false
        let onFrame: (InboundStream.Frame) -> Void = { frame in
            if let last = lastFrame, !frame.followsGap {
                require(Int32(bitPattern: frame.rtpTimestamp &- last) >= 0, "frame at \(frame.rtpTimestamp) after \(last)")
            }
            lastFrame = frame.rtpTimestamp
            if video {
                if frame.isKeyFrame { sawKeyFrame = true }
                require(sawKeyFrame, "a video frame before any key frame")
                switch codec {
                case .vp9: VP9Harness.check(data: frame.data, isKeyFrame: frame.isKeyFrame, width: frame.width, height: frame.height)
                case .h264: checkH264(frame)
                default: VP8Harness.check(data: frame.data, isKeyFrame: frame.isKeyFrame, width: frame.width, height: frame.height)
                }
            }
        }

        while !input.isAtEnd {
            let op = input.u8()
            if op & 1 == 1 {
                now += 0.02
                let feedback = stream.tick(now: now, onFrame: onFrame)
                require(feedback.nack.count <= JitterBuffer<Int>.maxNackPackets, "NACK list of \(feedback.nack.count)")
                require(Set(feedback.nack).count == feedback.nack.count, "a packet NACKed twice in one list")
                if !feedback.nack.isEmpty {
                    _ = GenericNACK(senderSSRC: 1, mediaSSRC: configuration.ssrc, lost: feedback.nack).serializedSize
                }
                _ = stream.makeReport(now: now)
                continue
            }
            now += Double(op / 2) / 1000
            let datagram = input.chunk()
            guard !RTPPacket.isRTCP(datagram[...]), var packet = try? RTPPacket(parsing: datagram) else { continue }
            checkRoundTrip(packet, datagram)
            // Most fuzzed packets would carry a foreign SSRC: send them to this stream.
            packet.ssrc = packet.payloadType == rtxPayloadType ? 0x2222_2223 : 0x2222_2222
            stream.receive(packet, size: datagram.count, arrival: now, onFrame: onFrame)
        }
        stream.finish(onFrame: onFrame)
    }

    /// An H264 frame: whole AVC samples; a key frame's size and avcC, which reads back.
    private static func checkH264(_ frame: InboundStream.Frame) {
        require(!frame.data.isEmpty, "empty H264 frame")
        var offset = 0
        while offset < frame.data.count {
            require(offset + 4 <= frame.data.count, "a NAL unit length cut at \(offset)")
            let length = frame.data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            require(length > 0 && length <= frame.data.count - offset - 4, "NAL unit length \(length) at \(offset)")
            offset += 4 + length
        }
        guard frame.isKeyFrame else { return require(frame.codecPrivate == nil && frame.width == nil, "a delta frame with key frame fields") }
        guard let avcC = frame.codecPrivate, let configuration = try? AVCDecoderConfiguration(parsing: avcC[...]) else {
            return require(false, "an H264 key frame without an avcC that parses")
        }
        H264ParameterSetHarness.checkRoundTrip(configuration)
        require((frame.width ?? 0) > 0 && (frame.height ?? 0) > 0, "H264 key frame without a size")
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
