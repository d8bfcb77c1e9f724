import Media
import RTP

/// Real parameter sets for the H264 harnesses' seeds and choices: the captured mediasoup
/// stream's SPS (Baseline 320x240) and PPS, a Main 1280x720 SPS from ffmpeg, and PPS id 1.
enum H264Samples {
    static let sps320: [UInt8] = [0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x05, 0x07, 0xEC, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
                                  0x00, 0x0F, 0x23, 0xC6, 0x0C, 0xA8]
    static let sps720: [UInt8] = [0x67, 0x4D, 0x40, 0x1F, 0xEC, 0xA0, 0x28, 0x02, 0xDD, 0x80, 0x88, 0x00, 0x00, 0x03, 0x00, 0x08,
                                  0x00, 0x00, 0x03, 0x01, 0xE0, 0x78, 0xC1, 0x8C, 0xB0]
    static let pps0: [UInt8] = [0x68, 0xCE, 0x3C, 0x80]
    static let pps1: [UInt8] = [0x68, 0x53, 0x8F, 0x20]

    static func avcC(_ sps: [UInt8], _ pps: [UInt8]) -> [UInt8] {
        [1, sps[1], sps[2], sps[3], 0xFF, 0xE1, 0, UInt8(sps.count)] + sps + [1, 0, UInt8(pps.count)] + pps
    }

    /// AVC samples: each unit after its 4-byte length.
    static func sample(_ units: [[UInt8]]) -> [UInt8] {
        units.flatMap { [0, 0, UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 }
    }
}

/// The captured H264 and VP9 consumer streams (Tests/MediaTests/Fixtures, mediasoup 3.14).
struct CapturedVideo {
    typealias Packet = (payload: [UInt8], marker: Bool, discontinuity: Bool, newTimestamp: Bool)

    let h264: [(ms: UInt32, datagram: [UInt8])]
    let vp9: [(ms: UInt32, datagram: [UInt8])]

    init(_ fixtures: SeedFixtures) {
        h264 = fixtures.packets("MediaTests/Fixtures/stream-h264-consumer.pkts")
        vp9 = fixtures.packets("MediaTests/Fixtures/stream-vp9-consumer.pkts")
    }

    /// Depacketizer inputs: windows of the stream's payloads (cut to `cut` bytes), a gap where
    /// sequence numbers skip, a new timestamp where the packet's differs.
    static func depacketizerInputs(_ records: [(ms: UInt32, datagram: [UInt8])], count: Int, stride: Int, windows: Int, cut: Int)
        -> [[Packet]] {
        let packets = records.compactMap { try? RTPPacket(parsing: $0.datagram) }
        return CapturedStreams.windows(packets, count: count, stride: stride, windows: windows).map { window in
            var previous: RTPPacket?
            return window.map { packet -> Packet in
                defer { previous = packet }
                let gap = previous.map { packet.sequenceNumber &- $0.sequenceNumber != 1 } ?? false
                return (payload: Array(packet.payload.prefix(cut)), marker: packet.marker, discontinuity: gap,
                        newTimestamp: previous.map { $0.timestamp != packet.timestamp } ?? false)
            }
        }
    }
}

extension H264Harness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let captured = CapturedVideo.depacketizerInputs(CapturedVideo(fixtures).h264, count: 12, stride: 30, windows: 10, cut: 200)
        // nacho's own shapes: STAP-A sets + FU-A IDR, sets alone, a PPS id change, an SPS change.
        func stapA(_ units: [[UInt8]]) -> [UInt8] { [0x18] + units.flatMap { [0, UInt8($0.count)] + $0 } }
        var packets: [CapturedVideo.Packet] = []
        func add(_ payload: [UInt8], marker: Bool, newTimestamp: Bool = false) {
            packets.append((payload: payload, marker: marker, discontinuity: false, newTimestamp: newTimestamp))
        }
        add(stapA([H264Samples.sps320, H264Samples.pps0]), marker: false)
        add([0x7C, 0x85, 0x88, 0x84], marker: false)
        add([0x7C, 0x05, 0x21], marker: false)
        add([0x7C, 0x45, 0xA0], marker: true)
        add([0x41, 0x9A, 0x02, 0x03], marker: true, newTimestamp: true)
        add(stapA([H264Samples.sps720, H264Samples.pps1]), marker: false, newTimestamp: true)
        add([0x65, 0b0100_0100, 0x21, 0xA0], marker: true)  // IDR naming PPS 1
        add(stapA([H264Samples.sps320, H264Samples.pps0]), marker: false, newTimestamp: true)
        add([0x65, 0x88, 0x84, 0x21, 0xA0], marker: true)
        return captured.map { input($0) } + [input(packets)]
    }
}

extension H264ParameterSetHarness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let highStream = fixtures.bytes("MediaTests/Fixtures/h264-high-640x360.h264")
        let highRecord = fixtures.bytes("MediaTests/Fixtures/h264-high-640x360.avcc")
        // The Annex B units of the High-profile fixture: SEI, SPS, PPS, IDR.
        var units: [[UInt8]] = []
        var start: Int?
        var index = 0
        while index + 3 <= highStream.count {
            if highStream[index] == 0, highStream[index + 1] == 0, highStream[index + 2] == 1 {
                if let begin = start { units.append(Array(highStream[begin..<(highStream[index - 1] == 0 ? index - 1 : index)])) }
                start = index + 3
                index += 3
            } else {
                index += 1
            }
        }
        if let begin = start { units.append(Array(highStream[begin...])) }
        let sps = units.filter { $0.first.map { $0 & 0x1F == 7 } ?? false }
        let pps = units.filter { $0.first.map { $0 & 0x1F == 8 } ?? false }
        let slices = units.filter { $0.first.map { $0 & 0x1F == 5 } ?? false }.map { Array($0.prefix(32)) }
        var bitScript = FuzzInputWriter()
        bitScript.u8(4)
        bitScript.chunk([0b1010_0110, 0x42, 0x00, 0x1F, 0xFF, 0x00, 0x00, 0x01])
        for op: UInt8 in [0x01, 0x02, 0x80, 0x14, 0x01, 0x02, 0x23, 0x01] { bitScript.u8(op) }
        return sps.map { [0] + $0 } + [[0] + H264Samples.sps320, [0] + H264Samples.sps720]
            + pps.map { [1] + $0 } + [[1] + H264Samples.pps0, [1] + H264Samples.pps1]
            + slices.map { [2] + $0 } + [[2, 0x41, 0x9A, 0x02, 0x03]]
            + [[3] + highRecord, [3] + H264Samples.avcC(H264Samples.sps720, H264Samples.pps1)]
            + [bitScript.bytes]
    }
}

extension VP9Harness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let captured = CapturedVideo.depacketizerInputs(CapturedVideo(fixtures).vp9, count: 12, stride: 50, windows: 10, cut: 200)
        // nacho's packetizer: a key frame (with SS) in three packets, then a delta frame.
        var packetizer = VP9Packetizer(pictureID: 0x7FFE, tl0PictureIndex: 255)
        let key: [UInt8] = [0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xF0, 0x0E, 0xF6] + [UInt8](repeating: 0x33, count: 60)
        let delta: [UInt8] = [0x86, 0x00, 0x40] + [UInt8](repeating: 0x11, count: 20)
        var own: [CapturedVideo.Packet] = []
        for (n, frame) in [key, delta, delta].enumerated() {
            let payloads = packetizer.packetize(frame, isKeyFrame: n == 0, width: 320, height: 240, maxPayloadSize: 40)
            for (index, payload) in payloads.enumerated() {
                own.append((payload: payload, marker: index == payloads.count - 1, discontinuity: false, newTimestamp: index == 0 && n > 0))
            }
        }
        return captured.map { input($0) } + [input(own)]
    }
}

extension RecorderHarness {
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        /// Room and member ids, then `seconds` of 20 ms steps: audio each, video every other,
        /// a key frame with configuration `key(n)` every `keyEvery` video frames.
        func script(room: [UInt8] = Array("r".utf8), member: [UInt8] = Array("m".utf8), steps: Int, keyEvery: Int, reports: Bool,
                    key: (Int) -> UInt8, extra: (Int, inout FuzzInputWriter) -> Void = { _, _ in }) -> [UInt8] {
            var w = FuzzInputWriter()
            w.u8(UInt8(room.count))
            w.raw(room)
            w.u8(UInt8(member.count))
            w.raw(member)
            var keys = 0
            for step in 0..<steps {
                w.u8(4)  // audio
                if step % 2 == 0 {
                    if (step / 2) % keyEvery == 0 {
                        w.u8(2)
                        w.u8(key(keys))
                        w.u8(keys % 2 == 0 ? 1 : 0)
                        if key(keys) == 4 { w.chunk8([1, 0x42, 0xC0, 0x1F, 0xFF, 0xE1, 0, 2, 0x67, 0x42]) }  // no avcC
                        keys += 1
                    } else {
                        w.u8(3)
                    }
                }
                if reports, step % 50 == 0 {
                    w.u8(5)
                    w.u8(0)
                    w.u8(5)
                    w.u8(1)
                }
                extra(step, &w)
                w.u8(0)
                w.u8(2)  // 20 ms
            }
            return w.bytes
        }
        let wide = Array(String(repeating: "𝐀", count: 63).utf8)  // 252 bytes, 63 letters
        return [
            script(steps: 200, keyEvery: 10, reports: true, key: { UInt8($0 % 2) }),  // PPS id alternating
            script(steps: 200, keyEvery: 1, reports: true, key: { $0 % 2 == 0 ? 0 : 2 }, extra: { step, w in
                if step % 60 == 59 {
                    w.u8(1)
                    w.u8(31)  // past the interval: a new format may start a file
                }
            }),
            script(room: Array(repeating: 0x72, count: 128), member: wide, steps: 100, keyEvery: 5, reports: false, key: { _ in 0 }),
            // A letter that joins the / after it into one Character.
            script(member: Array("\u{0D4E}/x".utf8), steps: 50, keyEvery: 5, reports: true, key: { _ in 0 }),
            script(steps: 150, keyEvery: 4, reports: true, key: { $0 % 3 == 2 ? 4 : 3 }, extra: { step, w in
                if step == 40 { w.raw([7, 3]) }  // video leaves
                if step == 60 { w.raw([7, 1]) }  // and comes back
                if step == 100 { w.raw([6, 2]) }  // audio paused
            }),
        ]
    }
}

private extension FuzzInputWriter {
    /// A chunk with an 8-bit length (the recorder harness's raw avcC).
    mutating func chunk8(_ data: [UInt8]) {
        u8(UInt8(data.count))
        raw(data)
    }
}

extension RTPReceiveHarness {
    /// The captured H264 and VP9 consumer streams through the receive path (first byte: video,
    /// codec 1 VP9 or 2 H264), datagrams cut to 200 bytes.
    public static func videoCodecSeeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let video = CapturedVideo(fixtures)
        func script(codec: UInt8, _ records: [(ms: UInt32, datagram: [UInt8])]) -> [UInt8] {
            var writer = FuzzInputWriter()
            writer.u8(codec << 1)
            var last = records.first?.ms ?? 0
            var lastRepair = last
            for record in records {
                writer.u8(UInt8(min(127, record.ms - last)) * 2)
                writer.chunk(record.datagram.prefix(200))
                last = record.ms
                if record.ms - lastRepair >= 20 {
                    writer.u8(1)
                    lastRepair = record.ms
                }
            }
            return writer.bytes
        }
        return CapturedStreams.windows(video.h264, count: 14, stride: 40, windows: 6).map { script(codec: 2, $0) }
            + CapturedStreams.windows(video.vp9, count: 14, stride: 60, windows: 6).map { script(codec: 1, $0) }
    }
}
