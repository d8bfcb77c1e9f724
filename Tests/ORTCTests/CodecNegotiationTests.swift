import ORTC
import XCTest

/// H264 and VP9 next to VP8 and Opus: matched the way mediasoup matches them (H264 by profile
/// and packetization mode, VP9 by profile-id), checked with the real router capabilities of
/// mediasoup 3.14 that list them and the real H264 produce request and consume answer.
final class CodecNegotiationTests: XCTestCase {
    private func h264(_ id: String?, mode: Int? = 1, asymmetry: Bool = true) -> CodecMatching.Codec {
        var parameters: [String: CodecParameterValue] = [:]
        if let id { parameters["profile-level-id"] = .string(id) }
        if let mode { parameters["packetization-mode"] = .int(mode) }
        if asymmetry { parameters["level-asymmetry-allowed"] = .int(1) }
        return .init(mimeType: "video/H264", clockRate: 90000, parameters: parameters)
    }

    private func vp9(_ profile: CodecParameterValue?) -> CodecMatching.Codec {
        .init(mimeType: "video/VP9", clockRate: 90000, parameters: profile.map { ["profile-id": $0] } ?? [:])
    }

    func testStrictMatchingTable() {
        let opus2 = CodecMatching.Codec(mimeType: "audio/opus", clockRate: 48000, channels: 2)
        let cases: [(String, CodecMatching.Codec, CodecMatching.Codec, strict: Bool, CodecMatching.Outcome)] = [
            ("same H264", h264("42e01f"), h264("42e01f"), true, .h264(profileLevelId: "42e01f")),
            ("H264 CB, other level: local level kept", h264("42e01f"), h264("42e00b"), true, .h264(profileLevelId: "42e01f")),
            ("H264 CB spelled 42c0 vs 42e0", h264("42c01f"), h264("42e01f"), true, .h264(profileLevelId: "42e01f")),
            ("H264 no asymmetry: lower level", h264("640032", asymmetry: false), h264("64001f"), true, .h264(profileLevelId: "64001f")),
            ("H264 baseline vs constrained baseline", h264("42001f"), h264("42e01f"), true, .noMatch),
            ("H264 main vs high", h264("4d001f"), h264("640032"), true, .noMatch),
            ("H264 packetization-mode 1 vs 0", h264("42e01f"), h264("42e01f", mode: 0), true, .noMatch),
            ("H264 packetization-mode 1 vs absent (0)", h264("42e01f"), h264("42e01f", mode: nil), true, .noMatch),
            ("H264 absent vs 0", h264("42e01f", mode: nil), h264("42e01f", mode: 0), true, .h264(profileLevelId: "42e01f")),
            ("H264 invalid profile-level-id", h264("42e01f"), h264("xxxxxx"), true, .noMatch),
            ("H264 no profile-level-id on either side", h264(nil), h264(nil), true, .h264(profileLevelId: nil)),
            ("H264 not strict: any profile", h264("42001f"), h264("640032", mode: 0), false, .match),
            ("VP9 0 vs 0", vp9(.int(0)), vp9(.int(0)), true, .match),
            ("VP9 0 vs absent", vp9(.int(0)), vp9(nil), true, .match),
            ("VP9 0 vs 2", vp9(.int(0)), vp9(.int(2)), true, .noMatch),
            ("VP9 2 vs \"2\" (a string is not the number)", vp9(.int(2)), vp9(.string("2")), true, .noMatch),
            ("VP9 not strict", vp9(.int(0)), vp9(.int(2)), false, .match),
            ("mime case", .init(mimeType: "video/vp8", clockRate: 90000), .init(mimeType: "video/VP8", clockRate: 90000), true, .match),
            ("clock rate", .init(mimeType: "video/VP8", clockRate: 90000), .init(mimeType: "video/VP8", clockRate: 48000), true, .noMatch),
            ("opus channels", opus2, .init(mimeType: "audio/opus", clockRate: 48000, channels: 1), true, .noMatch),
            ("audio channels default to 1", .init(mimeType: "audio/PCMU", clockRate: 8000),
             .init(mimeType: "audio/PCMU", clockRate: 8000, channels: 1), true, .match),
            ("different codecs", h264("42e01f"), vp9(.int(0)), false, .noMatch),
        ]
        for (name, a, b, strict, expected) in cases {
            XCTAssertEqual(CodecMatching.compare(a, b, strict: strict), expected, name)
        }
    }

    private func device(_ fixture: String) throws -> Device {
        try Device(routerRtpCapabilities: Fixture.decode(RtpCapabilities.self, fixture))
    }

    func testRouterWithH264AndVP9() throws {
        let device = try device("router-rtp-capabilities-h264-vp9")
        // The router's order and payload types; RTX per video codec.
        XCTAssertEqual(device.extended.codecs.map(\.mimeType), ["audio/opus", "video/H264", "video/VP9", "video/VP8"])
        XCTAssertEqual(device.extended.codecs.map(\.remotePayloadType), [100, 101, 103, 105])
        XCTAssertEqual(device.extended.codecs.map(\.remoteRtxPayloadType), [nil, 102, 104, 106])
        let h264 = device.extended.codecs[1]
        XCTAssertEqual(h264.localParameters["profile-level-id"], .string("42e01f"))
        XCTAssertEqual(h264.localParameters["packetization-mode"], .int(1))
        XCTAssertEqual(h264.remoteParameters["profile-level-id"], .string("42e01f"))
        XCTAssertEqual(device.extended.codecs[2].localParameters["profile-id"], .int(0))

        let recv = device.recvRtpCapabilities
        XCTAssertEqual(recv.codecs.map(\.mimeType), ["audio/opus", "video/H264", "video/rtx", "video/VP9", "video/rtx", "video/VP8", "video/rtx"])
        XCTAssertEqual(recv.codecs.map(\.preferredPayloadType), [100, 101, 102, 103, 104, 105, 106])
        XCTAssertEqual(recv.codecs.filter(\.isRtx).map { $0.parameters["apt"] }, [.int(101), .int(103), .int(105)])
        XCTAssertEqual(recv.codecs[1].parameters, ["packetization-mode": .int(1), "profile-level-id": .string("42e01f"),
                                                   "level-asymmetry-allowed": .int(1)])
        XCTAssertEqual(Set(recv.codecs[1].rtcpFeedback), [.nack, .pli, .fir, .transportCC])

        // Receive and record everything; send VP8 (router has it) by default, VP9 on request, H264 never.
        XCTAssertEqual(device.receivableCodecs.map(\.mimeType), ["audio/opus", "video/H264", "video/VP9", "video/VP8"])
        XCTAssertEqual(device.sendableCodecs(.video).map(\.mimeType), ["video/VP9", "video/VP8"])
        XCTAssertEqual(try device.sendCodec(kind: .video).mimeType, "video/VP8", "VP8 first although the router lists H264 and VP9 before it")
        XCTAssertEqual(try device.sendCodec(kind: .video, preferred: "video/vp9").remotePayloadType, 103)
        XCTAssertEqual(try device.sendCodec(kind: .audio).mimeType, "audio/opus")
        XCTAssertThrowsError(try device.sendCodec(kind: .video, preferred: "video/H264")) {
            XCTAssertTrue("\($0)".contains("no video/H264 encoder"), "\($0)")
        }
        let vp9 = try device.sendingRtpParameters(kind: .video, ssrc: 11, rtxSsrc: 12, cname: "c", mid: "1", codec: "video/VP9")
        XCTAssertEqual(vp9.codecs.map(\.mimeType), ["video/VP9", "video/rtx"])
        XCTAssertEqual(vp9.codecs.map(\.payloadType), [103, 104])
        XCTAssertEqual(vp9.codecs[0].parameters, ["profile-id": .int(0)])
        XCTAssertEqual(vp9.codecs[1].parameters["apt"], .int(103))
        let vp8 = try device.sendingRtpParameters(kind: .video, ssrc: 11, rtxSsrc: 12, cname: "c", mid: "1")
        XCTAssertEqual(vp8.codecs.map(\.payloadType), [105, 106])
    }

    func testRouterWithVP9Only() throws {
        let device = try device("router-rtp-capabilities-vp9-only")
        XCTAssertTrue(device.canProduce(.video))
        XCTAssertTrue(device.canConsume(.video))
        let video = try device.sendingRtpParameters(kind: .video, ssrc: 7, rtxSsrc: 8, cname: "c", mid: "1")
        XCTAssertEqual(video.codecs.map(\.mimeType), ["video/VP9", "video/rtx"], "no VP8 here: VP9 is the default")
        XCTAssertEqual(video.codecs.map(\.payloadType), [101, 102])
        XCTAssertThrowsError(try device.sendingRtpParameters(kind: .video, ssrc: 7, rtxSsrc: 8, cname: "c", mid: "1", codec: "video/VP8")) {
            XCTAssertTrue("\($0)".contains("the router offers no video/VP8"), "\($0)")
        }
    }

    /// A phone-only room (H264 only): nacho receives and records it but cannot send video.
    func testRouterWithH264OnlyReceivesButDoesNotSend() throws {
        var caps = try Fixture.decode(RtpCapabilities.self, "router-rtp-capabilities-h264-vp9")
        caps.codecs.removeAll { ["video/VP8", "video/VP9"].contains($0.mimeType) || [104, 106].contains($0.preferredPayloadType) }
        let device = try Device(routerRtpCapabilities: caps)
        XCTAssertTrue(device.canConsume(.video))
        XCTAssertFalse(device.canProduce(.video))
        XCTAssertTrue(device.canProduce(.audio))
        XCTAssertThrowsError(try device.sendingRtpParameters(kind: .video, ssrc: 1, rtxSsrc: 2, cname: "c", mid: "1")) {
            XCTAssertTrue("\($0)".contains("offers only video/H264 for video, which nacho receives but cannot encode"), "\($0)")
        }
    }

    /// Routers list other H264 profiles and levels: each matches nacho's entry of the same
    /// profile, the level follows level-asymmetry; unknown combinations are left out.
    func testH264RouterVariants() throws {
        func router(_ codecs: [[String: CodecParameterValue]]) -> RtpCapabilities {
            RtpCapabilities(codecs: codecs.enumerated().map { index, parameters in
                RtpCodecCapability(kind: .video, mimeType: "video/H264", preferredPayloadType: 96 + index, clockRate: 90000,
                                   parameters: parameters, rtcpFeedback: [.nack, .pli])
            })
        }
        let variants: [(String, [String: CodecParameterValue], String?)] = [
            ("high 4.0, asymmetry: nacho's level (5.0)", ["packetization-mode": .int(1), "profile-level-id": .string("640028"),
                                                          "level-asymmetry-allowed": .int(1)], "640032"),
            ("high 4.0 without asymmetry: the lower level", ["packetization-mode": .int(1), "profile-level-id": .string("640028")], "640028"),
            ("main 3.1", ["packetization-mode": .int(1), "profile-level-id": .string("4d001f"), "level-asymmetry-allowed": .int(1)], "4d001f"),
            ("baseline 3.1", ["packetization-mode": .int(1), "profile-level-id": .string("42001f"), "level-asymmetry-allowed": .int(1)], "42001f"),
            ("constrained baseline 4d80 spelling", ["packetization-mode": .int(1), "profile-level-id": .string("4d801f"),
                                                     "level-asymmetry-allowed": .int(1)], "42e01f"),
            ("packetization mode 0", ["packetization-mode": .int(0), "profile-level-id": .string("42e01f")], nil),
            ("constrained high", ["packetization-mode": .int(1), "profile-level-id": .string("640c1f")], nil),
            ("no profile-level-id (CB 3.1 by default)", ["packetization-mode": .int(1)], "42e01f"),
        ]
        for (name, parameters, expected) in variants {
            let device = try? Device(routerRtpCapabilities: router([parameters]))
            XCTAssertEqual(device?.extended.codecs.first?.localParameters["profile-level-id"]?.description, expected, name)
            if expected != nil {
                XCTAssertEqual(device?.recvRtpCapabilities.codecs.first?.parameters["profile-level-id"]?.description, expected, name)
            }
        }
        // Two H264 entries of different profiles keep their own payload types.
        let both = try Device(routerRtpCapabilities: router([
            ["packetization-mode": .int(1), "profile-level-id": .string("42e01f"), "level-asymmetry-allowed": .int(1)],
            ["packetization-mode": .int(1), "profile-level-id": .string("640032"), "level-asymmetry-allowed": .int(1)],
        ]))
        XCTAssertEqual(both.extended.codecs.map(\.remotePayloadType), [96, 97])
        XCTAssertEqual(both.extended.codecs.map { $0.localParameters["profile-level-id"] }, [.string("42e01f"), .string("640032")])
    }

    func testVP9Profile2IsReceivedButNotSent() throws {
        let router = RtpCapabilities(codecs: [
            RtpCodecCapability(kind: .video, mimeType: "video/VP9", preferredPayloadType: 100, clockRate: 90000, parameters: ["profile-id": .int(2)]),
        ])
        let device = try Device(routerRtpCapabilities: router)
        XCTAssertEqual(device.recvRtpCapabilities.codecs.first?.parameters["profile-id"], .int(2))
        XCTAssertFalse(device.canProduce(.video), "libvpx is set up for 8-bit profile 0 only")
    }

    func testAcceptsTheRealH264ConsumeAnswer() throws {
        let device = try device("router-rtp-capabilities-h264-vp9")
        let answer = try Fixture.decode(ConsumerOptions.self, "consume-answer-video-h264")
        let consumer = try device.validateConsumer(answer)
        XCTAssertEqual(consumer.rtpParameters.codecs.map(\.payloadType), [101, 102])
        XCTAssertEqual(consumer.rtpParameters.encodings.first?.ssrc, 933762149)
        XCTAssertEqual(consumer.rtpParameters.encodings.first?.rtx?.ssrc, 933762150)
        // Against a VP8-only router the same answer names a codec nacho never asked for.
        XCTAssertThrowsError(try Device(routerRtpCapabilities: Fixture.decode(RtpCapabilities.self, "router-rtp-capabilities")).validateConsumer(answer)) {
            XCTAssertTrue("\($0)".contains("video/H264/90000 (packetization-mode 1, profile-level-id 42e01f) was not in nacho's capabilities"), "\($0)")
        }
    }

    func testRejectsConsumersOfAnotherProfile() throws {
        let device = try device("router-rtp-capabilities-h264-vp9")
        let good = try Fixture.decode(ConsumerOptions.self, "consume-answer-video-h264")
        var cases: [(String, ConsumerOptions, String)] = []
        var mode0 = good
        mode0.rtpParameters.codecs[0].parameters["packetization-mode"] = .int(0)
        cases.append(("packetization mode 0", mode0, "was not in nacho's capabilities"))
        var high = good
        high.rtpParameters.codecs[0].parameters["profile-level-id"] = .string("640032")
        cases.append(("high profile when the router offered constrained baseline", high, "profile-level-id 640032) was not in"))
        var vp9Profile2 = good
        vp9Profile2.rtpParameters.codecs[0] = RtpCodecParameters(mimeType: "video/VP9", payloadType: 103, clockRate: 90000,
                                                                 parameters: ["profile-id": .int(2)])
        vp9Profile2.rtpParameters.codecs[1].parameters["apt"] = .int(103)
        cases.append(("VP9 profile 2 when the router has profile 0", vp9Profile2, "(profile-id 2) was not in"))
        var wrongPT = good
        wrongPT.rtpParameters.codecs[0].payloadType = 105
        wrongPT.rtpParameters.codecs[1].parameters["apt"] = .int(105)
        cases.append(("H264 at VP8's payload type", wrongPT, "payload type 105 differs from the router's 101"))
        for (name, options, expected) in cases {
            XCTAssertThrowsError(try device.validateConsumer(options), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
        // A lower level of the same profile is the same codec (levels are not matched).
        var lowerLevel = good
        lowerLevel.rtpParameters.codecs[0].parameters["profile-level-id"] = .string("42c00d")
        XCTAssertNoThrow(try device.validateConsumer(lowerLevel))
        // VP9 without profile-id is profile 0.
        var vp9 = good
        vp9.rtpParameters.codecs[0] = RtpCodecParameters(mimeType: "video/VP9", payloadType: 103, clockRate: 90000)
        vp9.rtpParameters.codecs[1] = RtpCodecParameters(mimeType: "video/rtx", payloadType: 104, clockRate: 90000, parameters: ["apt": .int(103)])
        XCTAssertNoThrow(try device.validateConsumer(vp9))
    }

    /// The real H264 producer (a phone-like client) through mediasoup's produce and consume
    /// rules with nacho's recv capabilities: the consumer mediasoup would create is the one
    /// the real server answered, and nacho accepts it.
    func testRealH264ProducerReachesNacho() throws {
        let device = try device("router-rtp-capabilities-h264-vp9")
        let request = try JSONSerialization.jsonObject(with: Fixture.data("produce-request-video-h264")) as? [String: Any]
        let parameters = try JSONDecoder().decode(RtpParameters.self, from: JSONSerialization.data(withJSONObject: try XCTUnwrap(request?["rtpParameters"])))
        let producer = try MediasoupRules.produce(kind: .video, parameters, router: device.routerCapabilities)
        XCTAssertEqual(producer.type, "simple")
        XCTAssertEqual(producer.consumable.codecs.map(\.payloadType), [101, 102])
        let consumer = try MediasoupRules.consume(producer, kind: .video, capabilities: device.recvRtpCapabilities)
        let real = try Fixture.decode(ConsumerOptions.self, "consume-answer-video-h264")
        XCTAssertEqual(consumer.rtpParameters.codecs.map(\.mimeType), real.rtpParameters.codecs.map(\.mimeType))
        XCTAssertEqual(consumer.rtpParameters.codecs.map(\.payloadType), real.rtpParameters.codecs.map(\.payloadType))
        XCTAssertEqual(consumer.rtpParameters.codecs[0].parameters, real.rtpParameters.codecs[0].parameters, "the producer's parameters")
        XCTAssertNotNil(consumer.rtpParameters.encodings.first?.rtx)
        XCTAssertNoThrow(try device.validateConsumer(consumer))
    }
}
