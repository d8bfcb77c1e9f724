@testable import LoadSource
import RTP
import XCTest

/// Which client RTCP the plane parses: compounds with PLI or FIR (payload-specific feedback).
final class PlaneEngineRTCPTests: XCTestCase {
    func testFindsPayloadSpecificFeedbackInACompound() {
        let report = RTCPPacket.receiverReport(ReceiverReport(ssrc: 1, reports: []))
        let pli = RTCPPacket.pli(PictureLossIndication(senderSSRC: 1, mediaSSRC: 2))
        XCTAssertTrue(PlaneEngine.holdsPayloadSpecificFeedback(RTCPPacket.serializeCompound([report, pli])))
        XCTAssertTrue(PlaneEngine.holdsPayloadSpecificFeedback(RTCPPacket.serializeCompound([pli])))
        XCTAssertFalse(PlaneEngine.holdsPayloadSpecificFeedback(RTCPPacket.serializeCompound([report])))
    }

    func testNoTrapOnJunk() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = PlaneEngine.holdsPayloadSpecificFeedback(bytes)
        }
        XCTAssertFalse(PlaneEngine.holdsPayloadSpecificFeedback([0x80, 201, 0xFF, 0xFF]))
    }
}
