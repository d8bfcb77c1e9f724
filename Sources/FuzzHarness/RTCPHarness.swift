import Congestion
import Media
import Participant
import RTP

/// One RTCP compound datagram into what both halves of a participant do with it: sender
/// reports into `ReceptionStatistics` and the receiver report built from them, NACKs into
/// `OutboundStream.retransmit` (with and without RTX), report blocks, REMB and transport-cc
/// feedback into the send side's congestion controller, and the serializers of every packet.
///
/// Input: the datagram, as received. Invariants: what parses serializes to a compound that
/// parses again into as many packets; NACK lists pack and unpack to the same sequence
/// numbers; a retransmission is an RTP packet that parses, RTX carrying the original
/// sequence number first; REMB re-encodes to the same bitrate; loss ratios stay in 0...1; a
/// target the controller gives stays within its configured maximum.
public enum RTCPHarness {
    public static func run(_ data: [UInt8]) {
        guard let packets = try? RTCPPacket.parseCompound(data[...]) else { return }
        let again = RTCPPacket.serializeCompound(packets)
        guard let reparsed = try? RTCPPacket.parseCompound(again) else { return require(false, "serialized compound does not parse") }
        require(reparsed.count == packets.count, "\(packets.count) packets serialize into \(reparsed.count)")

        var statistics = ReceptionStatistics(ssrc: 0x2222_2222, clockRate: 90000)
        var arrival = 1.0
        for packet in packets {
            arrival += 0.02
            switch packet {
            case .senderReport(let report):
                statistics.packetReceived(sequenceNumber: UInt16(truncatingIfNeeded: report.packetCount),
                                          timestamp: report.rtpTimestamp, size: 100, arrival: arrival)
                statistics.senderReportReceived(ntpTimestamp: report.ntpTimestamp, arrival: arrival)
                readReports(report.reports)
            case .receiverReport(let report):
                readReports(report.reports)
                var controller = Self.controller
                for block in report.reports {
                    check(controller.receiverReport(fractionLost: block.fractionLost, roundTrip: 0.05, now: arrival), "a receiver report")
                }
            case .nack(let nack):
                retransmit(nack)
            case .remb(let remb):
                let encoded = RTCPPacket.serializeCompound([.remb(remb)])
                guard case .remb(let decoded)? = try? RTCPPacket.parseCompound(encoded).first else {
                    return require(false, "REMB does not read back")
                }
                require(decoded.bitrate == remb.bitrate && decoded.ssrcs == remb.ssrcs, "REMB \(remb.bitrate) reads back as \(decoded.bitrate)")
                // What the send side makes of it: targets stay within their bounds.
                var controller = Self.controller
                check(controller.remb(bitrate: remb.bitrate, now: arrival), "REMB \(remb.bitrate)")
            case .transportCC(let feedback):
                var controller = Self.controller
                check(controller.transportFeedback(feedback, now: arrival), "transport-cc")
                // The share of packets lost the feedback reports.
                let loss = feedback.statuses.isEmpty ? 0 : Double(feedback.statuses.count - feedback.receivedCount) / Double(feedback.statuses.count)
                require((0...1).contains(loss), "transport-cc loss \(loss)")
                require(feedback.receiveDeltas.count == feedback.receivedCount, "transport-cc deltas do not match received packets")
            case .fir(let fir):
                _ = fir.entries.map(\.ssrc)
            case .sourceDescription(let sdes):
                _ = sdes.chunks.map(\.cname)
            case .goodbye(let bye):
                _ = bye.ssrcs
            case .pli, .other:
                continue
            }
        }
        // The receiver report built from what was learned, as `MediaReceiver` sends it.
        let report = statistics.makeReport(now: arrival + 0.5)
        let rr = RTCPPacket.serializeCompound([.receiverReport(ReceiverReport(ssrc: 1, reports: [report]))])
        guard case .receiverReport(let read)? = try? RTCPPacket.parseCompound(rr).first else {
            return require(false, "receiver report does not read back")
        }
        require(read.reports == [report], "receiver report block does not read back")
    }

    /// A controller that has sent the packets of transport-wide sequence 0-199 (what the
    /// seeds' feedback covers), 1 ms apart, made once; each run feeds a copy.
    static let controller: GoogCongestionController = {
        var controller = GoogCongestionController(configuration: .init(startBitrate: 300_000, minBitrate: 30_000, maxBitrate: 2_000_000))
        for sequence in 0..<200 {
            controller.sent(SentPacket(transportSequence: Int64(sequence), sendTime: 0.8 + Double(sequence) / 1000, size: 1100))
        }
        return controller
    }()

    /// A new target, if any, is a bitrate the configuration allows (at most its maximum; a
    /// REMB may cap it below the minimum) and a pacing rate that is one.
    private static func check(_ target: CongestionTarget?, _ what: @autoclosure () -> String) {
        guard let target else { return }
        require((0...2_000_000).contains(target.targetBitrate), "\(what()) gives a target of \(target.targetBitrate)")
        require(target.pacingRate >= 0, "\(what()) gives a pacing rate of \(target.pacingRate)")
    }

    private static func readReports(_ reports: [ReceptionReport]) {
        for report in reports {
            // What the send side computes from a report block.
            let fraction = Double(report.fractionLost) / 256
            require((0..<1).contains(fraction), "fraction lost \(fraction)")
            _ = (report.cumulativeLost, report.jitter, report.delaySinceLastSenderReport)
        }
    }

    /// Senders with a full history, made once (with and without RTX); NACKs are answered from
    /// them. `OutboundStream` starts at a random sequence number, so NACKed numbers are taken
    /// relative to the first packet sent: what a run checks depends on its input only.
    // Unsafe because OutboundStream is a class; sound because harnesses run on one thread,
    // and a run only reads the history (retransmitting changes counters no check reads).
    nonisolated(unsafe) static let senders: [(sender: OutboundStream, first: UInt16)] = [true, false].map { rtx in
        var configuration = OutboundStream.Configuration(ssrc: 0x2222_2222, payloadType: 101, clockRate: 90000, codec: .vp8)
        if rtx { configuration.rtx = (ssrc: 0x3333_3333, payloadType: 102) }
        configuration.mid = "0"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        configuration.transportSequenceExtensionId = 5
        configuration.maxPayloadSize = 4 + 3
        let sender = OutboundStream(configuration: configuration)
        var transportSequence: UInt16 = 0
        var first: UInt16?
        // More packets than the history holds, so old slots were overwritten.
        for frame in 0..<(configuration.historySize + 100) / 2 {
            sender.send(frame: [UInt8(truncatingIfNeeded: frame), 1, 2, 3, 4, 5], timestamp: UInt32(frame) * 3000,
                        captureTime: Double(frame) / 30, isKeyFrame: false, transportSequence: &transportSequence,
                        now: Double(frame) / 30) { packet in
                if first == nil { first = (try? RTPPacket(parsing: Array(packet)))?.sequenceNumber }
            }
        }
        return (sender, first ?? 0)
    }

    private static func retransmit(_ nack: GenericNACK) {
        let lost = nack.lostSequenceNumbers
        // NACK packing, as the receive side builds them: the same set of numbers.
        let packed = GenericNACK(senderSSRC: nack.senderSSRC, mediaSSRC: nack.mediaSSRC, lost: lost)
        require(Set(packed.lostSequenceNumbers) == Set(lost), "NACK packing changed the lost set")
        let (sender, first) = senders[Int(nack.mediaSSRC & 1)]
        var transportSequence: UInt16 = 0
        let wanted = lost.map { first &+ $0 }
        var resent = 0
        sender.retransmit(wanted, transportSequence: &transportSequence, now: 10) { bytes in
            resent += 1
            guard let parsed = try? RTPPacket(parsing: Array(bytes)) else { return require(false, "retransmission does not parse") }
            if let rtx = sender.configuration.rtx {
                require(parsed.ssrc == rtx.ssrc && parsed.payload.count >= 2, "RTX packet without its original sequence number")
                let original = UInt16(parsed.payload[parsed.payload.startIndex]) << 8 | UInt16(parsed.payload[parsed.payload.startIndex + 1])
                require(wanted.contains(original), "RTX for \(original), which was not NACKed")
            } else {
                require(wanted.contains(parsed.sequenceNumber), "resent \(parsed.sequenceNumber), which was not NACKed")
            }
        }
        require(resent <= wanted.count, "\(resent) retransmissions for \(wanted.count) NACKed packets")
    }
}
