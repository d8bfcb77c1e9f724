import Foundation
import TestSupport
import XCTest

/// The test room server answers nacho's producers with transport-cc feedback, as mediasoup does
/// when the produce parameters carry the transport-wide sequence extension and the codec the
/// transport-cc feedback (NachoCapabilities offers both for video).
final class TransportFeedbackTests: XCTestCase {
    func testNachosProducerTransportGetsTransportCCFeedback() throws {
        let server = try RoomServerProcess()
        let run = try Nacho.run(["join", "--edge", server.edge, "--origin", server.origin, "--room", "42", "--member", "7",
                                 "--no-audio", "--video-source", "synthetic", "--duration", "8", "--json"], timeout: 40)
        XCTAssertEqual(run.status, 0, run.stderr)
        var videoPackets = 0
        for line in run.stdoutLines {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            if object["direction"] as? String == "send", object["kind"] as? String == "video" {
                videoPackets = try XCTUnwrap(object["packets"] as? Int, line)
            }
        }
        XCTAssertGreaterThan(videoPackets, 100, run.stdout)
        let transports = try XCTUnwrap((try server.state()["media"] as? [String: Any])?["transports"] as? [String: [String: Any]])
        let feedback = try XCTUnwrap(transports.values.compactMap { $0["transport_cc"] as? [String: Any] }.first, "\(transports)")
        let sent = try XCTUnwrap(feedback["feedback_sent"] as? Int)
        let recorded = try XCTUnwrap(feedback["packets_recorded"] as? Int)
        let lost = try XCTUnwrap(feedback["lost_reported"] as? Int)
        print("transport-cc to nacho: \(sent) feedbacks, \(recorded) packets recorded, \(lost) reported lost, \(videoPackets) video packets sent")
        // every 100 ms while packets come (8 s, less the setup)
        XCTAssertGreaterThan(sent, 50)
        // each video packet carried a wide sequence number (and RTX or probes may add some)
        XCTAssertGreaterThanOrEqual(recorded, videoPackets)
        XCTAssertLessThanOrEqual(Double(lost), 0.01 * Double(recorded), "loopback loses nothing")
    }
}
