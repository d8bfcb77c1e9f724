import Bytes
import Media
import XCTest

/// Randomized run of the H264/VP9 payload parsers and depacketizers on mutated real packets
/// and noise: they may throw or drop, never trap or grow without bound. Seeded, so a failure
/// repeats; NACHO_FUZZ_ITERATIONS raises the count.
final class CodecParserRobustnessTests: XCTestCase {
    static let iterations = Int(ProcessInfo.processInfo.environment["NACHO_FUZZ_ITERATIONS"] ?? "") ?? 20_000

    private func mutate(_ seed: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        switch random.next() % 5 {
        case 0:  // bit flips
            for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(bytes.count))] ^= 1 << UInt8(random.next() % 8)
            }
        case 1:  // truncation
            bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
        case 2:  // byte edits in the first bytes, where the headers are
            for _ in 0..<(1 + Int(random.next() % 3)) where !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(min(bytes.count, 12)))] = UInt8(truncatingIfNeeded: random.next())
            }
        case 3:  // growth
            bytes += (0..<Int(random.next() % 16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        default:  // noise
            bytes = (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        return bytes
    }

    func testH264() throws {
        let seeds = try ["rtp-h264-stap-a-sps-pps", "rtp-h264-fu-a-start", "rtp-h264-fu-a-end", "rtp-h264-single-nal"]
            .map { Array(try MediaFixture.packet($0).payload.prefix(200)) }
            + [H264DepacketizerTests.sps, H264DepacketizerTests.pps]
        var random = SplitMix64(seed: 0x264)
        var depacketizer = FrameAssembler(H264Depacketizer())
        for index in 0..<Self.iterations {
            let input = mutate(seeds[index % seeds.count], &random)
            _ = try? H264Payload(parsing: input[...])
            _ = try? H264SequenceParameterSet(parsing: input[...])
            _ = try? H264PictureParameterSet(parsing: input[...])
            _ = try? AVCDecoderConfiguration(parsing: input[...])
            if let frame = depacketizer.add(input[...], timestamp: UInt32(index / 3), marker: random.next() % 3 == 0,
                                            discontinuity: random.next() % 50 == 0) {
                XCTAssertFalse(frame.data.isEmpty, "an empty frame came out")
                XCTAssertEqual(frame.details.nalUnitTypes.isEmpty, false, "a frame without NAL units")
            }
            // The growth the comment above promises is bounded: the parameter-set tables (at most
            // 32 SPS + 256 PPS ids of at most maxParameterSetSize each).
            XCTAssertLessThanOrEqual(depacketizer.depacketizer.parameterSetBytes, 288 * H264Depacketizer.maxParameterSetSize)
        }
        // Every input was taken or counted, never silently swallowed by a trap-free no-op:
        // mutated real packets make frames and malformed inputs are counted.
        XCTAssertGreaterThan(depacketizer.malformedPackets, 0, "mutations were refused and counted")
        XCTAssertGreaterThan(depacketizer.framesDropped + depacketizer.malformedPackets, Self.iterations / 100)
        XCTAssertGreaterThan(depacketizer.depacketizer.parameterSetBytes, 0, "real SPS/PPS seeds were learnt")
    }

    func testVP9() throws {
        let seeds = try ["rtp-vp9-keyframe-first", "rtp-vp9-delta"].map { Array(try MediaFixture.packet($0).payload.prefix(200)) }
            + [[0xAA, 0x92, 0x34, 0x00, 0x05, 0x58, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xD0, 0x01, 0x04, 0x01, 0x82, 0x49, 0x83, 0x42, 0x00],
               [0xFC, 0x12, 0x53, 0x03, 0x04, 0x86, 0x00, 0x40, 0x01], VP9Superframe.build([[0x86, 1, 2], [0x88]])]
        var random = SplitMix64(seed: 0x9)
        var depacketizer = FrameAssembler(VP9Depacketizer())
        for index in 0..<Self.iterations {
            let input = mutate(seeds[index % seeds.count], &random)
            if let descriptor = try? VP9PayloadDescriptor(parsing: input[...]) {
                XCTAssertLessThanOrEqual(descriptor.size, input.count)
                _ = try? VP9FrameHeader(parsing: input.dropFirst(descriptor.size))
            }
            _ = try? VP9FrameHeader(parsing: input[...])
            if let frames = VP9Superframe.frames(in: input[...]) {
                XCTAssertLessThan(frames.reduce(0) { $0 + $1.count }, input.count)
            }
            if let frame = depacketizer.add(input[...], timestamp: UInt32(index / 3), marker: random.next() % 3 == 0,
                                            discontinuity: random.next() % 50 == 0) {
                XCTAssertFalse(frame.data.isEmpty, "an empty frame came out")
                XCTAssertGreaterThan(frame.details.spatialLayers, 0)
            }
        }
        XCTAssertGreaterThan(depacketizer.framesDropped, Self.iterations / 100, "broken frames were dropped and counted")
    }
}
