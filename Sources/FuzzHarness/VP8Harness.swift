import Media

/// VP8 RTP payloads into `VP8Depacketizer`, cut into packets with fuzzed marker, timestamp
/// and discontinuity bits.
///
/// Input: `FuzzedPacket`s (the flush bit unused), each payload with its descriptor.
/// Invariants: a frame has data; only key frames carry dimensions, within 14 bits; after a
/// frame comes out the depacketizer is no longer waiting for a key frame; a frame's bytes are
/// exactly the VP8 data of the packets since its first one (each payload less its descriptor,
/// in order), which started partition 0, and its key-frame flag is the frame tag's.
public enum VP8Harness {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        var assembler = FrameAssembler(VP8Depacketizer())
        // The reference: what the packets of the frame in progress carry. A frame starts at
        // the first packet of a new timestamp and ends at a marker; a packet whose descriptor
        // does not read loses the frame it is in.
        var expected: [UInt8] = []
        var expectedTimestamp: UInt32?
        var startedPartitionZero = false
        var broken = false
        FuzzedPacket.forEach(in: &input) { packet in
            let payload = packet.payload, timestamp = packet.timestamp, marker = packet.marker
            let descriptor = VP8Depacketizer.descriptor(payload[...])
            if packet.discontinuity { expectedTimestamp = nil }
            if expectedTimestamp != timestamp {
                expected = []
                expectedTimestamp = timestamp
                startedPartitionZero = descriptor.map { $0.startOfPartition && $0.partitionIndex == 0 } ?? false
                broken = false
            }
            if let descriptor {
                expected += payload.dropFirst(descriptor.headerSize)
            } else {
                broken = true
            }
            let frame = assembler.add(payload[...], timestamp: timestamp, marker: marker, discontinuity: packet.discontinuity)
            if let frame {
                check(frame)
                require(!assembler.waitingForKeyFrame, "a frame came out while waiting for a key frame")
                require(frame.timestamp == timestamp, "frame timestamp \(frame.timestamp), packet \(timestamp)")
                require(marker && descriptor != nil, "a frame came out without a readable packet with the marker")
                require(startedPartitionZero, "a frame whose first packet did not start partition 0")
                require(!broken, "a frame with an unreadable packet came out")
                require(frame.data == expected, "frame of \(frame.data.count) bytes, its packets carried \(expected.count)")
                require(frame.isKeyFrame == (frame.data[0] & 1 == 0), "key-frame flag differs from the frame tag")
            }
            if marker { expectedTimestamp = nil }
        }
    }

    static func check(_ frame: VP8Depacketizer.Frame) {
        check(data: frame.data, isKeyFrame: frame.isKeyFrame, width: frame.width, height: frame.height)
    }

    static func check(data: [UInt8], isKeyFrame: Bool, width: Int?, height: Int?) {
        require(!data.isEmpty, "empty VP8 frame")
        if isKeyFrame {
            if let width, let height {
                require(width <= 0x3FFF && height <= 0x3FFF, "key frame \(width)x\(height)")
            }
        } else {
            require(width == nil && height == nil, "delta frame with dimensions")
        }
    }

    /// An input for `run`: (payload, marker, discontinuity, new timestamp) per packet.
    public static func input(_ packets: [(payload: [UInt8], marker: Bool, discontinuity: Bool, newTimestamp: Bool)]) -> [UInt8] {
        var writer = FuzzInputWriter()
        FuzzedPacket.write(packets, into: &writer)
        return writer.bytes
    }
}
