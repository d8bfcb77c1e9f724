import ORTC
import XCTest

final class ValidationTests: XCTestCase {
    func testCapabilitiesNormalization() throws {
        let caps = RtpCapabilities(codecs: [
            RtpCodecCapability(mimeType: "audio/PCMU", preferredPayloadType: 0, clockRate: 8000),
            RtpCodecCapability(mimeType: "video/VP8", preferredPayloadType: 101, clockRate: 90000, channels: 2),
        ])
        let out = try Validation.validate(caps)
        XCTAssertEqual(out.codecs[0].channels, 1, "audio channels default to 1")
        XCTAssertEqual(out.codecs[0].kind, .audio)
        XCTAssertNil(out.codecs[1].channels, "video has no channels")
    }

    func testRejectsMalformedCapabilities() {
        let bad: [(String, RtpCapabilities)] = [
            ("bad mime", RtpCapabilities(codecs: [RtpCodecCapability(kind: .audio, mimeType: "opus", clockRate: 48000)])),
            ("kind mismatch", RtpCapabilities(codecs: [RtpCodecCapability(kind: .audio, mimeType: "video/VP8", clockRate: 90000)])),
            ("zero clock", RtpCapabilities(codecs: [RtpCodecCapability(mimeType: "video/VP8", clockRate: 0)])),
            ("pt > 127", RtpCapabilities(codecs: [RtpCodecCapability(mimeType: "video/VP8", preferredPayloadType: 200, clockRate: 90000)])),
            ("duplicate pt", RtpCapabilities(codecs: [
                RtpCodecCapability(mimeType: "video/VP8", preferredPayloadType: 100, clockRate: 90000),
                RtpCodecCapability(mimeType: "audio/opus", preferredPayloadType: 100, clockRate: 48000, channels: 2),
            ])),
            ("rtx apt not a number", RtpCapabilities(codecs: [
                RtpCodecCapability(mimeType: "video/rtx", preferredPayloadType: 102, clockRate: 90000, parameters: ["apt": .string("x")]),
            ])),
            ("extension id 0", RtpCapabilities(codecs: [], headerExtensions: [
                RtpHeaderExtension(kind: .audio, uri: RtpHeaderExtensionURI.mid, preferredId: 0),
            ])),
        ]
        for (name, caps) in bad {
            XCTAssertThrowsError(try Validation.validate(caps), name)
        }
    }

    func testDecodingRejectsWrongTypes() {
        let wrong: [(String, String)] = [
            ("clockRate as string", #"{"codecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":"48000"}]}"#),
            ("missing mimeType", #"{"codecs":[{"kind":"audio","clockRate":48000}]}"#),
            ("bad direction", #"{"codecs":[],"headerExtensions":[{"kind":"audio","uri":"x","preferredId":1,"direction":"up"}]}"#),
            ("parameter is an object", #"{"codecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"parameters":{"a":{}}}]}"#),
        ]
        for (name, json) in wrong {
            XCTAssertThrowsError(try JSONDecoder().decode(RtpCapabilities.self, from: Data(json.utf8)), name)
        }
    }

    func testRealProduceRequestsRoundTripAndValidate() throws {
        for name in ["produce-request-audio", "produce-request-video"] {
            let object = try JSONSerialization.jsonObject(with: Fixture.data(name)) as? [String: Any]
            let parametersData = try JSONSerialization.data(withJSONObject: try XCTUnwrap(object?["rtpParameters"]))
            let parameters = try JSONDecoder().decode(RtpParameters.self, from: parametersData)
            let again = try JSONDecoder().decode(RtpParameters.self, from: JSONEncoder().encode(parameters))
            XCTAssertEqual(parameters, again, name)
            XCTAssertEqual(try Validation.validate(parameters).codecs.count, parameters.codecs.count, name)
            XCTAssertEqual(parameters.rtcp.mux, true)
        }
    }

    func testTransportAnswerPicksTheFingerprintByAlgorithm() throws {
        let edge = try Fixture.decode(TransportOptions.self, "create-webrtc-transport-answer-edge").validated()
        XCTAssertEqual(edge.iceParameters.iceLite, true)
        XCTAssertEqual(edge.iceCandidates.map(\.protocol), [.udp, .tcp])
        XCTAssertEqual(edge.iceCandidates[1].tcpType, "passive")
        XCTAssertEqual(edge.iceCandidates[0].address, "127.0.0.1")
        // sha-256 is second in this answer and first in the origin's sibling: chosen by name.
        XCTAssertEqual(edge.dtlsParameters.fingerprint(algorithm: "sha-256")?.value.prefix(8), "D4:C6:FF")
        let origin = try Fixture.decode(TransportOptions.self, "create-webrtc-transport-answer-origin")
        XCTAssertEqual(origin.dtlsParameters.fingerprint(algorithm: "SHA-256")?.value.prefix(8), "82:D3:62")
        XCTAssertEqual(edge.dtlsParameters.role, .auto)

        var empty = edge
        empty.iceCandidates = []
        XCTAssertThrowsError(try empty.validated())
        var noFingerprint = edge
        noFingerprint.dtlsParameters.fingerprints = []
        XCTAssertThrowsError(try noFingerprint.validated())
    }

    func testCandidateWithOnlyIpField() throws {
        let json = #"{"foundation":"f","priority":1,"ip":"127.0.0.1","protocol":"udp","port":4000,"type":"host"}"#
        let candidate = try JSONDecoder().decode(IceCandidate.self, from: Data(json.utf8))
        XCTAssertEqual(candidate.address, "127.0.0.1")
        XCTAssertThrowsError(try JSONDecoder().decode(IceCandidate.self, from: Data(#"{"priority":1,"protocol":"udp","port":1}"#.utf8)))
    }

    /// ICE credentials longer than RFC 8839 allows (256 characters) are rejected: the username
    /// fragment ends up in every STUN check.
    func testOverlongICECredentialsAreRejected() throws {
        let edge = try Fixture.decode(TransportOptions.self, "create-webrtc-transport-answer-edge")
        var ufrag = edge
        ufrag.iceParameters.usernameFragment = String(repeating: "u", count: 70_000)
        XCTAssertThrowsError(try ufrag.validated())
        var password = edge
        password.iceParameters.password = String(repeating: "p", count: 257)
        XCTAssertThrowsError(try password.validated())
        var longest = edge
        longest.iceParameters.usernameFragment = String(repeating: "u", count: 256)
        longest.iceParameters.password = String(repeating: "p", count: 256)
        XCTAssertNoThrow(try longest.validated())
    }
}
