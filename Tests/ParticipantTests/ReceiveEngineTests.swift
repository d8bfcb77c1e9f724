import ORTC
import RTP
import XCTest

@testable import Participant

/// The receive engine without sockets: consumers come and go, packets and time go in.
final class ReceiveEngineTests: XCTestCase {
    static func consumer(id: String, producer: String, ssrc: UInt32, video: Bool = true) -> ConsumerOptions {
        let codecs = video
            ? [RtpCodecParameters(mimeType: "video/VP8", payloadType: 101, clockRate: 90000, rtcpFeedback: [.nack, .pli]),
               RtpCodecParameters(mimeType: "video/rtx", payloadType: 102, clockRate: 90000, parameters: ["apt": .int(101)])]
            : [RtpCodecParameters(mimeType: "audio/opus", payloadType: 100, clockRate: 48000, channels: 2)]
        let encoding = RtpEncodingParameters(ssrc: ssrc, rtx: video ? .init(ssrc: ssrc + 1) : nil)
        return ConsumerOptions(id: id, producerId: producer, kind: video ? .video : .audio,
                               rtpParameters: RtpParameters(codecs: codecs, encodings: [encoding]))
    }

    /// A VP8 key frame of one packet (payload descriptor + a key frame header for 320x240).
    static func keyFrame(ssrc: UInt32, sequence: UInt16, timestamp: UInt32) -> RTPPacket {
        let payload: [UInt8] = [0x10, 0x50, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00, 0x00, 0x00]
        return RTPPacket(payloadType: 101, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc, marker: true,
                         payload: payload[...])
    }

    private func drain(_ engine: ReceiveEngine) -> [[RTCPPacket]] {
        var out: [[RTCPPacket]] = []
        while let compound = engine.nextOutgoing() { out.append(compound) }
        return out
    }

    /// Issue 14: a server that loops newProducers(X) → consume → consumerClosed must not grow
    /// what the receiver holds. Closed consumers' streams are freed; one summary per producer.
    func testClosedConsumersAreFreedAndSummarisedOncePerProducer() {
        let engine = ReceiveEngine(localSSRC: 1, cname: "test")
        var now = 10.0
        for round in 0..<50 {
            let ssrc = UInt32(1000 + 2 * round)
            XCTAssertTrue(engine.add(Self.consumer(id: "c\(round)", producer: "X", ssrc: ssrc), owner: "7", paused: false,
                                     recorder: nil, now: now))
            for sequence in 0..<20 {
                // A gap at 5 keeps packets buffered behind it, so the stream holds slab blocks.
                guard sequence != 5 else { continue }
                engine.receive(Self.keyFrame(ssrc: ssrc, sequence: UInt16(sequence), timestamp: UInt32(sequence) * 3000),
                               size: 40, now: now)
                now += 0.001
            }
            XCTAssertEqual(engine.liveConsumers, 1)
            XCTAssertTrue(engine.close(consumerId: "c\(round)", now: now))
            _ = drain(engine)
        }
        XCTAssertEqual(engine.liveConsumers, 0)
        XCTAssertEqual(engine.routedSSRCs, 0, "closed consumers' SSRCs are still routed")
        XCTAssertEqual(engine.payloadBlocks, 0)
        XCTAssertEqual(engine.endedConsumers, 1, "one summary for the producer consumed again and again")
        let reports = engine.totals()
        XCTAssertEqual(reports.count, 1)
        XCTAssertEqual(reports.first?.packets, 50 * 19)
        XCTAssertEqual(reports.first?.closed, true)
        // Each ended consumer is reported once more to the statistics, then never again.
        let stats = engine.trackStats()
        XCTAssertEqual(stats.count, 50)
        XCTAssertTrue(stats.allSatisfy(\.ended))
        XCTAssertTrue(engine.trackStats().isEmpty)
        XCTAssertEqual(engine.progress.packets, 50 * 19, "running totals keep what closed consumers received")
    }

    func testPacketsOfAClosedConsumerAreIgnoredAndItsSSRCCanBeReused() {
        let engine = ReceiveEngine(localSSRC: 1, cname: "test")
        engine.add(Self.consumer(id: "a", producer: "P", ssrc: 500), owner: "7", paused: false, recorder: nil, now: 0)
        engine.receive(Self.keyFrame(ssrc: 500, sequence: 1, timestamp: 0), size: 40, now: 0.01)
        engine.close(consumerId: "a", now: 0.02)
        engine.receive(Self.keyFrame(ssrc: 500, sequence: 2, timestamp: 3000), size: 40, now: 0.03)
        XCTAssertEqual(engine.totals().first?.packets, 1)
        XCTAssertFalse(engine.close(consumerId: "a", now: 0.04), "a consumer closes once")
        XCTAssertTrue(engine.add(Self.consumer(id: "b", producer: "P", ssrc: 500), owner: "7", paused: false, recorder: nil,
                                 now: 0.05))
        engine.receive(Self.keyFrame(ssrc: 500, sequence: 3, timestamp: 6000), size: 40, now: 0.06)
        XCTAssertEqual(engine.totals().map(\.packets), [1, 1])
    }

    func testAConsumerWhoseSSRCIsTakenIsRefused() {
        let engine = ReceiveEngine(localSSRC: 1, cname: "test")
        XCTAssertTrue(engine.add(Self.consumer(id: "a", producer: "P", ssrc: 500), owner: "7", paused: false, recorder: nil, now: 0))
        XCTAssertFalse(engine.add(Self.consumer(id: "b", producer: "Q", ssrc: 501), owner: "8", paused: false, recorder: nil,
                                  now: 0), "501 is a's RTX SSRC")
        XCTAssertFalse(engine.add(Self.consumer(id: "a", producer: "Q", ssrc: 900), owner: "8", paused: false, recorder: nil,
                                  now: 0), "the same consumer id twice")
        XCTAssertEqual(engine.liveConsumers, 1)
    }

    func testVideoStartsWithAKeyFrameRequestAndAGapIsNacked() {
        let engine = ReceiveEngine(localSSRC: 9, cname: "test")
        engine.add(Self.consumer(id: "a", producer: "P", ssrc: 500), owner: "7", paused: false, recorder: nil, now: 0)
        let first = drain(engine)
        XCTAssertEqual(first.count, 1)
        guard case .pli(let pli)? = first.first?.first else { return XCTFail("no PLI at start: \(first)") }
        XCTAssertEqual(pli.mediaSSRC, 500)
        engine.receive(Self.keyFrame(ssrc: 500, sequence: 1, timestamp: 0), size: 40, now: 1.0)
        engine.receive(Self.keyFrame(ssrc: 500, sequence: 3, timestamp: 6000), size: 40, now: 1.001)
        engine.repairIfDue(now: 1.05)
        let nacks = drain(engine).flatMap { $0 }.compactMap { packet -> [UInt16]? in
            if case .nack(let nack) = packet { return nack.lostSequenceNumbers }
            return nil
        }
        XCTAssertEqual(nacks.flatMap { $0 }, [2])
    }

    /// Issue 16: the SFU's estimate of our downlink needs feedback: every packet carrying a
    /// transport-wide sequence number is reported, the missing ones as lost, every 100 ms;
    /// without the extension negotiated nothing is sent.
    func testTransportWideSequenceNumbersAreFedBack() throws {
        for negotiated in [true, false] {
            let engine = ReceiveEngine(localSSRC: 9, cname: "test")
            var options = Self.consumer(id: "a", producer: "P", ssrc: 500)
            if negotiated {
                options.rtpParameters.codecs[0].rtcpFeedback.append(.transportCC)
                options.rtpParameters.headerExtensions = [RtpHeaderExtensionParameters(uri: RtpHeaderExtensionURI.transportWideCC, id: 5)]
            }
            engine.add(options, owner: "7", paused: false, recorder: nil, now: 0)
            _ = drain(engine)
            // 42 is the SFU's probe padding, on an SSRC no consumer has: fed back all the same.
            for (index, transportSequence) in [UInt16(40), 41, 42, 43].enumerated() {
                var packet = Self.keyFrame(ssrc: transportSequence == 42 ? 1234 : 500, sequence: UInt16(index),
                                           timestamp: UInt32(index) * 3000)
                packet.headerExtension = RTPHeaderExtension(elements: [.init(id: 5, data: [UInt8(transportSequence >> 8), UInt8(transportSequence & 0xFF)])])
                engine.receive(packet, size: 40, now: 1.0 + Double(index) * 0.005)
            }
            engine.repairIfDue(now: 1.2)
            let feedback = drain(engine).flatMap { $0 }.compactMap { packet -> TransportCCFeedback? in
                if case .transportCC(let feedback) = packet { return feedback }
                return nil
            }
            guard negotiated else {
                XCTAssertEqual(feedback, [])
                continue
            }
            // The first packet ran a due repair step, so it was reported at once; the rest 100 ms on.
            XCTAssertEqual(feedback.map(\.baseSequence), [40, 41])
            XCTAssertEqual(feedback.flatMap(\.statuses), [.smallDelta, .smallDelta, .smallDelta, .smallDelta])
            XCTAssertEqual(feedback.last?.receiveDeltas.dropFirst(), [5_000, 5_000][...])
            XCTAssertEqual(feedback.map(\.senderSSRC), [9, 9])
            XCTAssertEqual(engine.transportFeedbackSent, 2)
        }
    }

    func testPausedVideoAsksForNothingAndResumeAsksForAKeyFrame() {
        let engine = ReceiveEngine(localSSRC: 9, cname: "test")
        engine.add(Self.consumer(id: "a", producer: "P", ssrc: 500), owner: "7", paused: true, recorder: nil, now: 0)
        XCTAssertTrue(drain(engine).isEmpty)
        engine.setPaused(consumerId: "a", false, now: 1)
        XCTAssertEqual(drain(engine).count, 1)
    }

    /// Issue 14: an H264 sender's oversize parameter sets are dropped and warned about, counted,
    /// once per report, not per packet.
    func testOversizeH264ParameterSetsAreWarnedAboutOnce() {
        let engine = ReceiveEngine(localSSRC: 1, cname: "test")
        var options = Self.consumer(id: "h", producer: "P", ssrc: 700)
        options.rtpParameters.codecs[0] = RtpCodecParameters(mimeType: "video/H264", payloadType: 101, clockRate: 90000,
                                                             parameters: ["packetization-mode": .int(1)])
        engine.add(options, owner: "7", paused: false, recorder: nil, now: 0)
        // Three 5,000-byte SPS units, each in five FU-A fragments (RFC 6184 §5.8), as a peer
        // would have to send them: no real SPS is near that size.
        var sequence: UInt16 = 0
        for unit in 0..<3 {
            for fragment in 0..<5 {
                let header: UInt8 = (fragment == 0 ? 0x80 : 0) | (fragment == 4 ? 0x40 : 0) | 7
                let payload = [0x7C, header] + [UInt8](repeating: 0x42, count: 1000)
                engine.receive(RTPPacket(payloadType: 101, sequenceNumber: sequence, timestamp: UInt32(unit) * 3000, ssrc: 700,
                                         marker: fragment == 4, payload: payload[...]), size: payload.count + 12, now: 0.1)
                sequence += 1
            }
        }
        XCTAssertEqual(engine.takeWarnings(), [.init(owner: "7", consumerId: "h", oversizeParameterSets: 3)])
        XCTAssertEqual(engine.takeWarnings(), [], "warned once for what was counted")
    }
}
