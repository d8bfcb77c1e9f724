import Foundation
import Participant
import SocketIO

/// What `join` prints when it leaves: per remote producer, what arrived.
enum ReceiveReportPrinter {
    static func print(_ outcome: EdgeReceiver.Outcome, json: Bool) {
        var lines: [String] = []
        for report in outcome.consumers {
            if json {
                let object: JSONValue = [
                    "member_no": .string(report.owner), "kind": .string(report.kind.rawValue),
                    "producer_id": .string(report.producerId), "consumer_id": .string(report.consumerId),
                    "packets": .int(report.packets), "bytes": .int(report.bytes), "lost": .int(report.lost),
                    "retransmissions": .int(report.retransmissions), "sender_reports": .int(report.senderReports),
                ]
                lines.append(object.jsonText)
            } else {
                lines.append("member \(report.owner)\t\(report.kind)\t\(report.producerId)\t\(report.packets) packets\t\(report.bytes) bytes\t\(report.lost) lost")
            }
        }
        if !json && outcome.reconnections > 0 {
            lines.append("(\(outcome.reconnections) signaling reconnections)")
        }
        FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
    }
}
