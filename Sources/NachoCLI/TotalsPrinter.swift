import Foundation
import Participant
import SocketIO

/// What `join` prints when it leaves: per remote producer, what arrived.
enum TotalsPrinter {
    static func print(received: EdgeReceiver.Outcome?, sent: OriginSender.Outcome?, json: Bool) {
        var lines: [String] = []
        for report in sent?.producers ?? [] {
            if json {
                let object: JSONValue = [
                    "direction": "send", "kind": .string(report.kind.rawValue), "producer_id": .string(report.producerId),
                    "source": .string(report.source), "frames": .int(report.frames), "key_frames": .int(report.keyFrames),
                    "packets": .int(report.packets), "bytes": .int(report.bytes), "retransmissions": .int(report.retransmissions),
                    "nacks": .int(report.nacks), "key_frame_requests": .int(report.keyFrameRequests),
                    "target_bitrate": .int(report.targetBitrate),
                ]
                lines.append(object.jsonText)
            } else {
                lines.append("sent \(report.kind)\t\(report.producerId)\t\(report.frames) frames\t\(report.packets) packets\t\(report.bytes) bytes\t\(report.retransmissions) resent\t\(report.source)")
            }
        }
        for report in received?.consumers ?? [] {
            if json {
                let object: JSONValue = [
                    "direction": "receive",
                    "member_no": .string(report.track.owner), "kind": .string(report.track.kind.rawValue),
                    "producer_id": .string(report.track.producerId), "consumer_id": .string(report.track.consumerId),
                    "packets": .int(report.packets), "bytes": .int(report.bytes), "lost": .int(report.lost),
                    "retransmissions": .int(report.retransmissions), "sender_reports": .int(report.senderReports),
                ]
                lines.append(object.jsonText)
            } else {
                lines.append("member \(report.track.owner)\t\(report.track.kind)\t\(report.track.producerId)\t\(report.packets) packets\t\(report.bytes) bytes\t\(report.lost) lost")
            }
        }
        let reconnections = (received?.reconnections ?? 0) + (sent?.reconnections ?? 0)
        if !json && reconnections > 0 {
            lines.append("(\(reconnections) reconnection\(reconnections == 1 ? "" : "s"))")
        }
        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
    }
}
