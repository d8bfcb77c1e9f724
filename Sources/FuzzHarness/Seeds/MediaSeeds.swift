import ICE
import RTP
import Transport

/// Windows of the captured mediasoup streams (Tests/RTPTests/Fixtures), in the formats of
/// the receive-side harnesses.
struct CapturedStreams {
    let video: [(ms: UInt32, datagram: [UInt8])]
    let audio: [(ms: UInt32, datagram: [UInt8])]

    init(_ fixtures: SeedFixtures) {
        video = fixtures.packets("RTPTests/Fixtures/stream-vp8-consumer.pkts")
        audio = fixtures.packets("RTPTests/Fixtures/stream-opus-consumer.pkts")
    }

    /// `count` consecutive records starting at every `stride`-th one, `windows` times.
    static func windows<T>(_ records: [T], count: Int, stride: Int, windows: Int) -> [[T]] {
        (0..<windows).map { Array(records.dropFirst($0 * stride).prefix(count)) }.filter { !$0.isEmpty }
    }
}

/// Captured datagrams are cut to this: headers, VP8 descriptors and key frame headers are all
/// in front, and runs over whole 1200-byte packets would be slower to no purpose.
private let maxDatagram = 200

extension RTPReceiveHarness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let streams = CapturedStreams(fixtures)
        func script(audio: Bool, _ records: [(ms: UInt32, datagram: [UInt8])]) -> [UInt8] {
            var writer = FuzzInputWriter()
            writer.bool(audio)
            var last = records.first?.ms ?? 0
            var lastRepair = last
            for record in records {
                writer.u8(UInt8(min(127, record.ms - last)) * 2)
                writer.chunk(record.datagram.prefix(maxDatagram))
                last = record.ms
                if record.ms - lastRepair >= 20 {
                    writer.u8(1)
                    lastRepair = record.ms
                }
            }
            return writer.bytes
        }
        // The same window with sequence numbers moved to cross 65535 → 0.
        func wrapped(_ records: [(ms: UInt32, datagram: [UInt8])]) -> [(ms: UInt32, datagram: [UInt8])] {
            guard let first = records.first, first.datagram.count > 4 else { return records }
            let base = UInt16(first.datagram[2]) << 8 | UInt16(first.datagram[3])
            return records.map { record in
                var bytes = record.datagram
                let seq = (UInt16(bytes[2]) << 8 | UInt16(bytes[3])) &- base &+ 65530
                bytes[2] = UInt8(seq >> 8)
                bytes[3] = UInt8(truncatingIfNeeded: seq)
                return (record.ms, bytes)
            }
        }
        let video = CapturedStreams.windows(streams.video, count: 12, stride: 40, windows: 8)
        let audio = CapturedStreams.windows(streams.audio, count: 10, stride: 120, windows: 3)
        let singles = ["rtp-opus", "rtp-probation", "rtp-vp8-delta", "rtp-vp8-keyframe-first", "rtp-vp8-rtx"].map {
            script(audio: false, [(0, Array(fixtures.bytes("RTPTests/Fixtures/\($0).bin").prefix(maxDatagram)))])
        }
        return video.map { script(audio: false, $0) } + audio.map { script(audio: true, $0) }
            + [script(audio: false, wrapped(video[0])), script(audio: true, wrapped(audio[0]))] + singles
    }
}

extension VP8Harness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let packets = CapturedStreams(fixtures).video.compactMap { try? RTPPacket(parsing: $0.datagram) }.filter { $0.payloadType == 101 }
        return CapturedStreams.windows(packets, count: 10, stride: 30, windows: 10).map { window in
            var previous: RTPPacket?
            return input(window.map { packet in
                defer { previous = packet }
                let gap = previous.map { packet.sequenceNumber &- $0.sequenceNumber != 1 } ?? false
                return (Array(packet.payload.prefix(maxDatagram)), packet.marker, gap, previous.map { $0.timestamp != packet.timestamp } ?? false)
            })
        }
    }
}

extension JitterBufferHarness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        /// (maxWait in 10 ms, capacity) then operations (op, arguments...).
        func script(wait: UInt8 = 30, capacity: UInt8 = 0, _ sequences: [UInt16], popEvery: Int = 1, delay: UInt8 = 20) -> [UInt8] {
            var writer = FuzzInputWriter()
            writer.u8(wait)
            writer.u8(capacity)
            for (index, sequence) in sequences.enumerated() {
                writer.u8(0)
                writer.u8(delay)
                writer.u16(sequence)
                if index % popEvery == popEvery - 1 {
                    writer.u8(2)
                    writer.u16(0)
                    writer.u8(3)
                    writer.u8(0)
                    writer.u8(50)
                    writer.u8(8)
                }
            }
            writer.u8(2)
            writer.u16(1000)
            return writer.bytes
        }
        let captured = CapturedStreams(fixtures).video.compactMap { try? RTPPacket(parsing: $0.datagram) }.map(originalSequence)
        return [
            script(Array(100..<120)),
            script([1, 3, 2, 5, 4, 7, 6, 9, 8]),
            script([1, 2, 4, 5, 6, 3], popEvery: 2),
            script(Array(65530...65535) + Array(0..<6)),
            script([10, 10, 11, 11, 9, 12]),
            script(wait: 0, capacity: 4, [1, 5, 6, 7, 8, 9, 10]),
            script([0, 30000, 60000, 25000, 65535, 32768]),
            script(wait: 255, [1, 3, 5, 7, 9, 11, 13, 15], popEvery: 4, delay: 255),
            script(Array(captured.prefix(80)), popEvery: 3),
            [30, 0, 1, 10, 3, 1, 10, 2, 1, 10, 5, 2, 0, 100, 3, 50, 0, 3],
        ]
    }
}

/// The sequence number a packet stands for: RTX carries the original one first in its payload.
private func originalSequence(_ packet: RTPPacket) -> UInt16 {
    guard packet.payloadType == 102, packet.payload.count >= 2 else { return packet.sequenceNumber }
    let start = packet.payload.startIndex
    let high = UInt16(packet.payload[start])
    let low = UInt16(packet.payload[start + 1])
    return high << 8 | low
}

extension RFC4571Harness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let id = Array(repeating: UInt8(1), count: 12)
        let datagrams = [
            STUNMessage(class: .request, transactionID: id, attributes: [.username("a:b"), .useCandidateFlag])
                .serialize(integrityKey: [1, 2, 3], fingerprint: true),
            fixtures.bytes("RTPTests/Fixtures/rtp-opus.bin"),
            fixtures.bytes("RTPTests/Fixtures/rtcp-rr-to-producer.bin"),
            [],
            [0x16, 0xFE, 0xFD],
        ]
        let stream = datagrams.flatMap { RFC4571Framer.frame($0) }
        func cut(_ stream: [UInt8], piece: Int) -> [UInt8] {
            var writer = FuzzInputWriter()
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + piece)
                writer.u8(UInt8(end - offset))
                writer.raw(stream[offset..<end])
                offset = end
            }
            return writer.bytes
        }
        return [1, 2, 7, 100, 255].map { cut(stream, piece: $0) } + [cut(Array(stream.dropLast(3)), piece: 50), [0], [2, 0, 5]]
    }
}
