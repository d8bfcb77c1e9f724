import Bytes
import Media
import RTP
import XCTest

final class VP8DepacketizerTests: XCTestCase {
    private func packet(_ name: String) throws -> RTPPacket {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "bin", subdirectory: "Fixtures"))
        return try RTPPacket(parsing: Array(Data(contentsOf: url)))
    }

    func testReassemblesTheCapturedKeyFrame() throws {
        var depacketizer = FrameAssembler(VP8Depacketizer())
        let parts = try ["rtp-vp8-keyframe-first", "rtp-vp8-keyframe-cont", "rtp-vp8-keyframe-last"].map(packet)
        XCTAssertEqual(VP8Depacketizer.descriptor(parts[0].payload)?.startOfPartition, true)
        XCTAssertEqual(VP8Depacketizer.descriptor(parts[1].payload)?.startOfPartition, false)
        XCTAssertNil(depacketizer.add(parts[0].payload, timestamp: parts[0].timestamp, marker: parts[0].marker, discontinuity: false))
        XCTAssertNil(depacketizer.add(parts[1].payload, timestamp: parts[1].timestamp, marker: parts[1].marker, discontinuity: false))
        let frame = try XCTUnwrap(depacketizer.add(parts[2].payload, timestamp: parts[2].timestamp, marker: parts[2].marker, discontinuity: false))
        XCTAssertTrue(frame.isKeyFrame)
        XCTAssertEqual(frame.width, 320)
        XCTAssertEqual(frame.height, 240)
        XCTAssertEqual(Array(frame.data[3...5]), [0x9D, 0x01, 0x2A], "VP8 key frame start code")
        // The captured delta frame is a few frames later (its PictureID is not the next one):
        // its references are missing, so it is not handed out.
        let delta = try packet("rtp-vp8-delta")
        XCTAssertNotEqual(VP8Depacketizer.descriptor(delta.payload)?.pictureID, VP8Depacketizer.descriptor(parts[0].payload)?.pictureID.map { $0 + 1 })
        XCTAssertNil(depacketizer.add(delta.payload, timestamp: delta.timestamp, marker: delta.marker, discontinuity: false))
    }

    func testWaitsForAKeyFrameAfterLoss() throws {
        var depacketizer = FrameAssembler(VP8Depacketizer())
        let delta = try packet("rtp-vp8-delta")
        XCTAssertNil(depacketizer.add(delta.payload, timestamp: delta.timestamp, marker: true, discontinuity: false),
                     "no key frame yet: a delta frame cannot decode")
        XCTAssertTrue(depacketizer.waitingForKeyFrame)
        let parts = try ["rtp-vp8-keyframe-first", "rtp-vp8-keyframe-last"].map(packet)
        // The middle packet of the key frame is missing: the frame is dropped.
        _ = depacketizer.add(parts[0].payload, timestamp: parts[0].timestamp, marker: false, discontinuity: false)
        XCTAssertNil(depacketizer.add(parts[1].payload, timestamp: parts[1].timestamp, marker: true, discontinuity: true))
        XCTAssertTrue(depacketizer.waitingForKeyFrame)
        XCTAssertGreaterThanOrEqual(depacketizer.framesDropped, 2)
    }

    /// A PictureID that skips one means a frame never arrived, even without a sequence gap.
    func testPictureIDGapWaitsForAKeyFrame() {
        var depacketizer = FrameAssembler(VP8Depacketizer())
        var packetizer = VP8Packetizer(pictureID: 100)
        func frame(_ key: Bool) -> [UInt8] { [key ? 0x00 : 0x01, 0, 0, 0x9D, 0x01, 0x2A, 64, 0, 48, 0] }
        func deliver(_ data: [UInt8], _ timestamp: UInt32) -> VP8Depacketizer.Frame? {
            let payload = packetizer.packetize(data, maxPayloadSize: 1100)[0]
            return depacketizer.add(payload[...], timestamp: timestamp, marker: true, discontinuity: false)
        }
        XCTAssertNotNil(deliver(frame(true), 0))
        XCTAssertNotNil(deliver(frame(false), 3000))
        _ = packetizer.packetize([1], maxPayloadSize: 1100)  // PictureID 102 is lost whole
        XCTAssertNil(deliver(frame(false), 9000), "103 follows 101: its reference is missing")
        XCTAssertTrue(depacketizer.waitingForKeyFrame)
        XCTAssertNotNil(deliver(frame(true), 12000))
    }

    /// The captured 10 s consumer stream (with its upstream gaps and RTX answers): through the
    /// jitter buffer and the depacketizer, frames come out whole and key frames where expected.
    func testCapturedStreamThroughJitterBuffer() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "stream-vp8-consumer", withExtension: "pkts", subdirectory: "Fixtures"))
        let bytes = Array(try Data(contentsOf: url))
        var reader = ByteReader(bytes, what: "pkts")
        var buffer = JitterBuffer<RTPPacket>(maxWait: 0.3)
        var depacketizer = FrameAssembler(VP8Depacketizer())
        var frames: [VP8Depacketizer.Frame] = []
        var ssrc: UInt32?
        while !reader.isAtEnd {
            let ms = Double(try reader.u32()) / 1000
            let packet = try RTPPacket(parsing: Array(try reader.take(Int(try reader.u16()))))
            guard packet.payloadType == 101 else { continue }  // RTX answered NACKs of the capture's listener
            ssrc = ssrc ?? packet.ssrc
            buffer.insert(packet, sequenceNumber: packet.sequenceNumber, arrival: ms)
            for out in buffer.pop(now: ms) {
                if let frame = depacketizer.add(out.element.payload, timestamp: out.element.timestamp, marker: out.element.marker,
                                                discontinuity: out.discontinuity) {
                    frames.append(frame)
                }
            }
        }
        for out in buffer.pop(now: .infinity) {
            if let frame = depacketizer.add(out.element.payload, timestamp: out.element.timestamp, marker: out.element.marker,
                                            discontinuity: out.discontinuity) { frames.append(frame) }
        }
        XCTAssertGreaterThan(buffer.lost, 0, "the capture has upstream losses")
        XCTAssertTrue(frames.first?.isKeyFrame == true)
        // The capture's sender (ffmpeg) never retransmits: after a loss the stream is undecodable
        // until the next key frame (every 2 s, or on request), and those frames must not be emitted.
        XCTAssertGreaterThan(frames.count, 40)
        XCTAssertGreaterThan(depacketizer.framesDropped, 100)
        XCTAssertEqual(frames.filter(\.isKeyFrame).compactMap(\.width).first, 320)
        XCTAssertTrue(zip(frames, frames.dropFirst()).allSatisfy { Int32(bitPattern: $1.timestamp &- $0.timestamp) > 0 }, "in order")
    }

    /// Packets that share a timestamp and never set the marker: the frame is capped, dropped,
    /// counted, and the depacketizer waits for the next key frame.
    func testAFrameThatNeverEndsIsCapped() {
        var depacketizer = FrameAssembler(VP8Depacketizer())
        let keyStart: [UInt8] = [0x10, 0x00, 0, 0, 0x9D, 0x01, 0x2A, 64, 0, 48, 0] + [UInt8](repeating: 7, count: 1089)
        let continuation: [UInt8] = [0x00] + [UInt8](repeating: 7, count: 1099)
        XCTAssertTrue(depacketizer.add(keyStart[...], timestamp: 1, marker: false, discontinuity: false) == nil)
        for _ in 0..<5000 {
            XCTAssertTrue(depacketizer.add(continuation[...], timestamp: 1, marker: false, discontinuity: false) == nil)
        }
        XCTAssertLessThanOrEqual(depacketizer.depacketizer.bufferedBytes, VP8Depacketizer.maxFrameSize)
        XCTAssertTrue(depacketizer.add(continuation[...], timestamp: 1, marker: true, discontinuity: false) == nil)
        XCTAssertEqual(depacketizer.depacketizer.oversizedFrames, 1)
        XCTAssertEqual(depacketizer.framesDropped, 1, "counted once")
        XCTAssertTrue(depacketizer.waitingForKeyFrame)
        let delta: [UInt8] = [0x10, 0x01, 0, 0]
        XCTAssertTrue(depacketizer.add(delta[...], timestamp: 2, marker: true, discontinuity: false) == nil, "waits for a key frame")
        let key = depacketizer.add(keyStart[...], timestamp: 3, marker: true, discontinuity: false)
        XCTAssertEqual(key?.isKeyFrame, true)
        XCTAssertEqual(key?.width, 64)
    }

    /// A frame whose first packet does not start partition 0 lost its start without a sequence
    /// gap showing: it is dropped, and what follows waits for a key frame (it references it).
    func testAFrameWithoutItsStartWaitsForAKeyFrame() {
        var depacketizer = FrameAssembler(VP8Depacketizer())
        let key: [UInt8] = [0x10, 0x00, 0, 0, 0x9D, 0x01, 0x2A, 64, 0, 48, 0]
        XCTAssertEqual(depacketizer.add(key[...], timestamp: 1, marker: true, discontinuity: false)?.isKeyFrame, true)
        let continuation: [UInt8] = [0x00, 0x01, 0, 0]
        XCTAssertNil(depacketizer.add(continuation[...], timestamp: 2, marker: false, discontinuity: false))
        XCTAssertTrue(depacketizer.waitingForKeyFrame, "said when the start is found missing, before the marker")
        XCTAssertNil(depacketizer.add(continuation[...], timestamp: 2, marker: true, discontinuity: false))
        XCTAssertEqual(depacketizer.framesDropped, 1)
        let delta: [UInt8] = [0x10, 0x01, 0, 0]
        XCTAssertNil(depacketizer.add(delta[...], timestamp: 3, marker: true, discontinuity: false), "its reference was lost")
        XCTAssertEqual(depacketizer.add(key[...], timestamp: 4, marker: true, discontinuity: false)?.width, 64)
    }

    /// A payload whose descriptor does not read is counted as malformed and loses its frame,
    /// as in the other codecs; its marker still ends that frame.
    func testAnUnreadableDescriptorIsCountedAndLosesItsFrame() {
        var depacketizer = FrameAssembler(VP8Depacketizer())
        let key: [UInt8] = [0x10, 0x00, 0, 0, 0x9D, 0x01, 0x2A, 64, 0, 48, 0]
        XCTAssertNil(depacketizer.add(key[...], timestamp: 1, marker: false, discontinuity: false))
        XCTAssertNil(depacketizer.add([0x80][...], timestamp: 1, marker: true, discontinuity: false), "X set, its byte missing")
        XCTAssertEqual(depacketizer.malformedPackets, 1)
        XCTAssertEqual(depacketizer.framesDropped, 1)
        XCTAssertNotNil(depacketizer.lastError)
        XCTAssertEqual(depacketizer.add(key[...], timestamp: 1, marker: true, discontinuity: false)?.isKeyFrame, true,
                       "a new frame, though at the same timestamp")
    }
}
