import Media
import MediaFormat
import RTP
import XCTest

final class OutboundStreamTests: XCTestCase {
    private func stream(rtx: Bool, codec: MediaCodec = .vp8, maxPayloadSize: Int = 1100) -> OutboundStream {
        var configuration = OutboundStream.Configuration(ssrc: 1111, payloadType: 101, clockRate: 90000, codec: codec)
        if rtx { configuration.rtx = (2222, 102) }
        configuration.mid = "1"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        configuration.transportSequenceExtensionId = 5
        configuration.historySize = 8
        configuration.maxPayloadSize = maxPayloadSize
        return OutboundStream(configuration: configuration)
    }

    /// What `send` hands out, parsed back.
    private func send(_ stream: OutboundStream, _ frame: [UInt8], timestamp: UInt32 = 9000, transportSequence: inout UInt16,
                      now: Double = 2) throws -> [RTPPacket] {
        var packets: [[UInt8]] = []
        stream.send(frame: frame, timestamp: timestamp, captureTime: 1, isKeyFrame: true, transportSequence: &transportSequence,
                    now: now) { packets.append(Array($0)) }
        return try packets.map { try RTPPacket(parsing: $0) }
    }

    func testVP8PacketsCarryDescriptorHeaderExtensionsAndMarker() throws {
        let stream = stream(rtx: false, maxPayloadSize: 4 + 2)
        var twcc: UInt16 = 65535
        let packets = try send(stream, [1, 2, 3, 4, 5, 6], transportSequence: &twcc)
        XCTAssertEqual(packets.map(\.marker), [false, false, true])
        XCTAssertEqual(Set(packets.map(\.timestamp)), [9000])
        XCTAssertEqual(packets[1].sequenceNumber, packets[0].sequenceNumber &+ 1)
        XCTAssertEqual(packets[0].extensionElement(1).map(Array.init), Array("1".utf8))
        XCTAssertEqual(packets[0].extensionElement(5).map(Array.init), [0xFF, 0xFF])
        XCTAssertEqual(packets[1].extensionElement(5).map(Array.init), [0x00, 0x00], "transport-wide sequence wraps")
        XCTAssertEqual(packets[0].extensionElement(4).map(Array.init), [0x08, 0x00, 0x00], "abs-send-time 2.0 s in 6.18")
        XCTAssertEqual(twcc, 2)
        // RFC 7741: S on the first packet only, the same 15-bit PictureID on all, then the frame.
        XCTAssertEqual(packets[0].payload.prefix(2), [0x90, 0x80])
        XCTAssertEqual(packets[1].payload.prefix(2), [0x80, 0x80])
        XCTAssertEqual(Set(packets.map { Array($0.payload.dropFirst(2).prefix(2)) }).count, 1)
        XCTAssertEqual(packets.flatMap { $0.payload.dropFirst(4) }, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(stream.packetsSent, 3)
        XCTAssertEqual(stream.octetsSent, 18, "payload octets, descriptors included")
    }

    /// abs-capture-time: the frame's capture time (NTP Q32.32) in its first packet only; none
    /// when not negotiated; retransmissions carry none of their own.
    func testCaptureTimeRidesInTheFirstPacketOfEachFrame() throws {
        var configuration = OutboundStream.Configuration(ssrc: 1111, payloadType: 101, clockRate: 90000, codec: .vp8)
        configuration.absCaptureTimeExtensionId = 13
        configuration.maxPayloadSize = 4 + 2
        let stream = OutboundStream(configuration: configuration)
        var twcc: UInt16 = 0
        var bytes: [[UInt8]] = []
        let ntp: UInt64 = 0xEEC1_1E40_8000_0000
        stream.send(frame: [1, 2, 3, 4, 5, 6], timestamp: 9000, captureTime: 1, captureNTP: ntp, isKeyFrame: true,
                    transportSequence: &twcc, now: 2) { bytes.append(Array($0)) }
        let packets = try bytes.map { try RTPPacket(parsing: $0) }
        XCTAssertEqual(packets.count, 3)
        let first = try XCTUnwrap(packets[0].extensionElement(13))
        XCTAssertEqual(try AbsoluteCaptureTime(parsing: first), AbsoluteCaptureTime(captureTimestamp: ntp))
        XCTAssertNil(packets[1].extensionElement(13))
        XCTAssertNil(packets[2].extensionElement(13))
        // Not negotiated: nothing, whatever the caller passes.
        let plain = self.stream(rtx: false)
        var sent: [[UInt8]] = []
        plain.send(frame: [1, 2, 3], timestamp: 1, captureTime: 1, captureNTP: ntp, isKeyFrame: true, transportSequence: &twcc,
                   now: 2) { sent.append(Array($0)) }
        XCTAssertNil(try RTPPacket(parsing: sent[0]).extensionElement(13))
    }

    /// Packetizing sends nothing; each packet goes out later with the transport-wide
    /// sequence number and abs-send-time of the moment it is sent, once.
    func testStoredPacketsTakeTransportSequenceAndSendTimeWhenSent() throws {
        let stream = stream(rtx: false, maxPayloadSize: 4 + 2)
        var stored: [(UInt16, Int)] = []
        stream.packetize(frame: [1, 2, 3, 4, 5, 6], timestamp: 9000, captureTime: 1, isKeyFrame: true, now: 1) { stored.append(($0, $1)) }
        XCTAssertEqual(stored.count, 3)
        XCTAssertEqual(stream.packetsSent, 0)
        XCTAssertNil(stream.senderReport(now: 1, ntp: 1), "nothing sent yet")
        var twcc: UInt16 = 10
        var out: [RTPPacket] = []
        XCTAssertEqual(stream.emit(sequenceNumber: stored[1].0, transportSequence: &twcc, now: 2) { out.append(try! RTPPacket(parsing: Array($0))) },
                       stored[1].1)
        XCTAssertEqual(stream.emit(sequenceNumber: stored[0].0, transportSequence: &twcc, now: 2.5) { out.append(try! RTPPacket(parsing: Array($0))) },
                       stored[0].1)
        XCTAssertEqual(out.map(\.sequenceNumber), [stored[1].0, stored[0].0])
        XCTAssertEqual(out[0].extensionElement(5).map(Array.init), [0, 10])
        XCTAssertEqual(out[1].extensionElement(5).map(Array.init), [0, 11])
        XCTAssertEqual(out[0].extensionElement(4).map(Array.init), [0x08, 0x00, 0x00], "abs-send-time 2.0 s, not the 1.0 of packetizing")
        XCTAssertEqual(out[1].extensionElement(4).map(Array.init), [0x0A, 0x00, 0x00], "2.5 s")
        XCTAssertEqual(twcc, 12)
        XCTAssertNil(stream.emit(sequenceNumber: stored[1].0, transportSequence: &twcc, now: 3) { _ in XCTFail("sent twice") })
        XCTAssertEqual(stream.packetsSent, 2)
        XCTAssertNil(stream.requestRetransmission(stored[2].0, now: 3), "never sent: nothing to repair")
        XCTAssertNotNil(stream.requestRetransmission(stored[0].0, now: 3))
    }

    /// A packet the history overwrites before it is sent is dropped and counted.
    func testAPacketEvictedBeforeItIsSentIsDroppedAndCounted() throws {
        let stream = stream(rtx: false, maxPayloadSize: 4 + 1)  // 8 slots, one byte of frame per packet
        var stored: [UInt16] = []
        stream.packetize(frame: Array(1...10), timestamp: 1, captureTime: 1, isKeyFrame: true, now: 1) { sequence, _ in stored.append(sequence) }
        XCTAssertEqual(stored.count, 10)
        XCTAssertEqual(stream.packetsEvicted, 2)
        var twcc: UInt16 = 0
        XCTAssertNil(stream.emit(sequenceNumber: stored[0], transportSequence: &twcc, now: 2) { _ in XCTFail("evicted") })
        XCTAssertNil(stream.emit(sequenceNumber: stored[1], transportSequence: &twcc, now: 2) { _ in XCTFail("evicted") })
        var payloads: [[UInt8]] = []
        for sequence in stored.dropFirst(2) {
            stream.emit(sequenceNumber: sequence, transportSequence: &twcc, now: 2) { payloads.append(Array(try! RTPPacket(parsing: Array($0)).payload.dropFirst(4))) }
        }
        XCTAssertEqual(payloads, (3...10).map { [UInt8($0)] })
        XCTAssertEqual(twcc, 8, "the dropped ones took no transport-wide number")
    }

    /// Probe padding on the RTX SSRC: an RTX copy of the packet sent last when that is about
    /// the size asked, else a padding-only packet (P bit); none without RTX.
    func testPaddingIsRTXOfTheLastPacketOrPaddingOnly() throws {
        let stream = stream(rtx: true)
        var twcc: UInt16 = 0
        XCTAssertEqual(stream.emitPadding(bytes: 200, transportSequence: &twcc, now: 1) { _ in XCTFail("nothing sent yet") }, 0)
        let sent = try send(stream, Array(repeating: 7, count: 500), transportSequence: &twcc, now: 1)
        var out: [RTPPacket] = []
        let copy = stream.emitPadding(bytes: 400, transportSequence: &twcc, now: 2) { out.append(try! RTPPacket(parsing: Array($0))) }
        let small = stream.emitPadding(bytes: 100, transportSequence: &twcc, now: 2) { out.append(try! RTPPacket(parsing: Array($0))) }
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out.map(\.ssrc), [2222, 2222])
        XCTAssertEqual(Array(out[0].payload.dropFirst(2)), Array(sent[0].payload), "RTX of the packet sent last")
        XCTAssertGreaterThan(copy, 500)
        XCTAssertTrue(out[1].payload.isEmpty, "padding only")
        XCTAssertEqual(out[1].paddingLength, 100 - 28, "the rest of 100 bytes after a 28-byte header")
        XCTAssertEqual(small, 100)
        XCTAssertEqual(out.map { $0.extensionElement(5).map(Array.init) }, [[0, 1], [0, 2]], "each takes a transport-wide number")
        XCTAssertEqual(stream.paddingPackets, 2)
        XCTAssertEqual(stream.retransmissions, 0, "padding is no repair")
        XCTAssertEqual(self.stream(rtx: false).emitPadding(bytes: 100, transportSequence: &twcc, now: 2) { _ in }, 0)
    }

    func testNACKAnsweredWithRTX() throws {
        let stream = stream(rtx: true, maxPayloadSize: 4 + 2)
        var twcc: UInt16 = 0
        let sent = try send(stream, [10, 11, 12], timestamp: 3000, transportSequence: &twcc)
        var resent: [RTPPacket] = []
        stream.retransmit([sent[1].sequenceNumber, sent[0].sequenceNumber &- 100], transportSequence: &twcc, now: 0) {
            resent.append(try! RTPPacket(parsing: Array($0)))
        }
        XCTAssertEqual(resent.count, 1, "what is not in the history is not resent")
        let rtx = try XCTUnwrap(resent.first)
        XCTAssertEqual(rtx.ssrc, 2222)
        XCTAssertEqual(rtx.payloadType, 102)
        XCTAssertEqual(rtx.timestamp, 3000)
        XCTAssertTrue(rtx.marker)
        // RFC 4588: original sequence number, then the original payload (VP8 descriptor and data).
        let osn = sent[1].sequenceNumber
        XCTAssertEqual(Array(rtx.payload.prefix(2)), [UInt8(osn >> 8), UInt8(osn & 0xFF)])
        XCTAssertEqual(Array(rtx.payload.dropFirst(2)), Array(sent[1].payload))
        XCTAssertEqual(stream.retransmissions, 1)
    }

    /// A packet sent (or resent) less than `minInterval` ago is not resent; it is counted.
    func testResendingWaitsAtLeastTheGivenInterval() throws {
        let stream = stream(rtx: true)
        var twcc: UInt16 = 0
        let original = try send(stream, [1, 2, 3], transportSequence: &twcc, now: 10)
        let sequence = original[0].sequenceNumber
        var out = 0
        stream.retransmit([sequence], transportSequence: &twcc, now: 10.05, minInterval: 0.1) { _ in out += 1 }
        XCTAssertEqual(out, 0, "sent 50 ms ago")
        stream.retransmit([sequence], transportSequence: &twcc, now: 10.11, minInterval: 0.1) { _ in out += 1 }
        XCTAssertEqual(out, 1)
        stream.retransmit([sequence, sequence], transportSequence: &twcc, now: 10.3, minInterval: 0.1) { _ in out += 1 }
        XCTAssertEqual(out, 2, "twice in one NACK is once")
        stream.retransmit([sequence], transportSequence: &twcc, now: 10.3) { _ in out += 1 }
        XCTAssertEqual(out, 3, "no interval: answered every time, as before")
        XCTAssertEqual(stream.retransmissions, 3)
        XCTAssertEqual(stream.retransmissionsSuppressed, 2)
    }

    func testWithoutRTXTheOriginalIsResentAndHistoryIsBounded() throws {
        let stream = stream(rtx: false, codec: .opus)
        var twcc: UInt16 = 0
        let first = try XCTUnwrap(try send(stream, [1], transportSequence: &twcc).first)
        var resent: [[UInt8]] = []
        stream.retransmit([first.sequenceNumber], transportSequence: &twcc, now: 3) { resent.append(Array($0)) }
        let again = try XCTUnwrap(try resent.map { try RTPPacket(parsing: $0) }.first)
        XCTAssertEqual(again.sequenceNumber, first.sequenceNumber)
        XCTAssertEqual(again.timestamp, first.timestamp)
        XCTAssertEqual(again.payload, first.payload)
        // A resend is a new packet on the transport: its own transport-wide sequence number and send time.
        XCTAssertEqual(first.extensionElement(5).map(Array.init), [0, 0])
        XCTAssertEqual(again.extensionElement(5).map(Array.init), [0, 1])
        XCTAssertEqual(again.extensionElement(4).map(Array.init), [0x0C, 0x00, 0x00], "abs-send-time 3.0 s")
        for _ in 0..<8 { _ = try send(stream, [2], transportSequence: &twcc) }
        resent = []
        stream.retransmit([first.sequenceNumber], transportSequence: &twcc, now: 0) { resent.append(Array($0)) }
        XCTAssertEqual(resent, [], "pushed out of the 8-packet history")
    }

    func testOpusIsOnePacketWithItsAudioLevel() throws {
        var configuration = OutboundStream.Configuration(ssrc: 5, payloadType: 100, clockRate: 48000, codec: .opus)
        configuration.audioLevelExtensionId = 10
        let stream = OutboundStream(configuration: configuration)
        var twcc: UInt16 = 0
        var packets: [RTPPacket] = []
        stream.send(frame: [0xFC, 1, 2], timestamp: 960, captureTime: 0, isKeyFrame: true, audioLevel: -30,
                    transportSequence: &twcc, now: 0) { packets.append(try! RTPPacket(parsing: Array($0))) }
        XCTAssertEqual(packets.count, 1)
        XCTAssertEqual(Array(packets[0].payload), [0xFC, 1, 2])
        XCTAssertFalse(packets[0].marker)
        XCTAssertEqual(packets[0].extensionElement(10).map(Array.init), [0x80 | 30], "voice, -30 dBov")
    }

    func testSenderReportExtrapolatesRTPTime() throws {
        let stream = stream(rtx: false, codec: .opus)
        XCTAssertNil(stream.senderReport(now: 0, ntp: 0), "nothing sent yet")
        var twcc: UInt16 = 0
        stream.send(frame: [1, 2, 3], timestamp: 90000, captureTime: 10, isKeyFrame: true, transportSequence: &twcc, now: 10) { _ in }
        let report = try XCTUnwrap(stream.senderReport(now: 10.5, ntp: 0xABCD_0000_0000))
        XCTAssertEqual(report.rtpTimestamp, 90000 + 45000)
        XCTAssertEqual(report.packetCount, 1)
        XCTAssertEqual(report.octetCount, 3)
        XCTAssertEqual(report.ntpTimestamp, 0xABCD_0000_0000)
    }
}
