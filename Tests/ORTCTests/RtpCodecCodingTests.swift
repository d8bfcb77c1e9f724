import Foundation
import ORTC
import XCTest

/// `RtpCodecCapability` and `RtpCodecParameters` share their codec fields through `RtpCodec`;
/// on the wire they stay one flat JSON object each, as mediasoup writes them.
final class RtpCodecCodingTests: XCTestCase {
    private func object(_ json: String) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSDictionary)
    }

    private func encoded(_ value: some Encodable) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? NSDictionary)
    }

    func testCapabilityRoundTripsAsOneFlatObject() throws {
        let json = #"{"kind":"video","mimeType":"video/VP8","preferredPayloadType":101,"clockRate":90000,"#
            + #""parameters":{"x-google-start-bitrate":1000},"rtcpFeedback":[{"type":"nack","parameter":"pli"}]}"#
        let capability = try JSONDecoder().decode(RtpCodecCapability.self, from: Data(json.utf8))
        XCTAssertEqual(capability, RtpCodecCapability(kind: .video, mimeType: "video/VP8", preferredPayloadType: 101, clockRate: 90000,
                                                      parameters: ["x-google-start-bitrate": .int(1000)], rtcpFeedback: [.pli]))
        XCTAssertEqual(try encoded(capability), try object(json))
    }

    func testCapabilityDefaultsMissingKeysAndKeepsAMissingKindMissing() throws {
        let capability = try JSONDecoder().decode(RtpCodecCapability.self, from: Data(#"{"mimeType":"audio/opus","clockRate":48000,"channels":2}"#.utf8))
        XCTAssertNil(capability.kind, "decoding does not infer the kind; the initializer does")
        XCTAssertNil(capability.preferredPayloadType)
        XCTAssertEqual(capability.channels, 2)
        XCTAssertEqual(capability.parameters, [:])
        XCTAssertEqual(capability.rtcpFeedback, [])
        XCTAssertEqual(try encoded(capability),
                       try object(#"{"mimeType":"audio/opus","clockRate":48000,"channels":2,"parameters":{},"rtcpFeedback":[]}"#))
    }

    func testParametersRoundTripAsOneFlatObject() throws {
        let json = #"{"mimeType":"video/rtx","payloadType":102,"clockRate":90000,"parameters":{"apt":101},"rtcpFeedback":[]}"#
        let parameters = try JSONDecoder().decode(RtpCodecParameters.self, from: Data(json.utf8))
        XCTAssertEqual(parameters, RtpCodecParameters(mimeType: "video/rtx", payloadType: 102, clockRate: 90000, parameters: ["apt": .int(101)]))
        XCTAssertTrue(parameters.isRtx)
        XCTAssertEqual(parameters.kind, .video)
        XCTAssertEqual(try encoded(parameters), try object(json))
        XCTAssertThrowsError(try JSONDecoder().decode(RtpCodecParameters.self, from: Data(#"{"mimeType":"audio/opus","clockRate":48000}"#.utf8)),
                             "payloadType is required")
    }

    func testCodecFieldsReadAndWriteThroughTheEmbeddingType() {
        var parameters = RtpCodecParameters(mimeType: "video/VP8", payloadType: 101, clockRate: 90000)
        parameters.parameters["x-google-max-bitrate"] = .int(2000)
        parameters.rtcpFeedback.append(.nack)
        XCTAssertEqual(parameters.codec, RtpCodec(mimeType: "video/VP8", clockRate: 90000,
                                                  parameters: ["x-google-max-bitrate": .int(2000)], rtcpFeedback: [.nack]))
        XCTAssertEqual([parameters].map(\.mimeType), ["video/VP8"])
    }
}
