import ORTC
import XCTest

final class DeviceTests: XCTestCase {
    private func loadDevice() throws -> Device {
        try Device(routerRtpCapabilities: Fixture.decode(RtpCapabilities.self, "router-rtp-capabilities"))
    }

    func testLoadsTheRealRouterCapabilities() throws {
        let device = try loadDevice()
        XCTAssertTrue(device.canProduce(.audio))
        XCTAssertTrue(device.canProduce(.video))
        XCTAssertTrue(device.canConsume(.audio))
        XCTAssertTrue(device.canConsume(.video))
        let opus = try XCTUnwrap(device.extended.codecs.first { $0.kind == .audio })
        XCTAssertEqual(opus.remotePayloadType, 100)
        XCTAssertEqual(opus.channels, 2)
        let vp8 = try XCTUnwrap(device.extended.codecs.first { $0.kind == .video })
        XCTAssertEqual(vp8.remotePayloadType, 101)
        XCTAssertEqual(vp8.remoteRtxPayloadType, 102)
        // Feedback is the intersection: the router offers nack, nack pli, ccm fir, goog-remb, transport-cc.
        XCTAssertEqual(Set(vp8.rtcpFeedback), [.nack, .pli, .fir, .remb, .transportCC])
    }

    func testRecvCapabilitiesCarryTheRoutersPayloadTypesAndExtensionIds() throws {
        let device = try loadDevice()
        let router = device.routerCapabilities
        let recv = device.recvRtpCapabilities
        XCTAssertEqual(recv.codecs.map(\.mimeType), ["audio/opus", "video/VP8", "video/rtx"])
        XCTAssertEqual(recv.codecs.map(\.preferredPayloadType), [100, 101, 102])
        XCTAssertEqual(recv.codecs[2].parameters["apt"], .int(101))
        XCTAssertEqual(recv.codecs[0].channels, 2, "mediasoup matches Opus with 2 channels")
        // mediasoup drops a consumer's extension unless uri and preferredId equal the router's.
        for ext in recv.headerExtensions {
            let routerExt = try XCTUnwrap(router.headerExtensions.first { $0.kind == ext.kind && $0.uri == ext.uri })
            XCTAssertEqual(ext.preferredId, routerExt.preferredId, ext.uri)
        }
        let uris = Set(recv.headerExtensions.map { "\($0.kind) \($0.uri)" })
        XCTAssertTrue(uris.contains("video \(RtpHeaderExtensionURI.mid)"))
        XCTAssertTrue(uris.contains("audio \(RtpHeaderExtensionURI.audioLevel)"))
        XCTAssertTrue(uris.contains("video \(RtpHeaderExtensionURI.transportWideCC)"),
                      "nacho writes transport-cc feedback about the video it receives")
        XCTAssertFalse(uris.contains("audio \(RtpHeaderExtensionURI.transportWideCC)"),
                       "the router stamps none on audio consumers (recvonly on its side)")
        // Only feedback nacho generates as a receiver is advertised: no REMB.
        XCTAssertEqual(Set(recv.codecs[1].rtcpFeedback), [.nack, .pli, .fir, .transportCC])
    }

    func testRecvCapabilitiesEncodeLikeTheRealConsumeRequest() throws {
        let device = try loadDevice()
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(device.recvRtpCapabilities)) as? [String: Any]
        let codecs = try XCTUnwrap(json?["codecs"] as? [[String: Any]])
        let real = try JSONSerialization.jsonObject(with: Fixture.data("consume-request")) as? [String: Any]
        let realCodecs = try XCTUnwrap((real?["rtpCapabilities"] as? [String: Any])?["codecs"] as? [[String: Any]])
        // Same keys per codec as the client whose consume mediasoup accepted.
        for (ours, theirs) in zip(codecs, realCodecs) {
            XCTAssertEqual(Set(ours.keys).subtracting(["channels"]), Set(theirs.keys).subtracting(["channels"]))
        }
    }

    func testSendingParametersFollowMediasoupProduceRules() throws {
        let device = try loadDevice()
        let video = try device.sendingRtpParameters(kind: .video, ssrc: 1111, rtxSsrc: 2222, cname: "nacho-cname", mid: "1")
        XCTAssertEqual(video.mid, "1")
        XCTAssertEqual(video.codecs.map(\.mimeType), ["video/VP8", "video/rtx"])
        XCTAssertEqual(video.codecs.map(\.payloadType), [101, 102])
        XCTAssertEqual(video.codecs[1].parameters["apt"], .int(101))
        XCTAssertEqual(video.encodings, [RtpEncodingParameters(ssrc: 1111, rtx: .init(ssrc: 2222))])
        XCTAssertEqual(video.rtcp.cname, "nacho-cname")
        XCTAssertEqual(video.headerExtensionId(RtpHeaderExtensionURI.mid), 1)
        XCTAssertEqual(video.headerExtensionId(RtpHeaderExtensionURI.absSendTime), 4)
        XCTAssertEqual(video.headerExtensionId(RtpHeaderExtensionURI.transportWideCC), 5)
        // Every URI must be one the router knows, or mediasoup rejects produce.
        let known = Set(device.routerCapabilities.headerExtensions.map(\.uri))
        XCTAssertTrue(video.headerExtensions.allSatisfy { known.contains($0.uri) })

        let audio = try device.sendingRtpParameters(kind: .audio, ssrc: 3333, rtxSsrc: nil, cname: "nacho-cname", mid: "0")
        XCTAssertEqual(audio.codecs.count, 1)
        XCTAssertEqual(audio.codecs[0].channels, 2)
        XCTAssertEqual(audio.codecs[0].payloadType, 100)
        XCTAssertEqual(audio.headerExtensionId(RtpHeaderExtensionURI.audioLevel), 10)
        XCTAssertEqual(audio.headerExtensionId(RtpHeaderExtensionURI.transportWideCC), 5,
                       "the router receives transport-wide sequence numbers on audio too (recvonly on its side), as mediasoup-client sends them")
        XCTAssertEqual(try Validation.validate(audio), audio)
    }

    func testAcceptsTheRealConsumeAnswers() throws {
        let device = try loadDevice()
        let audio = try device.validateConsumer(Fixture.decode(ConsumerOptions.self, "consume-answer-audio"))
        XCTAssertEqual(audio.rtpParameters.encodings.first?.ssrc, 805252821)
        let video = try device.validateConsumer(Fixture.decode(ConsumerOptions.self, "consume-answer-video"))
        XCTAssertEqual(video.rtpParameters.encodings.first?.rtx?.ssrc, 751134197)
        XCTAssertNil(video.rtpParameters.codecs[0].channels)
    }

    func testRejectsConsumeAnswersItCannotReceive() throws {
        let device = try loadDevice()
        let good = try Fixture.decode(ConsumerOptions.self, "consume-answer-video")
        var cases: [(String, ConsumerOptions, String)] = []

        var badId = good
        badId.rtpParameters.headerExtensions[0].id = 9
        cases.append(("extension id differs from the router's", badId, "has id 9, the router's is 1"))

        var orphanRtx = good
        orphanRtx.rtpParameters.codecs[1].parameters["apt"] = .int(96)
        cases.append(("rtx apt points nowhere", orphanRtx, "points at no codec"))

        var missingApt = good
        missingApt.rtpParameters.codecs[1].parameters = [:]
        cases.append(("rtx without apt", missingApt, "missing apt"))

        var unknownCodec = good
        unknownCodec.rtpParameters.codecs = [RtpCodecParameters(mimeType: "video/H264", payloadType: 107, clockRate: 90000)]
        cases.append(("codec nacho did not offer", unknownCodec, "video/H264/90000 was not in nacho's capabilities"))

        var wrongPT = good
        wrongPT.rtpParameters.codecs[0].payloadType = 96
        wrongPT.rtpParameters.codecs[1].parameters["apt"] = .int(96)
        cases.append(("payload type differs from the router's", wrongPT, "differs from the router's 101"))

        var noSsrc = good
        noSsrc.rtpParameters.encodings = [RtpEncodingParameters()]
        cases.append(("encoding without ssrc", noSsrc, "no ssrc"))

        var noEncodings = good
        noEncodings.rtpParameters.encodings = []
        cases.append(("no encodings", noEncodings, "no encodings"))

        var wrongKind = good
        wrongKind.kind = .audio
        cases.append(("kind does not match codec", wrongKind, "consumer kind audio but codec video/VP8"))

        var rtxFirst = good
        rtxFirst.rtpParameters.codecs.reverse()
        cases.append(("rtx listed first", rtxFirst, "first codec must be a media codec"))

        var duplicatePT = good
        duplicatePT.rtpParameters.codecs[1].payloadType = 101
        cases.append(("duplicated payload type", duplicatePT, "duplicated codec payloadType 101"))

        // Issue 14: ids are kept per consumer and logged; a megabyte id is not an id.
        var hugeId = good
        hugeId.id = String(repeating: "c", count: 1 << 20)
        cases.append(("consumer id of 1 MiB", hugeId, "consumer id is empty or longer than 256 bytes"))

        var hugeProducer = good
        hugeProducer.producerId = String(repeating: "p", count: 257)
        cases.append(("producer id of 257 bytes", hugeProducer, "producer id is empty or longer than 256 bytes"))

        for (name, options, expected) in cases {
            XCTAssertThrowsError(try device.validateConsumer(options), name) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
            }
        }
    }

    func testNoCommonCodec() throws {
        let h264Only = RtpCapabilities(codecs: [
            RtpCodecCapability(kind: .video, mimeType: "video/H264", preferredPayloadType: 107, clockRate: 90000),
        ])
        XCTAssertThrowsError(try Device(routerRtpCapabilities: h264Only)) { error in
            XCTAssertTrue("\(error)".contains("no codec nacho supports"), "\(error)")
        }
        let monoOpusAndVP8 = RtpCapabilities(codecs: [
            // Opus must be 2 channels to match: a mono declaration matches nothing.
            RtpCodecCapability(kind: .audio, mimeType: "audio/opus", preferredPayloadType: 100, clockRate: 48000, channels: 1),
            RtpCodecCapability(kind: .video, mimeType: "video/VP8", preferredPayloadType: 101, clockRate: 90000),
        ])
        let device = try Device(routerRtpCapabilities: monoOpusAndVP8)
        XCTAssertFalse(device.canProduce(.audio))
        XCTAssertTrue(device.canProduce(.video))
        XCTAssertThrowsError(try device.sendingRtpParameters(kind: .audio, ssrc: 1, rtxSsrc: nil, cname: "c", mid: "0")) {
            XCTAssertEqual($0 as? ORTCError, .noCommonCodec(.audio))
        }
        // No RTX on the router: video is sent without it even if an RTX ssrc is offered.
        let video = try device.sendingRtpParameters(kind: .video, ssrc: 5, rtxSsrc: 6, cname: "c", mid: "1")
        XCTAssertEqual(video.codecs.count, 1)
        XCTAssertNil(video.encodings[0].rtx)
    }

    func testRouterRtxWithoutAptIsRejected() throws {
        var caps = try Fixture.decode(RtpCapabilities.self, "router-rtp-capabilities")
        caps.codecs[2].parameters = [:]
        XCTAssertThrowsError(try Device(routerRtpCapabilities: caps)) { error in
            XCTAssertTrue("\(error)".contains("missing apt parameter in RTX codec"), "\(error)")
        }
    }
}
