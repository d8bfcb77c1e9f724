import Bytes
import Foundation
import Media
import RTP
import XCTest

/// VP9 reassembly on the stream mediasoup 3.14 forwarded from ffmpeg/libvpx (one-byte
/// descriptors, 3 % upstream loss), and on browser-style descriptors (picture IDs, layer
/// indices, P_DIFFs, SS, several spatial layers) wrapped around the captured frames.
final class VP9DepacketizerTests: XCTestCase {
    /// The captured key frame (5 packets) and the inter frame after it, without descriptors.
    private func capturedFrames() throws -> (key: [UInt8], inter: [UInt8]) {
        let records = try MediaFixture.records("stream-vp9-consumer.pkts")
        let key = records.filter { (14726...14730).contains($0.packet.sequenceNumber) }.flatMap { $0.packet.payload.dropFirst() }
        let inter = try XCTUnwrap(records.first { $0.packet.sequenceNumber == 14731 }).packet.payload.dropFirst()
        return (key, Array(inter))
    }

    /// One layer frame in `parts` packets behind the given descriptor bytes (B/E set here).
    private func packets(_ frame: [UInt8], descriptor: (_ first: Bool, _ last: Bool) -> [UInt8], parts: Int = 1) -> [[UInt8]] {
        let size = (frame.count + parts - 1) / parts
        return (0..<parts).map { index in
            var d = descriptor(index == 0, index == parts - 1)
            d[0] |= (index == 0 ? 0x08 : 0) | (index == parts - 1 ? 0x04 : 0)
            return d + frame[min(index * size, frame.count)..<min((index + 1) * size, frame.count)]
        }
    }

    private func deliver(_ d: inout FrameAssembler<VP9Depacketizer>, _ payloads: [[UInt8]], timestamp: UInt32, marker: Bool = true,
                         discontinuity: Bool = false) -> [VP9Depacketizer.Frame] {
        payloads.enumerated().compactMap { index, payload in
            d.add(payload[...], timestamp: timestamp, marker: marker && index == payloads.count - 1, discontinuity: discontinuity && index == 0)
        }
    }

    func testCapturedKeyFrame() throws {
        let records = try MediaFixture.records("stream-vp9-consumer.pkts")
        var d = FrameAssembler(VP9Depacketizer())
        var frames: [VP9Depacketizer.Frame] = []
        for record in records.prefix(6) {
            if let frame = d.add(record.packet.payload, timestamp: record.packet.timestamp, marker: record.packet.marker, discontinuity: false) {
                frames.append(frame)
            }
        }
        XCTAssertEqual(frames.map(\.isKeyFrame), [true, false])
        XCTAssertEqual(frames[0].width, 320)
        XCTAssertEqual(frames[0].height, 240)
        XCTAssertEqual(frames[0].details.profile, 0)
        XCTAssertEqual(frames[0].details.spatialLayers, 1)
        XCTAssertEqual(frames[0].data, try capturedFrames().key, "the payloads without their one-byte descriptors")
        XCTAssertEqual(Array(frames[0].data.prefix(4)), [0x82, 0x49, 0x83, 0x42])
        XCTAssertNil(frames[1].width)
        XCTAssertNil(frames[1].details.pictureID, "ffmpeg sends none")
    }

    /// The whole captured stream through the jitter buffer: whole frames from each complete
    /// key frame on (index.json's "strict" figure, 77), written to IVF and decoded by ffmpeg
    /// without a message. ffmpeg's P=0 on every frame does not fool the key-frame test.
    func testCapturedStreamDecodesWithFFmpeg() throws {
        let info = try MediaFixture.index("stream-vp9-consumer.pkts")
        let strict = try XCTUnwrap(MediaFixture.verification("vp9")["strict"] as? [String: Any])
        var buffer = JitterBuffer<RTPPacket>(maxWait: 0.3)
        var d = FrameAssembler(VP9Depacketizer())
        var frames: [VP9Depacketizer.Frame] = []
        func take(_ outputs: [JitterBuffer<RTPPacket>.Output]) {
            for out in outputs {
                if let frame = d.add(out.element.payload, timestamp: out.element.timestamp, marker: out.element.marker,
                                     discontinuity: out.discontinuity) { frames.append(frame) }
            }
        }
        for record in try MediaFixture.records("stream-vp9-consumer.pkts") {
            buffer.insert(record.packet, sequenceNumber: record.packet.sequenceNumber, arrival: record.ms / 1000)
            take(buffer.pop(now: record.ms / 1000))
        }
        take(buffer.pop(now: .infinity))
        if let last = d.flush() { frames.append(last) }

        XCTAssertEqual(buffer.lost, (info["missingSeqs"] as? [Int])?.count)
        XCTAssertEqual(frames.count, strict["framesWritten"] as? Int)
        XCTAssertEqual(d.malformedPackets, 0)
        let keyTimestamps = Set(((info["keyFrames"] as? [[String: Any]]) ?? []).compactMap { $0["timestamp"] as? Int })
        let keys = frames.filter(\.isKeyFrame)
        XCTAssertFalse(keys.isEmpty)
        XCTAssertTrue(keys.allSatisfy { keyTimestamps.contains(Int($0.timestamp)) && $0.width == 320 && $0.height == 240 })
        XCTAssertEqual(frames.filter { $0.data.first.map { $0 & 0x04 == 0 } ?? false }.count, keys.count,
                       "frame_type 0 exactly on the frames called key frames")

        let base = frames.first?.timestamp ?? 0
        let ivf = Self.ivf(frames.map { (Int64($0.timestamp &- base), $0.data) }, width: 320, height: 240)
        let file = try FFmpegDecoder.temporaryFile("vp9-replay.ivf", ivf)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let decoded = try FFmpegDecoder.decode(file, format: "ivf")
        XCTAssertEqual(decoded.errors, "")
        XCTAssertEqual(decoded.frames, frames.count)

        // As the recorder will store them: WebM V_VP9, one block per picture.
        let webm = MatroskaSketch.file(docType: "webm", codecID: "V_VP9", codecPrivate: nil, width: 320, height: 240,
                                       frames: frames.map { (Int(($0.timestamp &- base) / 90), $0.isKeyFrame, $0.data) })
        let webmFile = try FFmpegDecoder.temporaryFile("vp9-replay.webm", webm)
        defer { try? FileManager.default.removeItem(atPath: webmFile) }
        let fromWebM = try FFmpegDecoder.decode(webmFile, format: "webm")
        XCTAssertEqual(fromWebM.errors, "")
        XCTAssertEqual(fromWebM.frames, frames.count)
    }

    /// IVF: a 32-byte file header, then a 12-byte header per frame (little-endian throughout).
    static func ivf(_ frames: [(pts: Int64, data: [UInt8])], width: Int, height: Int) -> [UInt8] {
        func le(_ value: UInt64, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
        var out = Array("DKIF".utf8) + le(0, 2) + le(32, 2) + Array("VP90".utf8) + le(UInt64(width), 2) + le(UInt64(height), 2)
        out += le(90000, 4) + le(1, 4) + le(UInt64(frames.count), 4) + le(0, 4)
        for frame in frames { out += le(UInt64(frame.data.count), 4) + le(UInt64(bitPattern: frame.pts), 8) + frame.data }
        return out
    }

    /// Non-flexible mode as libwebrtc sends it: 15-bit picture ID, L with TL0PICIDX.
    private func nonFlexible(_ pictureID: UInt16, inter: Bool, temporal: UInt8 = 0, tl0: UInt8, ss: [UInt8] = []) -> (Bool, Bool) -> [UInt8] {
        { first, _ in
            [0xA0 | (inter ? 0x40 : 0) | (first && !ss.isEmpty ? 0x02 : 0), 0x80 | UInt8(pictureID >> 8), UInt8(truncatingIfNeeded: pictureID),
             temporal << 5, tl0] + (first ? ss : [])
        }
    }

    func testNonFlexibleTL0PictureIndexContinuity() throws {
        let (key, inter) = try capturedFrames()
        var d = FrameAssembler(VP9Depacketizer())
        let ss: [UInt8] = [0x18, 0x01, 0x40, 0x00, 0xF0, 0x01, 0x04, 0x01]  // one layer, 320x240, group of one
        XCTAssertEqual(deliver(&d, packets(key, descriptor: nonFlexible(100, inter: false, tl0: 5, ss: ss), parts: 3), timestamp: 0)
            .map(\.width), [320])
        // TL0 pictures count up; upper temporal layers keep the TL0PICIDX of their base picture.
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: nonFlexible(101, inter: true, temporal: 2, tl0: 5)), timestamp: 3000).count, 1)
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: nonFlexible(102, inter: true, temporal: 1, tl0: 5)), timestamp: 6000).count, 1)
        // mediasoup dropped picture 103 (layer 2): the picture ID jumps, the TL0PICIDX does not.
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: nonFlexible(104, inter: true, tl0: 6)), timestamp: 12000).count, 1)
        XCTAssertFalse(d.waitingForKeyFrame)
        // TL0 picture 7 never came (TL0PICIDX 6 → 8): its dependants cannot decode.
        XCTAssertTrue(deliver(&d, packets(inter, descriptor: nonFlexible(110, inter: true, tl0: 8)), timestamp: 30000).isEmpty)
        XCTAssertTrue(d.waitingForKeyFrame)
        XCTAssertTrue(deliver(&d, packets(inter, descriptor: nonFlexible(111, inter: true, temporal: 2, tl0: 8)), timestamp: 33000).isEmpty)
        let again = deliver(&d, packets(key, descriptor: nonFlexible(112, inter: false, tl0: 9, ss: ss), parts: 2), timestamp: 36000)
        XCTAssertEqual(again.map(\.isKeyFrame), [true])
        XCTAssertEqual(again.first?.details.pictureID, 112)
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: nonFlexible(113, inter: true, tl0: 10)), timestamp: 39000).count, 1)
    }

    func testFlexibleModeReferences() throws {
        let (key, inter) = try capturedFrames()
        var d = FrameAssembler(VP9Depacketizer())
        // I, P?, L, F; 15-bit picture ID; T/S; P_DIFFs.
        func flexible(_ pictureID: UInt16, diffs: [UInt8]) -> (Bool, Bool) -> [UInt8] {
            { _, _ in
                var bytes: [UInt8] = [0xB0 | (diffs.isEmpty ? 0 : 0x40), 0x80 | UInt8(pictureID >> 8), UInt8(truncatingIfNeeded: pictureID), 0x00]
                for (index, diff) in diffs.enumerated() { bytes.append(diff << 1 | (index < diffs.count - 1 ? 1 : 0)) }
                return bytes
            }
        }
        XCTAssertEqual(deliver(&d, packets(key, descriptor: flexible(0x7FFE, diffs: []), parts: 2), timestamp: 0).map(\.isKeyFrame), [true])
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: flexible(0x7FFF, diffs: [1])), timestamp: 3000).count, 1)
        // Picture 0 (after the wrap) references 0x7FFF and 0x7FFE: both there.
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: flexible(0, diffs: [1, 2])), timestamp: 6000).count, 1)
        // Picture 2 references picture 1, which never came (lost whole, no sequence gap seen).
        XCTAssertTrue(deliver(&d, packets(inter, descriptor: flexible(2, diffs: [1])), timestamp: 12000).isEmpty)
        XCTAssertTrue(d.waitingForKeyFrame)
    }

    func testPictureIDGapWithoutLayerIndices() throws {
        let (key, inter) = try capturedFrames()
        var d = FrameAssembler(VP9Depacketizer())
        func pictureOnly(_ id: UInt16, inter: Bool) -> (Bool, Bool) -> [UInt8] {
            { _, _ in [0x80 | (inter ? 0x40 : 0), UInt8(id & 0x7F)] }  // 7-bit picture ID
        }
        XCTAssertEqual(deliver(&d, packets(key, descriptor: pictureOnly(126, inter: false)), timestamp: 0).count, 1)
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: pictureOnly(127, inter: true)), timestamp: 3000).count, 1)
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: pictureOnly(0, inter: true)), timestamp: 6000).count, 1, "7-bit wrap")
        XCTAssertTrue(deliver(&d, packets(inter, descriptor: pictureOnly(2, inter: true)), timestamp: 12000).isEmpty)
        XCTAssertTrue(d.waitingForKeyFrame)
    }

    /// A K-SVC key picture as mediasoup forwards it (spatial layers 0 and 1, the marker on the
    /// top layer), then inter pictures of layer 1 only.
    func testSpatialLayersBecomeOneSuperframe() throws {
        let (key, inter) = try capturedFrames()
        let upper = Array(inter.prefix(60))  // stands in for the inter-layer predicted layer-1 frame
        func layer(_ spatial: UInt8, inter: Bool, picture: UInt8 = 7, ss: [UInt8] = []) -> (Bool, Bool) -> [UInt8] {
            { first, _ in
                // 15-bit picture ID, T0 with D on upper layers, TL0PICIDX counting pictures.
                [0xA0 | (inter ? 0x40 : 0) | (first && !ss.isEmpty ? 0x02 : 0), 0x80, picture, spatial << 1 | (spatial > 0 ? 1 : 0), picture]
                    + (first ? ss : [])
            }
        }
        let ss: [UInt8] = [0x30, 0x00, 0xA0, 0x00, 0x78, 0x01, 0x40, 0x00, 0xF0]  // 2 layers: 160x120, 320x240; no group
        var d = FrameAssembler(VP9Depacketizer())
        let picture = packets(key, descriptor: layer(0, inter: false, ss: ss), parts: 2) + packets(upper, descriptor: layer(1, inter: false))
        let frames = deliver(&d, picture, timestamp: 0)
        let frame = try XCTUnwrap(frames.first)
        XCTAssertTrue(frame.isKeyFrame)
        XCTAssertEqual(frame.details.spatialLayers, 2)
        XCTAssertEqual(VP9Superframe.frames(in: frame.data[...])?.map(Array.init), [key, upper])
        XCTAssertEqual(frame.width, 320, "the top layer's size, from the SS")
        XCTAssertEqual(frame.height, 240)
        let next = deliver(&d, packets(inter, descriptor: layer(1, inter: true, picture: 8)), timestamp: 3000)
        XCTAssertEqual(next.map(\.details.spatialLayers), [1])
        XCTAssertEqual(next.first?.data, inter)

        // Only layer 0 kept: the same key picture is the layer-0 frame alone.
        var base = FrameAssembler(VP9Depacketizer(maxSpatialLayer: 0))
        let kept = deliver(&base, picture, timestamp: 0)
        XCTAssertEqual(kept.first?.data, key)
        XCTAssertEqual(kept.first?.width, 160)

        // Layers out of order in one picture are refused.
        var wrong = FrameAssembler(VP9Depacketizer())
        XCTAssertTrue(deliver(&wrong, packets(upper, descriptor: layer(1, inter: false)) + packets(key, descriptor: layer(0, inter: false)),
                              timestamp: 0).isEmpty)
        XCTAssertEqual(wrong.malformedPackets, 1)
    }

    /// An SS may say 0x0 (any 16-bit value goes): a key picture then takes its size from its
    /// frame header, as a recorder lists no video of size 0.
    func testScalabilityStructureOfSizeZeroIsNotTheSize() throws {
        let (key, _) = try capturedFrames()
        for ss: [UInt8] in [[0x10, 0x00, 0x00, 0x00, 0x00], [0x10, 0x01, 0x40, 0x00, 0x00]] {
            var d = FrameAssembler(VP9Depacketizer())
            let frames = deliver(&d, packets(key, descriptor: { first, _ in [0x80 | (first ? 0x02 : 0), 0x05] + (first ? ss : []) }), timestamp: 0)
            XCTAssertEqual(frames.map(\.isKeyFrame), [true])
            XCTAssertEqual(frames.first?.width, 320, "\(ss)")
            XCTAssertEqual(frames.first?.height, 240)
        }
    }

    func testFrameBoundariesAndLoss() throws {
        let (key, inter) = try capturedFrames()
        let plain: (Bool, Bool) -> [UInt8] = { _, _ in [0x00] }
        var d = FrameAssembler(VP9Depacketizer())
        XCTAssertTrue(deliver(&d, packets(inter, descriptor: plain), timestamp: 0).isEmpty, "no key frame yet")
        let keyPackets = packets(key, descriptor: plain, parts: 4)
        // The second packet is lost: the key frame is dropped, the next inter frame too.
        XCTAssertTrue(deliver(&d, [keyPackets[0]], timestamp: 3000, marker: false).isEmpty)
        XCTAssertTrue(deliver(&d, Array(keyPackets[2...]), timestamp: 3000, discontinuity: true).isEmpty)
        XCTAssertTrue(deliver(&d, packets(inter, descriptor: plain), timestamp: 6000).isEmpty)
        XCTAssertEqual(d.framesDropped, 4, "the early inter frame, the key frame's two halves, the inter frame after it")
        // A frame whose E never came, followed by a new B in the same picture: broken.
        XCTAssertTrue(deliver(&d, [keyPackets[0], keyPackets[1], keyPackets[0]], timestamp: 9000).isEmpty)
        XCTAssertEqual(deliver(&d, keyPackets, timestamp: 12000).map(\.isKeyFrame), [true])
        // Without markers a new timestamp ends the picture; the second of two comes next call.
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: plain), timestamp: 15000, marker: false).count, 0)
        XCTAssertEqual(deliver(&d, packets(inter, descriptor: plain), timestamp: 18000).map(\.timestamp), [15000])
        XCTAssertEqual(d.flush()?.timestamp, 18000)
        XCTAssertNil(d.flush())
    }

    func testEncoderSuperframeStaysOneBlock() throws {
        let (_, inter) = try capturedFrames()
        let (key, _) = try capturedFrames()
        // An inter frame with show_frame 0 (an alt-ref): header up to found_ref = 1.
        let hidden: [UInt8] = [0x84, 0x00, 0x40, 0x01]
        let superframe = VP9Superframe.build([hidden, inter])
        var d = FrameAssembler(VP9Depacketizer())
        _ = deliver(&d, packets(key, descriptor: { _, _ in [0x00] }), timestamp: 0)
        XCTAssertEqual(deliver(&d, packets(superframe, descriptor: { _, _ in [0x00] }, parts: 2), timestamp: 3000).first?.data, superframe)
    }

    func testSizeCapAndMalformedPackets() throws {
        let (key, _) = try capturedFrames()
        var d = FrameAssembler(VP9Depacketizer())
        XCTAssertEqual(deliver(&d, packets(key, descriptor: { _, _ in [0x00] }), timestamp: 0).count, 1)
        let chunk = [UInt8](repeating: 1, count: 100_000)
        XCTAssertNil(d.add(([0x08] + chunk)[...], timestamp: 3000, marker: false, discontinuity: false))
        for _ in 0..<(VP9Depacketizer.maxFrameSize / chunk.count + 1) {
            XCTAssertNil(d.add(([0x00] + chunk)[...], timestamp: 3000, marker: false, discontinuity: false))
        }
        XCTAssertNil(d.add(([0x04] + chunk)[...], timestamp: 3000, marker: true, discontinuity: false))
        XCTAssertTrue(d.waitingForKeyFrame)
        // Truncated descriptors and frames that are no VP9: counted, never a trap.
        for payload: [UInt8] in [[], [0x88], [0xD8, 0x01, 0x00], [0x0C, 0x00, 0x00]] {
            XCTAssertNil(d.add(payload[...], timestamp: 6000, marker: true, discontinuity: false))
        }
        XCTAssertEqual(d.malformedPackets, 4)
        for name in ["rtp-vp9-keyframe-first", "rtp-vp9-delta"] {
            let packet = try MediaFixture.packet(name)
            for length in 0...min(packet.payload.count, 40) {
                _ = d.add(packet.payload.prefix(length), timestamp: 9000 + UInt32(length), marker: true, discontinuity: false)
            }
        }
    }
}
