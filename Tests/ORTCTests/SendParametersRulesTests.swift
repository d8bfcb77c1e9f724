import ORTC
import XCTest

/// nacho's producer parameters (VP8, VP9, VP8 simulcast) against mediasoup 3.14's produce and
/// consume rules (MediasoupRules); the real produce requests mediasoup accepted pass the same
/// rules, so the rules are not stricter or looser than the server in what they check.
final class SendParametersRulesTests: XCTestCase {
    private func device(_ fixture: String) throws -> Device {
        try Device(routerRtpCapabilities: Fixture.decode(RtpCapabilities.self, fixture))
    }

    private func requestParameters(_ name: String) throws -> (MediaKind, RtpParameters) {
        let object = try JSONSerialization.jsonObject(with: Fixture.data(name)) as? [String: Any]
        let kind = try XCTUnwrap(MediaKind(rawValue: object?["kind"] as? String ?? ""))
        let data = try JSONSerialization.data(withJSONObject: try XCTUnwrap(object?["rtpParameters"]))
        return (kind, try JSONDecoder().decode(RtpParameters.self, from: data))
    }

    func testRealProduceRequestsPassTheRules() throws {
        for (name, router) in [("produce-request-video", "router-rtp-capabilities"), ("produce-request-audio", "router-rtp-capabilities"),
                               ("produce-request-video-h264", "router-rtp-capabilities-h264-vp9")] {
            let (kind, parameters) = try requestParameters(name)
            XCTAssertEqual(try MediasoupRules.produce(kind: kind, parameters, router: device(router).routerCapabilities).type, "simple", name)
        }
    }

    func testNachosSingleStreamProducersPassTheRules() throws {
        for (router, codec, mime) in [("router-rtp-capabilities", nil, "video/VP8"), ("router-rtp-capabilities-h264-vp9", "video/VP9", "video/VP9"),
                                      ("router-rtp-capabilities-vp9-only", nil, "video/VP9")] {
            let device = try device(router)
            let video = try device.sendingRtpParameters(kind: .video, ssrc: 1001, rtxSsrc: 1002, cname: "c", mid: "1", codec: codec)
            let audio = try device.sendingRtpParameters(kind: .audio, ssrc: 2001, rtxSsrc: nil, cname: "c", mid: "0")
            let producer = try MediasoupRules.produce(kind: .video, video, router: device.routerCapabilities)
            XCTAssertEqual(producer.consumable.codecs.first?.mimeType, mime, router)
            _ = try MediasoupRules.produce(kind: .audio, audio, router: device.routerCapabilities, usedSsrcs: [1001, 1002], usedMids: ["1"])
            // What another nacho would receive from it.
            let consumer = try MediasoupRules.consume(producer, kind: .video, capabilities: device.recvRtpCapabilities)
            XCTAssertNoThrow(try device.validateConsumer(consumer), router)
        }
    }

    func testSimulcastParameters() throws {
        let device = try device("router-rtp-capabilities")
        let layers = SimulcastLayer.standard(ssrcs: [3001, 3002, 3003], rtxSsrcs: [4001, 4002, 4003], topMaxBitrate: 1_500_000)
        XCTAssertEqual(layers.map(\.scaleResolutionDownBy), [4, 2, 1])
        XCTAssertEqual(layers.map(\.maxBitrate), [120_000, 420_000, 1_500_000])
        let parameters = try device.sendingSimulcastRtpParameters(layers: layers, cname: "c", mid: "1")
        XCTAssertEqual(parameters.codecs.map(\.mimeType), ["video/VP8", "video/rtx"])
        XCTAssertEqual(parameters.encodings.map(\.ssrc), [3001, 3002, 3003])
        XCTAssertEqual(parameters.encodings.map(\.rtx), [.init(ssrc: 4001), .init(ssrc: 4002), .init(ssrc: 4003)])
        XCTAssertTrue(parameters.encodings.allSatisfy { $0.rid == nil }, "SSRC-based: no rid, so no rid header extension needed")
        XCTAssertEqual(parameters.encodings.map(\.scaleResolutionDownBy), [4, 2, 1])
        XCTAssertEqual(parameters.encodings.map(\.maxBitrate), [120_000, 420_000, 1_500_000])

        let producer = try MediasoupRules.produce(kind: .video, parameters, router: device.routerCapabilities)
        XCTAssertEqual(producer.type, "simulcast")
        let consumer = try MediasoupRules.consume(producer, kind: .video, capabilities: device.recvRtpCapabilities)
        XCTAssertEqual(consumer.rtpParameters.encodings.first?.scalabilityMode, "L3T1", "3 spatial layers, no temporal layers")
        XCTAssertEqual(consumer.rtpParameters.encodings.first?.maxBitrate, 1_500_000)
        XCTAssertNoThrow(try device.validateConsumer(consumer))

        // mediasoup maps SSRC-carrying encodings without a MID.
        var noMid = parameters
        noMid.mid = nil
        XCTAssertNoThrow(try MediasoupRules.produce(kind: .video, noMid, router: device.routerCapabilities))
        XCTAssertNil(try device.sendingSimulcastRtpParameters(layers: layers, cname: "c", mid: nil).mid)

        // The JSON mediasoup gets: the encoding fields its node layer reads, nothing it chokes on.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(parameters)) as? [String: Any]
        let encodings = try XCTUnwrap(json?["encodings"] as? [[String: Any]])
        XCTAssertEqual(encodings.count, 3)
        for encoding in encodings {
            XCTAssertTrue(Set(encoding.keys).isSubset(of: ["ssrc", "rtx", "maxBitrate", "scaleResolutionDownBy", "dtx"]), "\(encoding.keys)")
            XCTAssertNotNil((encoding["rtx"] as? [String: Any])?["ssrc"] as? Int)
        }
        XCTAssertEqual(encodings.compactMap { $0["scaleResolutionDownBy"] as? Double }, [4, 2, 1])
    }

    func testSimulcastWithoutRTXOnTheRouter() throws {
        var caps = try Fixture.decode(RtpCapabilities.self, "router-rtp-capabilities")
        caps.codecs.removeAll(where: \.isRtx)
        let device = try Device(routerRtpCapabilities: caps)
        let parameters = try device.sendingSimulcastRtpParameters(
            layers: SimulcastLayer.standard(ssrcs: [1, 2, 3], rtxSsrcs: [4, 5, 6], topMaxBitrate: 1_000_000), cname: "c", mid: "1")
        XCTAssertEqual(parameters.codecs.count, 1)
        XCTAssertTrue(parameters.encodings.allSatisfy { $0.rtx == nil })
        XCTAssertNoThrow(try MediasoupRules.produce(kind: .video, parameters, router: device.routerCapabilities))
    }

    func testSimulcastRefusals() throws {
        let device = try device("router-rtp-capabilities-h264-vp9")
        let good = SimulcastLayer.standard(ssrcs: [1, 2, 3], rtxSsrcs: [4, 5, 6], topMaxBitrate: 1_000_000)
        var duplicate = good
        duplicate[2].rtxSsrc = 1
        var zero = good
        zero[0].ssrc = 0
        var unordered = good
        unordered.swapAt(0, 2)
        var noBitrate = good
        noBitrate[1].maxBitrate = 0
        var upscale = good
        upscale[2].scaleResolutionDownBy = 0.5
        let cases: [(String, [SimulcastLayer], String?, String)] = [
            ("VP9 simulcast (mediasoup: SVC only)", good, "video/VP9", "simulcast is VP8 only"),
            ("H264", good, "video/H264", "no video/H264 encoder"),
            ("one layer", Array(good.prefix(1)), nil, "at least 2 layers"),
            ("an SSRC twice", duplicate, nil, "SSRC 1 used twice"),
            ("SSRC 0", zero, nil, "SSRC 0"),
            ("largest first", unordered, nil, "from the smallest to the largest"),
            ("no bitrate", noBitrate, nil, "maxBitrate 0"),
            ("upscaled", upscale, nil, "below 1"),
        ]
        for (name, layers, codec, expected) in cases {
            XCTAssertThrowsError(try device.sendingSimulcastRtpParameters(layers: layers, cname: "c", mid: "1", codec: codec), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
        XCTAssertNoThrow(try device.sendingSimulcastRtpParameters(layers: good, cname: "c", mid: "1"), "VP8 is on this router too")
    }

    /// The rules themselves refuse what mediasoup refuses (so passing them means something).
    func testTheRulesRefuseWhatMediasoupRefuses() throws {
        let device = try device("router-rtp-capabilities-h264-vp9")
        let router = device.routerCapabilities
        let simulcast = try device.sendingSimulcastRtpParameters(
            layers: SimulcastLayer.standard(ssrcs: [1, 2, 3], rtxSsrcs: [4, 5, 6], topMaxBitrate: 1_000_000), cname: "c", mid: "1")
        let vp9 = try device.sendingRtpParameters(kind: .video, ssrc: 9, rtxSsrc: 10, cname: "c", mid: "1", codec: "video/VP9")
        var cases: [(String, RtpParameters, String)] = []
        var vp9Simulcast = simulcast
        vp9Simulcast.codecs = vp9.codecs
        cases.append(("VP9 with three encodings", vp9Simulcast, "VP9 codec not supported for simulcast"))
        var noSsrcs = simulcast
        for index in noSsrcs.encodings.indices { noSsrcs.encodings[index].ssrc = nil }
        cases.append(("simulcast without ssrc or rid", noSsrcs, "missing ssrc or rid"))
        var bare = vp9
        bare.mid = nil
        bare.encodings = [RtpEncodingParameters()]
        cases.append(("one encoding, no ssrc, no mid", bare, "missing ssrc or rid, or rtpParameters.mid"))
        var mode0 = vp9
        mode0.codecs = [RtpCodecParameters(mimeType: "video/H264", payloadType: 96, clockRate: 90000, parameters: ["packetization-mode": .int(0)])]
        cases.append(("H264 packetization mode 0", mode0, "unsupported codec"))
        var orphanRtx = vp9
        orphanRtx.codecs[1].parameters["apt"] = .int(55)
        cases.append(("RTX apt to nothing", orphanRtx, "missing media codec"))
        var unknownURI = vp9
        unknownURI.headerExtensions.append(RtpHeaderExtensionParameters(uri: "urn:example:nope", id: 9))
        cases.append(("unknown header extension", unknownURI, "invalid RtpHeaderExtensionUri"))
        var svcSimulcast = simulcast
        svcSimulcast.encodings[0].scalabilityMode = "L3T3"
        cases.append(("simulcast of SVC encodings", svcSimulcast, "cannot use both simulcast and encodings with multiple SVC spatial layers"))
        for (name, parameters, expected) in cases {
            XCTAssertThrowsError(try MediasoupRules.produce(kind: .video, parameters, router: router), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
        XCTAssertThrowsError(try MediasoupRules.produce(kind: .video, vp9, router: router, usedSsrcs: [10])) {
            XCTAssertTrue("\($0)".contains("ssrc already exists"), "\($0)")
        }
        XCTAssertThrowsError(try MediasoupRules.produce(kind: .video, vp9, router: router, usedMids: ["1"])) {
            XCTAssertTrue("\($0)".contains("MID already exists"), "\($0)")
        }
        var svc = vp9
        svc.encodings[0].scalabilityMode = "L3T3_KEY"
        XCTAssertEqual(try MediasoupRules.produce(kind: .video, svc, router: router).type, "svc")
    }
}
