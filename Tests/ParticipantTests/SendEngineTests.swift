import Congestion
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

    /// Drains the engine's pacer from `now` until it has nothing queued, waking when it asks;
    /// the packets, and when each went.
    @discardableResult
    private func drainAll(_ engine: SendEngine, from now: Double) -> [(packet: RTPPacket, time: Double)] {
        var out: [(RTPPacket, Double)] = []
        var time = now
        for _ in 0..<100_000 {
            engine.drain(now: time) { out.append((try! RTPPacket(parsing: Array($0)), time)) }
            guard let next = engine.nextSendTime(now: time) else { break }
            time = next
        }
        return out
    }

    /// A frame sent and paced out whole.
    private func sendAll(_ engine: SendEngine, _ frame: EncodedFrame, producer: Int, now: Double) -> [RTPPacket] {
        engine.send(frame, producer: producer, now: now)
        return drainAll(engine, from: now).map(\.packet)
    }

    func testFramesBecomePacketsWithRTPTimeFromCaptureTime() throws {
        let engine = SendEngine(cname: "c")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 500_000, timestampBase: 7))
        let first = sendAll(engine, .init(payload: Self.keyFrame, captureTime: 10, isKeyFrame: true), producer: producer, now: 10)
        let second = sendAll(engine, .init(payload: Self.keyFrame, captureTime: 10.5, isKeyFrame: true), producer: producer, now: 10.5)
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
        let sent = sendAll(engine, .init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: producer, now: 1)
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
    func testKeyFrameRequestsReachTheirLayer() throws {
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
        XCTAssertEqual(engine.sent()[1].plis, 1)
        XCTAssertEqual(engine.sent()[1].firs, 1)
    }

    func testSenderReportsCoverStreamsThatSentAndNameUs() throws {
        let engine = SendEngine(cname: "nacho-cname")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 500_000))
        XCTAssertTrue(engine.senderReports(now: 1, ntp: 1 << 32).isEmpty, "nothing sent yet")
        _ = sendAll(engine, .init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: producer, now: 1)
        let compound = engine.senderReports(now: 2, ntp: 2 << 32)
        guard case .senderReport(let report)? = compound.first, case .sourceDescription? = compound.last else {
            return XCTFail("\(compound)")
        }
        XCTAssertEqual(report.ssrc, 1000)
        XCTAssertEqual(report.packetCount, 3)
    }

    static let audio = RtpParameters(codecs: [RtpCodecParameters(mimeType: "audio/opus", payloadType: 100, clockRate: 48000, channels: 2)],
                                      encodings: [RtpEncodingParameters(ssrc: 5)])

    /// Layers get their maximum, lowest first, while what is left covers their minimum (a
    /// stand-in for `SimulcastAllocation`, whose numbers are not this test's subject).
    static let lowestFirst: @Sendable (Int, [SimulcastAllocation.Layer]) -> [Int?] = { bitrate, layers in
        var left = bitrate
        return layers.map { layer in
            guard left >= layer.minBitrate else { return nil }
            let given = min(left, layer.maxBitrate)
            left -= given
            return given
        }
    }

    /// Packets are numbered transport-wide as they go on the wire, not as they are
    /// packetized: audio queued after a video frame overtakes it and takes the next number.
    func testTransportSequenceIsWrittenInSendOrder() throws {
        let engine = SendEngine(cname: "c", probing: false)
        var video = Self.video(ssrcs: [1000])
        video.headerExtensions = [RtpHeaderExtensionParameters(uri: RtpHeaderExtensionURI.transportWideCC, id: 3)]
        var audio = Self.audio
        audio.headerExtensions = video.headerExtensions
        let v = try XCTUnwrap(engine.add(producerId: "v", kind: .video, parameters: video, layers: 1, maxBitrate: 500_000))
        let a = try XCTUnwrap(engine.add(producerId: "a", kind: .audio, parameters: audio, layers: 1, maxBitrate: 32_000))
        engine.send(.init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: v, now: 1)
        engine.send(.init(payload: [0xFC, 1, 2], captureTime: 1, isKeyFrame: false, audioLevel: -20), producer: a, now: 1)
        let out = drainAll(engine, from: 1)
        XCTAssertEqual(out.map(\.packet.ssrc), [5, 1000, 1000, 1000], "audio first")
        let numbers = out.compactMap { $0.packet.extensionElement(3).map { UInt16($0[$0.startIndex]) << 8 | UInt16($0[$0.startIndex + 1]) } }
        XCTAssertEqual(numbers, [0, 1, 2, 3])
        XCTAssertGreaterThan(out.last!.time, 1, "the frame is paced, not sent at once")
        XCTAssertEqual(engine.sent()[v].pacedPackets, 3)
        XCTAssertGreaterThan(engine.sent()[v].pacerDelaySeconds, 0)
    }

    /// A target from the controller: audio keeps its bitrate, video gets the rest; a layer
    /// that does not fit is paused (its frames are not sent) and comes back, when the target
    /// grows, from a key frame.
    func testLayersThatDoNotFitArePausedAndResumeWithAKeyFrame() throws {
        let engine = SendEngine(cname: "c", allocateLayers: Self.lowestFirst)
        _ = engine.add(producerId: "a", kind: .audio, parameters: Self.audio, layers: 1, maxBitrate: 32_000)
        let video = try XCTUnwrap(engine.add(producerId: "v", kind: .video, parameters: Self.video(ssrcs: [2000, 3000]), layers: 3,
                                             maxBitrate: 800_000))
        XCTAssertNil(engine.sent()[video].targetBitrate, "no target before the controller gave one")
        XCTAssertEqual(engine.apply(CongestionTarget(targetBitrate: 1_032_000, pacingRate: 2_580_000), now: 1),
                       [.targetBitrate(producer: 1, layer: 1, bitsPerSecond: 400_000), .targetBitrate(producer: 1, layer: 2, bitsPerSecond: 400_000)])
        XCTAssertEqual(engine.sent()[video].targetBitrate, 800_000)
        XCTAssertNil(engine.sent()[0].targetBitrate, "audio keeps its configured bitrate: the controller gives it no target")
        // 300 kbit/s: 268 for video, the bottom layer's; the top one is paused.
        XCTAssertEqual(engine.apply(CongestionTarget(targetBitrate: 300_000, pacingRate: 750_000), now: 2),
                       [.targetBitrate(producer: 1, layer: 1, bitsPerSecond: 268_000), .layerActive(producer: 1, layer: 2, active: false)])
        XCTAssertFalse(engine.isLayerActive(producer: video, layer: 2))
        XCTAssertEqual(engine.sent()[video].layersPaused, 1)
        XCTAssertFalse(engine.send(.init(payload: Self.keyFrame, captureTime: 2, isKeyFrame: true, layer: 2), producer: video, now: 2))
        XCTAssertTrue(engine.send(.init(payload: Self.keyFrame, captureTime: 2, isKeyFrame: true, layer: 1), producer: video, now: 2))
        XCTAssertTrue(drainAll(engine, from: 2).allSatisfy { $0.packet.ssrc == 2000 })
        // Back up: the layer resumes, and sends nothing before its key frame.
        XCTAssertEqual(engine.apply(CongestionTarget(targetBitrate: 1_032_000, pacingRate: 2_580_000), now: 3),
                       [.targetBitrate(producer: 1, layer: 1, bitsPerSecond: 400_000), .layerActive(producer: 1, layer: 2, active: true),
                        .targetBitrate(producer: 1, layer: 2, bitsPerSecond: 400_000)])
        let delta: [UInt8] = [0x11, 0x00, 0x00] + Array(repeating: 0xCD, count: 500)
        XCTAssertFalse(engine.send(.init(payload: delta, captureTime: 3, isKeyFrame: false, layer: 2), producer: video, now: 3))
        XCTAssertTrue(engine.send(.init(payload: Self.keyFrame, captureTime: 3.1, isKeyFrame: true, layer: 2), producer: video, now: 3.1))
        XCTAssertTrue(engine.send(.init(payload: delta, captureTime: 3.2, isKeyFrame: false, layer: 2), producer: video, now: 3.2))
        XCTAssertEqual(drainAll(engine, from: 3.2).filter { $0.packet.ssrc == 3000 }.count, 4, "key frame (3) and delta (1)")
        // When no layer fits, the bottom one still runs at its minimum: video is never paused whole.
        let commands = engine.apply(CongestionTarget(targetBitrate: 40_000, pacingRate: 100_000), now: 4)
        XCTAssertEqual(commands, [.targetBitrate(producer: 1, layer: 1, bitsPerSecond: 80_000), .layerActive(producer: 1, layer: 2, active: false)])
    }

    /// Video producers share what audio leaves: evenly, none above its maximum, what one
    /// cannot use going to the others.
    func testVideoProducersShareTheTargetUpToTheirMaximum() throws {
        let engine = SendEngine(cname: "c")
        _ = engine.add(producerId: "a", kind: .audio, parameters: Self.audio, layers: 1, maxBitrate: 32_000)
        _ = engine.add(producerId: "small", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1, maxBitrate: 100_000)
        _ = engine.add(producerId: "big", kind: .video, parameters: Self.video(ssrcs: [2000]), layers: 1, maxBitrate: 2_000_000)
        XCTAssertEqual(engine.apply(CongestionTarget(targetBitrate: 1_032_000, pacingRate: 2_580_000), now: 1),
                       [.targetBitrate(producer: 1, layer: 0, bitsPerSecond: 100_000), .targetBitrate(producer: 2, layer: 0, bitsPerSecond: 900_000)])
        XCTAssertEqual(engine.apply(CongestionTarget(targetBitrate: 132_000, pacingRate: 330_000), now: 2),
                       [.targetBitrate(producer: 1, layer: 0, bitsPerSecond: 50_000), .targetBitrate(producer: 2, layer: 0, bitsPerSecond: 50_000)])
        XCTAssertEqual(engine.apply(CongestionTarget(targetBitrate: 132_000, pacingRate: 330_000), now: 3), [], "nothing changed")
    }

    /// A NACK storm: every packet of the history NACKed every 10 ms for two seconds, with no
    /// round trip known (so nothing holds a resend back but the budget). What is resent stays
    /// within half the target over the run (plus the half second the budget holds); the rest
    /// is dropped and counted.
    func testRetransmissionsStayWithinTheirBudgetUnderANackStorm() throws {
        let engine = SendEngine(cname: "c")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 500_000))
        _ = engine.apply(CongestionTarget(targetBitrate: 400_000, pacingRate: 1_000_000), now: 0)
        var sequences: [UInt16] = []
        for frame in 0..<10 {
            let time = Double(frame) * 0.1
            sequences += sendAll(engine, .init(payload: Self.keyFrame, captureTime: time, isKeyFrame: true), producer: producer, now: time)
                .map(\.sequenceNumber)
        }
        XCTAssertEqual(sequences.count, 30)
        var resentBytes = 0
        var time = 1.0
        while time < 3 {
            _ = engine.receive([.nack(GenericNACK(senderSSRC: 9, mediaSSRC: 1000, lost: sequences))], now: time, ntp: 0)
            for (packet, _) in drainAll(engine, from: time) where packet.ssrc == 1100 { resentBytes += packet.payload.count + 12 }
            time += 0.01
        }
        let stats = try XCTUnwrap(engine.sent().first)
        let allowed = 0.5 * 400_000 / 8 * (2 + RetransmissionBudget.defaultWindow)
        XCTAssertLessThanOrEqual(Double(resentBytes), allowed)
        XCTAssertGreaterThan(Double(resentBytes), 0.8 * 0.5 * 400_000 / 8 * 2, "the budget is used, not starved")
        XCTAssertGreaterThan(stats.retransmissionsDropped, 1000)
        XCTAssertEqual(stats.retransmissions, resentBytes > 0 ? stats.retransmissions : 0)
        print("NACK storm: \(resentBytes) bytes resent in 2 s (allowed \(Int(allowed))), \(stats.retransmissions) resent, \(stats.retransmissionsDropped) dropped")
    }

    /// Every packet that takes a transport-wide number is reported with it, its size and send
    /// time; a probe cluster goes out as RTX padding on the RTX SSRC when nothing is queued,
    /// its packets marked with the cluster; retransmissions marked as such.
    func testSentPacketsAreReportedAndProbesGoAsRTXPadding() throws {
        let engine = SendEngine(cname: "c", probing: false)
        var video = Self.video(ssrcs: [1000])
        video.headerExtensions = [RtpHeaderExtensionParameters(uri: RtpHeaderExtensionURI.transportWideCC, id: 3)]
        let producer = try XCTUnwrap(engine.add(producerId: "v", kind: .video, parameters: video, layers: 1, maxBitrate: 500_000))
        var reported: [SentPacket] = []
        engine.sentPacketTap = { reported.append($0) }
        let media = sendAll(engine, .init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: producer, now: 1)
        XCTAssertEqual(reported.map(\.transportSequence), [0, 1, 2])
        XCTAssertTrue(reported.allSatisfy { $0.probeCluster == nil && !$0.isRetransmission && $0.size > 1000 })
        engine.probe([ProbeCluster(id: 4, bitrate: 1_000_000, minPackets: 5, minBytes: 2000)])
        let probes = drainAll(engine, from: 2)
        XCTAssertGreaterThanOrEqual(probes.count, 5)
        XCTAssertTrue(probes.allSatisfy { $0.packet.ssrc == 1100 }, "on the RTX SSRC")
        let probeReports = reported.dropFirst(3)
        XCTAssertEqual(probeReports.count, probes.count)
        XCTAssertTrue(probeReports.allSatisfy { $0.probeCluster == 4 && !$0.isRetransmission })
        XCTAssertGreaterThanOrEqual(probeReports.reduce(0) { $0 + $1.size }, 2000)
        XCTAssertEqual(engine.sent()[producer].retransmissions, 0, "probe padding is not a repair")
        // At the cluster's rate: the bytes before the last packet took their time at 1 Mbit/s.
        let span = probes.last!.time - probes.first!.time
        let before = probeReports.dropLast().reduce(0) { $0 + $1.size }
        XCTAssertEqual(span, Double(before) * 8 / 1_000_000, accuracy: 0.003)
        _ = engine.receive([.nack(GenericNACK(senderSSRC: 9, mediaSSRC: 1000, lost: [media[0].sequenceNumber]))], now: 3, ntp: 0) { _ in }
        XCTAssertEqual(reported.last?.isRetransmission, true)
        XCTAssertEqual(reported.last?.transportSequence, Int64(reported.count - 1))
    }

    /// The controller's probes go out with transport-wide sequence numbers only: without them
    /// no feedback could measure a probe, and the padding would be waste.
    func testTheControllersProbesGoOutOnlyWhereFeedbackCanMeasureThem() throws {
        for negotiated in [false, true] {
            let engine = SendEngine(cname: "c")
            var video = Self.video(ssrcs: [1000])
            if negotiated { video.headerExtensions = [RtpHeaderExtensionParameters(uri: RtpHeaderExtensionURI.transportWideCC, id: 3)] }
            let producer = try XCTUnwrap(engine.add(producerId: "v", kind: .video, parameters: video, layers: 1, maxBitrate: 2_000_000))
            var out: [RTPPacket] = []
            for frame in 0..<5 {
                let time = 1 + Double(frame) * 0.033
                out += sendAll(engine, .init(payload: Self.keyFrame, captureTime: time, isKeyFrame: true), producer: producer, now: time)
            }
            let padding = out.filter { $0.ssrc == 1100 }.count
            if negotiated { XCTAssertGreaterThan(padding, 0, "start-up probes") } else { XCTAssertEqual(padding, 0) }
            XCTAssertEqual(out.filter { $0.ssrc == 1000 }.count, 15)
        }
    }

    /// Before the controller gives a target the encoders run at their configured bitrates, so
    /// the pacer carries those (2.5 × their sum), not the controller's start rate: a 3 kB key
    /// frame of a 4 Mbit/s camera leaves in one burst (at 2.5 × 300 kbit/s it would take 24 ms).
    func testBeforeATargetThePacerCarriesTheConfiguredBitrates() throws {
        let engine = SendEngine(cname: "c")
        let producer = try XCTUnwrap(engine.add(producerId: "p", kind: .video, parameters: Self.video(ssrcs: [1000]), layers: 1,
                                                maxBitrate: 4_000_000))
        engine.send(.init(payload: Self.keyFrame, captureTime: 1, isKeyFrame: true), producer: producer, now: 1)
        let out = drainAll(engine, from: 1)
        XCTAssertEqual(out.count, 3)
        XCTAssertTrue(out.allSatisfy { $0.time == 1 }, "\(out.map(\.time))")
    }
}
