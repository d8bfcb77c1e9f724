import ORTC
import RTP
import XCTest

@testable import Participant

/// The send engine without sockets: frames and feedback in, packets and encoder commands out.
final class SendEngineTests: XCTestCase {
    /// VP8 at 101 with RTX at 102; one encoding per SSRC given (simulcast when several).
    static func video(ssrcs: [UInt32]) -> RtpParameters {
        RtpParameters(
            mid: "1",
            codecs: [RtpCodecParameters(mimeType: "video/VP8", payloadType: 101, clockRate: 90000, rtcpFeedback: [.nack, .pli]),
                     RtpCodecParameters(mimeType: "video/rtx", payloadType: 102, clockRate: 90000, parameters: ["apt": .int(101)])],
            encodings: ssrcs.map { RtpEncodingParameters(ssrc: $0, rtx: .init(ssrc: $0 + 100), maxBitrate: 400_000) })
    }

    static let keyFrame: [UInt8] = [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00] + Array(repeating: 0xAB, count: 3000)

    private func packets(_ body: ((UnsafeRawBufferPointer) -> Void) -> Void) -> [RTPPacket] {
        var out: [RTPPacket] = []
        body { out.append(try! RTPPacket(parsing: Array($0))) }
        return out
    }

    func testFramesBecomePacketsWithRTPTimeFromCaptureTime() throws {
        let engine = SendEngine(cname: "c")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 500_000, timestampBase: 7))
        let first = packets { engine.send(.init(payload: Self.keyFrame, captureTime: 10, isKeyFrame: true), producer: producer, now: 10, emit: $0) }
        let second = packets { engine.send(.init(payload: Self.keyFrame, captureTime: 10.5, isKeyFrame: true), producer: producer, now: 10.5, emit: $0) }
        XCTAssertEqual(first.count, 3, "3 kB in packets under the MTU")
        XCTAssertTrue(first.allSatisfy { $0.ssrc == 1000 && $0.payloadType == 101 && $0.timestamp == 7 })
        XCTAssertEqual(first.map(\.marker), [false, false, true])
        XCTAssertEqual(second.first?.timestamp, 7 + 45000, "half a second at 90 kHz")
        XCTAssertEqual(second.first?.sequenceNumber, first.last!.sequenceNumber &+ 1)
        XCTAssertEqual(engine.sent().first?.packets, 6)
        // A layer the producer does not send is not sent.
        XCTAssertFalse(engine.send(.init(payload: Self.keyFrame, captureTime: 11, isKeyFrame: true, layer: 3), producer: producer,
                                   now: 11, emit: { _ in XCTFail("sent") }))
    }

    /// An engine with one single-layer video producer (SSRC 1000, RTX 1100) that sent one key
    /// frame at time 1, and the packets of that frame.
    private func videoKeyFrameSent() throws -> (SendEngine, [RTPPacket]) {
        let engine = SendEngine(cname: "c")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 500_000))
        let sent = packets { engine.send(.init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: producer, now: 1, emit: $0) }
        return (engine, sent)
    }

    func testANackIsAnsweredOverRTXFromTheHistory() throws {
        let (engine, sent) = try videoKeyFrameSent()
        let lost = sent[1].sequenceNumber
        var commands: [SendEngine.EncoderCommand] = []
        let resent = packets { emit in
            commands = engine.receive([.nack(GenericNACK(senderSSRC: 9, mediaSSRC: 1000, lost: [lost, lost &+ 500]))], now: 1.1,
                                      ntp: 0, emit: emit)
        }
        XCTAssertTrue(commands.isEmpty)
        XCTAssertEqual(resent.count, 1, "only what the history holds")
        XCTAssertEqual(resent.first?.ssrc, 1100)
        XCTAssertEqual(resent.first?.payloadType, 102)
        XCTAssertEqual(Array(resent.first!.payload.prefix(2)), [UInt8(lost >> 8), UInt8(lost & 0xFF)], "the original sequence number first")
        XCTAssertEqual(Array(resent.first!.payload.dropFirst(2)), Array(sent[1].payload))
        XCTAssertEqual(engine.sent().first?.retransmissions, 1)
        XCTAssertEqual(engine.sent().first?.nacks, 1)
    }

    /// Issue 16: every NACK was answered every time it was asked, so a receiver repeating its
    /// NACKs (or a storm of them) multiplied what the link carried. A packet now goes out at
    /// most once per round trip, the round trip the SFU's receiver report gave.
    func testAPacketIsResentAtMostOncePerRoundTrip() throws {
        let (engine, sent) = try videoKeyFrameSent()
        let lost = sent[1].sequenceNumber
        // A receiver report giving a 200 ms round trip: LSR/DLSR against NTP 100 s.
        let ntp = UInt64(100) << 32
        let middle = UInt32(truncatingIfNeeded: ntp >> 16)
        let report = ReceptionReport(ssrc: 1000, lastSenderReport: middle - 13_107, delaySinceLastSenderReport: 0)
        _ = engine.receive([.receiverReport(ReceiverReport(ssrc: 9, reports: [report]))], now: 1.2, ntp: ntp) { _ in }
        func nack(at time: Double) -> Int {
            packets { emit in
                _ = engine.receive([.nack(GenericNACK(senderSSRC: 9, mediaSSRC: 1000, lost: [lost]))], now: time, ntp: ntp, emit: emit)
            }.count
        }
        XCTAssertEqual(nack(at: 1.25), 1, "sent 250 ms ago: resent")
        XCTAssertEqual(nack(at: 1.35), 0, "resent 100 ms ago, less than a round trip")
        XCTAssertEqual(nack(at: 1.40), 0)
        XCTAssertEqual(nack(at: 1.46), 1, "a round trip later: resent again")
        XCTAssertEqual(engine.sent().first?.retransmissions, 2)
    }

    /// Simulcast: feedback about one SSRC reaches that layer of the pipeline (a three-layer
    /// pipeline whose producer sends its top two layers starts at pipeline layer 1).
    func testKeyFrameRequestsAndTargetsReachTheirLayer() throws {
        let engine = SendEngine(cname: "c")
        _ = engine.add(producerId: "audio", kind: .audio, parameters: RtpParameters(
            codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 100, clockRate: 48000, channels: 2)],
            encodings: [RtpEncodingParameters(ssrc: 5)]), layers: 1, maxBitrate: 32_000)
        let video = try XCTUnwrap(engine.add(producerId: "v", kind: .video, parameters: Self.video(ssrcs: [2000, 3000]), layers: 3,
                                             maxBitrate: 900_000))
        XCTAssertEqual(video, 1)
        let noEmit: (UnsafeRawBufferPointer) -> Void = { _ in XCTFail("nothing to send") }
        XCTAssertEqual(engine.receive([.pli(PictureLossIndication(senderSSRC: 9, mediaSSRC: 3000))], now: 1, ntp: 0, emit: noEmit),
                       [.keyFrame(producer: 1, layer: 2)])
        XCTAssertEqual(engine.receive([.fir(FullIntraRequest(senderSSRC: 9, entries: [.init(ssrc: 2000, sequenceNumber: 1)]))],
                                      now: 1, ntp: 0, emit: noEmit), [.keyFrame(producer: 1, layer: 1)])
        XCTAssertTrue(engine.receive([.pli(PictureLossIndication(senderSSRC: 9, mediaSSRC: 5))], now: 1, ntp: 0, emit: noEmit).isEmpty,
                      "audio has no key frames")
        // 20 % loss on the top layer: its target drops (GCC's loss rule), the other stays.
        let commands = engine.receive([.receiverReport(ReceiverReport(ssrc: 9, reports: [ReceptionReport(ssrc: 3000, fractionLost: 51)]))],
                                      now: 2, ntp: 0, emit: noEmit)
        guard case .targetBitrate(1, 2, let bitrate)? = commands.first else { return XCTFail("\(commands)") }
        XCTAssertLessThan(bitrate, 400_000)
        XCTAssertEqual(engine.targetBitrate(producer: 1, layer: 2), bitrate)
        XCTAssertEqual(engine.targetBitrate(producer: 1, layer: 1), 400_000)
        XCTAssertEqual(engine.sent()[1].plis, 1)
        XCTAssertEqual(engine.sent()[1].firs, 1)
    }

    func testSenderReportsCoverStreamsThatSentAndNameUs() throws {
        let engine = SendEngine(cname: "nacho-cname")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 500_000))
        XCTAssertTrue(engine.senderReports(now: 1, ntp: 1 << 32).isEmpty, "nothing sent yet")
        _ = packets { engine.send(.init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: producer, now: 1, emit: $0) }
        let compound = engine.senderReports(now: 2, ntp: 2 << 32)
        guard case .senderReport(let report)? = compound.first, case .sourceDescription? = compound.last else {
            return XCTFail("\(compound)")
        }
        XCTAssertEqual(report.ssrc, 1000)
        XCTAssertEqual(report.packetCount, 3)
    }
}
