import Media
import RTP
import XCTest

/// One received stream without sockets: the captured mediasoup VP8 consumer stream (with RTX
/// and its upstream losses) through routing, jitter buffer, reassembly and the repair policy.
final class InboundStreamTests: XCTestCase {
    private func vp8Stream() -> InboundStream {
        var configuration = InboundStream.Configuration(ssrc: 0, payloadType: 101, clockRate: 90000, codec: .vp8)
        configuration.rtx = (0, 102)
        return InboundStream(configuration: configuration)
    }

    /// The captured stream, its media and RTX SSRCs.
    private func captured() throws -> (media: [RTPPacket], rtx: [RTPPacket]) {
        let packets = try MediaFixture.records("stream-vp8-consumer.pkts").map(\.packet)
        let media = packets.filter { $0.payloadType == 101 }
        return (media, packets.filter { $0.payloadType == 102 })
    }

    private func stream(for media: [RTPPacket], rtx: [RTPPacket]) -> InboundStream {
        var configuration = InboundStream.Configuration(ssrc: media[0].ssrc, payloadType: 101, clockRate: 90000, codec: .vp8)
        if let first = rtx.first { configuration.rtx = (first.ssrc, 102) }
        return InboundStream(configuration: configuration)
    }

    func testCapturedStreamReassemblesInOrder() throws {
        let (media, rtx) = try captured()
        let stream = stream(for: media, rtx: rtx)
        var frames: [InboundStream.Frame] = []
        var now = 1.0
        for packet in media {
            now += 0.003
            stream.receive(packet, size: packet.serializedSize, arrival: now) { frames.append($0) }
        }
        _ = stream.tick(now: now + 1) { frames.append($0) }
        // The reference: the depacketizer fed in sequence order, a discontinuity at each of
        // the capture's upstream losses (nobody retransmitted them).
        var reference = FrameAssembler(VP8Depacketizer())
        var expected = 0
        for (previous, packet) in zip([nil] + media.map(Optional.some), media) {
            let gap = previous.map { packet.sequenceNumber != $0.sequenceNumber &+ 1 } ?? false
            if reference.add(packet.payload, timestamp: packet.timestamp, marker: packet.marker, discontinuity: gap) != nil { expected += 1 }
        }
        XCTAssertGreaterThan(expected, 50)
        XCTAssertEqual(frames.count, expected)
        XCTAssertTrue(frames[0].isKeyFrame, "whole frames from a key frame on")
        XCTAssertEqual([frames[0].width, frames[0].height], [320, 240])
        let timestamps = frames.map(\.rtpTimestamp)
        XCTAssertTrue(zip(timestamps, timestamps.dropFirst()).allSatisfy { Int32(bitPattern: $1 &- $0) > 0 }, "in order")
        XCTAssertEqual(stream.counters.frames, frames.count)
        XCTAssertEqual(stream.statistics.packetsReceived, media.count)
    }

    /// Frames packetized by `OutboundStream` (a key frame, then deltas), several packets each.
    private func sentPackets(frames: Int, sender: OutboundStream) throws -> [RTPPacket] {
        var packets: [RTPPacket] = []
        var twcc: UInt16 = 0
        for n in 0..<frames {
            let frame: [UInt8] = n == 0 ? [0x00, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 7, count: 20)
                                        : [0x01] + [UInt8](repeating: UInt8(n), count: 25)
            sender.send(frame: frame, timestamp: UInt32(n * 3000), captureTime: Double(n) / 30, isKeyFrame: n == 0,
                        transportSequence: &twcc, now: 0) { packets.append(try! RTPPacket(parsing: Array($0))) }
        }
        return packets
    }

    /// Reordered packets come out in order; a missing packet is NACKed, and the sender's RTX
    /// fills the gap before the wait is over, so no frame is lost.
    func testGapIsNACKedAndFilledByRTX() throws {
        var sending = OutboundStream.Configuration(ssrc: 77, payloadType: 101, clockRate: 90000, codec: .vp8)
        sending.rtx = (78, 102)
        sending.maxPayloadSize = 14
        let sender = OutboundStream(configuration: sending)
        let packets = try sentPackets(frames: 10, sender: sender)
        XCTAssertGreaterThan(packets.count, 20)
        var configuration = InboundStream.Configuration(ssrc: 77, payloadType: 101, clockRate: 90000, codec: .vp8)
        configuration.rtx = (78, 102)
        let stream = InboundStream(configuration: configuration)
        var frames: [InboundStream.Frame] = []
        let held = packets[7]
        var now = 1.0
        for (index, packet) in packets.enumerated() where index != 7 {
            now += 0.001
            stream.receive(packet, size: packet.serializedSize, arrival: now) { frames.append($0) }
        }
        let feedback = stream.tick(now: now + 0.01) { frames.append($0) }
        XCTAssertEqual(feedback.nack, [held.sequenceNumber])
        let before = frames.count
        var twcc: UInt16 = 0
        sender.retransmit(feedback.nack, transportSequence: &twcc, now: 0) { bytes in
            let rtx = try! RTPPacket(parsing: Array(bytes))
            XCTAssertEqual(rtx.ssrc, 78)
            stream.receive(rtx, size: bytes.count, arrival: now + 0.05) { frames.append($0) }
        }
        XCTAssertEqual(stream.counters.retransmissions, 1)
        XCTAssertGreaterThan(frames.count, before, "the frames behind the gap came out")
        XCTAssertEqual(stream.tick(now: now + 0.1) { frames.append($0) }.nack, [], "nothing left to ask for")
        XCTAssertEqual(frames.count, 10, "every frame, the key frame first")
        XCTAssertTrue(frames[0].isKeyFrame)
        XCTAssertEqual(frames.map(\.rtpTimestamp), (0..<10).map { UInt32($0 * 3000) })
    }

    private func vp8StreamFor(_ media: [RTPPacket]) -> InboundStream {
        var configuration = InboundStream.Configuration(ssrc: media[0].ssrc, payloadType: 101, clockRate: 90000, codec: .vp8)
        configuration.rtx = (0xABCD, 102)
        return InboundStream(configuration: configuration)
    }

    /// A gap retransmission did not fill is given up; video waits for a key frame and asks
    /// for one (at most once a second), never while paused.
    func testUnrepairedGapAsksForAKeyFrame() throws {
        let (media, _) = try captured()
        let stream = vp8StreamFor(media)
        var frames = 0
        for (index, packet) in media.prefix(60).enumerated() where index != 20 {  // plus the capture's own gaps
            stream.receive(packet, size: 0, arrival: 1) { _ in frames += 1 }
        }
        var feedback = stream.tick(now: 1.01) { _ in frames += 1 }
        XCTAssertFalse(feedback.keyFrameRequest, "the gap may still be repaired")
        feedback = stream.tick(now: 1.5) { _ in frames += 1 }
        XCTAssertTrue(stream.waitingForKeyFrame)
        XCTAssertTrue(feedback.keyFrameRequest)
        XCTAssertFalse(stream.tick(now: 1.6) { _ in }.keyFrameRequest, "not again within a second")
        stream.paused = true
        XCTAssertFalse(stream.tick(now: 3) { _ in }.keyFrameRequest, "a paused producer sends nothing to ask for")
        stream.paused = false
        XCTAssertTrue(stream.tick(now: 3.1) { _ in }.keyFrameRequest)
    }

    /// Packets of another SSRC, RTX without its sequence number, and packets too large for a
    /// slot are counted, never stored.
    func testForeignAndMalformedPacketsAreDiscarded() {
        let stream = vp8Stream()
        let foreign = RTPPacket(payloadType: 101, sequenceNumber: 1, timestamp: 0, ssrc: 5, payload: [1])
        let shortRTX = RTPPacket(payloadType: 102, sequenceNumber: 1, timestamp: 0, ssrc: 0, payload: [1])
        var configuration = InboundStream.Configuration(ssrc: 9, payloadType: 101, clockRate: 90000, codec: .vp8)
        configuration.rtx = (10, 102)
        let other = InboundStream(configuration: configuration)
        other.receive(foreign, size: 13, arrival: 0) { _ in XCTFail() }
        let huge = RTPPacket(payloadType: 101, sequenceNumber: 1, timestamp: 0, ssrc: 9,
                             payload: ArraySlice(repeating: 0, count: InboundStream.slotSize + 1))
        other.receive(huge, size: huge.serializedSize, arrival: 0) { _ in XCTFail() }
        let rtx = RTPPacket(payloadType: 102, sequenceNumber: 1, timestamp: 0, ssrc: 10, payload: [1])
        other.receive(rtx, size: 13, arrival: 0) { _ in XCTFail() }
        XCTAssertEqual(other.counters.discarded, 3)
        _ = (stream, shortRTX)
    }

    /// Audio: every packet in order is a frame; without a recorder nothing is copied out.
    func testOpusPacketsAreFrames() {
        let configuration = InboundStream.Configuration(ssrc: 1, payloadType: 100, clockRate: 48000, codec: .opus)
        let recorded = InboundStream(configuration: configuration)
        let counted = InboundStream(configuration: configuration, deliversAudio: false)
        var frames: [[UInt8]] = []
        for seq: UInt16 in [1, 3, 2] {
            let packet = RTPPacket(payloadType: 100, sequenceNumber: seq, timestamp: UInt32(seq) * 960, ssrc: 1, payload: [UInt8(seq)])
            recorded.receive(packet, size: 13, arrival: 0) { frames.append($0.data) }
            counted.receive(packet, size: 13, arrival: 0) { _ in XCTFail("no recorder: nothing handed out") }
        }
        XCTAssertEqual(frames, [[1], [2], [3]])
        XCTAssertEqual(counted.counters.frames, 3)
    }

    /// End-to-end delay comes from abs-capture-time only: a sender report maps RTP time to the
    /// SFU's clock (mediasoup writes its own), so it says nothing about capture. Issue 16: real
    /// mediasoup runs printed 19995 ms for every subscriber from such a mapping.
    func testDelayComesFromCaptureTimeNotFromSenderReports() throws {
        var configuration = InboundStream.Configuration(ssrc: 1, payloadType: 100, clockRate: 48000, codec: .opus)
        configuration.absCaptureTimeExtensionId = 13
        let stream = InboundStream(configuration: configuration, deliversAudio: false)
        // Monotonic 1000 s is NTP 4,005,633,600 s (2026-12-07 12:00 UTC).
        stream.monotonicToNTP = 4_005_633_600 - 1000
        // A sender report from the SFU's clock, 20 s away from the capture clock: ignored.
        stream.senderReport(SenderReport(ssrc: 1, ntpTimestamp: UInt64(4_005_633_620) << 32, rtpTimestamp: 0,
                                         packetCount: 0, octetCount: 0), arrival: 999)
        func packet(_ seq: UInt16, capturedAt ntp: Double?) -> RTPPacket {
            let timestamp = UInt32(seq) * 960
            let element = ntp.map { AbsoluteCaptureTime(captureTimestamp: UInt64($0 * 4_294_967_296)).serialize() }
            return RTPPacket(payloadType: 100, sequenceNumber: seq, timestamp: timestamp, ssrc: 1,
                             headerExtension: element.map { RTPHeaderExtension(elements: [.init(id: 13, data: $0[...])]) },
                             payload: [1])
        }
        // Before any capture time: no delay at all.
        stream.receive(packet(1, capturedAt: nil), size: 20, arrival: 1000.02) { _ in }
        XCTAssertEqual(stream.takeDelays(), [])
        // Packet 2 captured at 12:00:00.020, arriving 30 ms later; packet 3 (20 ms of RTP time
        // after it, no capture time of its own) 45 ms after its capture.
        stream.receive(packet(2, capturedAt: 4_005_633_600.020), size: 20, arrival: 1000.050) { _ in }
        stream.receive(packet(3, capturedAt: nil), size: 20, arrival: 1000.085) { _ in }
        let delays = stream.takeDelays()
        XCTAssertEqual(delays.count, 2)
        XCTAssertEqual(delays[0], 0.030, accuracy: 0.0005)
        XCTAssertEqual(delays[1], 0.045, accuracy: 0.0005)
    }

    /// Not negotiated: the element is not looked at, and there is no delay.
    func testWithoutTheExtensionThereIsNoDelay() {
        let configuration = InboundStream.Configuration(ssrc: 1, payloadType: 100, clockRate: 48000, codec: .opus)
        let stream = InboundStream(configuration: configuration, deliversAudio: false)
        stream.monotonicToNTP = 0
        let element = AbsoluteCaptureTime(captureTimestamp: 1 << 32).serialize()
        stream.receive(RTPPacket(payloadType: 100, sequenceNumber: 1, timestamp: 0, ssrc: 1,
                                 headerExtension: RTPHeaderExtension(elements: [.init(id: 13, data: element[...])]), payload: [1]),
                       size: 20, arrival: 2) { _ in }
        XCTAssertEqual(stream.takeDelays(), [])
    }

    /// Sequence order and RTP time disagree (a confused or hostile sender): the frame that
    /// goes back in time is dropped; after a gap given up, time may start over (a sender that
    /// restarted). The fuzzer found frames handed out backwards in time.
    func testFramesGoOutInRTPTimeOrderUntilAGapIsGivenUp() {
        let stream = InboundStream(configuration: InboundStream.Configuration(ssrc: 1, payloadType: 100, clockRate: 48000,
                                                                             codec: .opus))
        var frames: [(data: UInt8, followsGap: Bool)] = []
        func send(_ seq: UInt16, _ timestamp: UInt32, at arrival: Double) {
            let packet = RTPPacket(payloadType: 100, sequenceNumber: seq, timestamp: timestamp, ssrc: 1, payload: [UInt8(seq)])
            stream.receive(packet, size: 13, arrival: arrival) { frames.append(($0.data[0], $0.followsGap)) }
        }
        send(1, 9600, at: 0)
        send(2, 960, at: 0.02)  // behind the first: dropped
        send(3, 10560, at: 0.04)
        send(5, 100, at: 0.06)  // 4 is missing: held
        _ = stream.tick(now: 0.2) { frames.append(($0.data[0], $0.followsGap)) }  // 4 given up
        send(6, 1060, at: 0.22)
        XCTAssertEqual(frames.map(\.data), [1, 3, 5, 6])
        XCTAssertEqual(frames.map(\.followsGap), [false, false, true, false])
        XCTAssertEqual(stream.counters.framesOutOfOrder, 1)
    }

    /// Packet memory follows what waits, not the buffer's span: in order one block is reused
    /// for every packet; packets held behind a gap take a block each, and come back.
    func testPacketMemoryGrowsOnlyWithWhatWaitsBehindAGap() {
        let stream = InboundStream(configuration: InboundStream.Configuration(ssrc: 1, payloadType: 100, clockRate: 48000,
                                                                             codec: .opus))
        var frames = 0
        func send(_ seq: UInt16, at arrival: Double) {
            let packet = RTPPacket(payloadType: 100, sequenceNumber: seq, timestamp: UInt32(seq) * 960, ssrc: 1,
                                   payload: ArraySlice(repeating: UInt8(truncatingIfNeeded: seq), count: 100))
            stream.receive(packet, size: 112, arrival: arrival) { frame in
                // Each frame carries its own packet's bytes, whichever block they waited in.
                XCTAssertEqual(frame.data, [UInt8](repeating: UInt8(truncatingIfNeeded: frame.rtpTimestamp / 960), count: 100))
                frames += 1
            }
        }
        for seq: UInt16 in 1...200 { send(seq, at: Double(seq) * 0.02) }
        XCTAssertEqual(frames, 200)
        XCTAssertEqual(stream.payloadBlocks, 1, "in order: one block, reused")
        // 202 is missing: 203...210 wait behind it, then it comes and all go out.
        for seq: UInt16 in [201] + Array(203...210) { send(seq, at: 4.1) }
        XCTAssertEqual(frames, 201)
        send(202, at: 4.12)
        XCTAssertEqual(frames, 210)
        XCTAssertEqual(stream.payloadBlocks, 9, "eight waited behind the gap, one more for the packet that filled it")
        for seq: UInt16 in 211...300 { send(seq, at: 4.2 + Double(seq - 211) * 0.02) }
        XCTAssertEqual(frames, 300)
        XCTAssertEqual(stream.payloadBlocks, 9, "blocks came back and were reused")
    }

    func testReportOnlyAfterTheFirstPacket() {
        let stream = vp8Stream()
        XCTAssertNil(stream.makeReport(now: 0))
        stream.receive(RTPPacket(payloadType: 101, sequenceNumber: 1, timestamp: 0, ssrc: 0, payload: [0x90, 0, 0, 0]), size: 16,
                       arrival: 0) { _ in }
        XCTAssertEqual(stream.makeReport(now: 1)?.extendedHighestSequence, 1)
    }

    /// Only key frames carry a size out of the stream, also for the last VP9 picture handed
    /// out by `finish` (its marker never came) though the depacketizer knows its size.
    func testAVP9DeltaPictureFlushedAtTheEndHasNoSize() throws {
        let records = try MediaFixture.records("stream-vp9-consumer.pkts")
        let key = records.filter { (14726...14730).contains($0.packet.sequenceNumber) }.flatMap { $0.packet.payload.dropFirst() }
        let inter = try XCTUnwrap(records.first { $0.packet.sequenceNumber == 14731 }).packet.payload.dropFirst()
        let ss: [UInt8] = [0x10, 0x01, 0x40, 0x00, 0xF0]  // one layer of 320x240
        // I (7-bit picture ID), B and E per packet, V with the SS on a picture's first packet.
        var payloads: [(payload: [UInt8], timestamp: UInt32, marker: Bool)] = []
        let chunks = stride(from: 0, to: key.count, by: 1000).map { Array(key[$0..<min($0 + 1000, key.count)]) }
        for (index, chunk) in chunks.enumerated() {
            let first = index == 0, last = index == chunks.count - 1
            let descriptor: [UInt8] = [0x80 | (first ? 0x0A : 0) | (last ? 0x04 : 0), 0x05] + (first ? ss : [])
            payloads.append((descriptor + chunk, 0, last))
        }
        payloads.append(([0x80 | 0x40 | 0x0E, 0x06] + ss + inter, 3000, false))
        let stream = InboundStream(configuration: InboundStream.Configuration(ssrc: 1, payloadType: 98, clockRate: 90000, codec: .vp9))
        var frames: [InboundStream.Frame] = []
        for (index, packet) in payloads.enumerated() {
            let rtp = RTPPacket(payloadType: 98, sequenceNumber: UInt16(index), timestamp: packet.timestamp, ssrc: 1, marker: packet.marker,
                                payload: packet.payload[...])
            stream.receive(rtp, size: rtp.serializedSize, arrival: 1 + Double(index) / 100) { frames.append($0) }
        }
        XCTAssertEqual(frames.map(\.isKeyFrame), [true])
        stream.finish { frames.append($0) }
        XCTAssertEqual(frames.map(\.isKeyFrame), [true, false], "the delta picture comes out at the end")
        XCTAssertEqual(frames.map(\.width), [320, nil])
        XCTAssertEqual(frames.map(\.height), [240, nil])
    }
}

final class I420DownscalerTests: XCTestCase {
    func testHalvesEachPlaneByAveragingBlocks() {
        // 4x4 luma 0...15, 2x2 chroma planes.
        let frame = VideoFrame(width: 4, height: 4, data: Array(0..<16) + [10, 20, 30, 40] + [50, 60, 70, 80], captureTime: 3)
        var scaler = I420Downscaler(sourceWidth: 4, sourceHeight: 4, factor: 2)
        let small = scaler.scale(frame)
        XCTAssertEqual([small.width, small.height], [2, 2])
        // Luma blocks: (0,1,4,5) → 2.5 ≈ 3, (2,3,6,7) → 4.5 ≈ 5, (8,9,12,13) → 11, (10,11,14,15) → 13.
        XCTAssertEqual(Array(small.data.prefix(4)), [3, 5, 11, 13])
        XCTAssertEqual(Array(small.data.suffix(2)), [25, 65], "one chroma sample per plane: the means")
        XCTAssertEqual(small.captureTime, 3)
    }
}
