import Media
import ORTC
import Participant
import RTP

/// A receive session's consumer lifecycle, as `EdgeReceiver` and `MediaReceiver` run it but
/// without a socket: producers announced (`ConsumerTable`), consume answers checked by the
/// captured router's device and added to the `ReceiveEngine`, consumers closed, paused and
/// resumed by the server, packets and sender reports for any SSRC, time passing.
///
/// Input: operations until the end, each an op byte (low 3 bits) and its arguments:
///   0 newProducers(p)                          1 consume answer (p, consumer c, SSRC slot, video, paused)
///   2 consumerClosed(c)                        3 producerPaused(c)     4 producerResumed(c)
///   5 an RTP packet (SSRC slot, sequence, timestamp step, marker, payload chunk)
///   6 a sender report (SSRC slot)              7 time passes (the repair step runs; figures read)
/// Invariants: what the engine and the table hold is bounded by what is live (closed
/// consumers free their streams and SSRCs; one summary per producer); each consumer that
/// closed is reported to the statistics exactly once, marked ended.
public enum ReceiverLifecycleHarness {
    static let producers = 8
    static let consumerIds = 16
    static let ssrcSlots = 24

    static func ssrc(_ slot: UInt8) -> UInt32 { 0x1000 + UInt32(slot) % UInt32(ssrcSlots) }

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let engine = ReceiveEngine(localSSRC: 1, cname: "fuzz", monotonicToNTP: 3_900_000_000)
        let table = ConsumerTable()
        var now = 100.0
        var live: Set<String> = []
        var endedProducers: Set<String> = []
        var closedSinceStats = 0
        var timestamp: UInt32 = 0
        while !input.isAtEnd {
            let op = input.u8()
            switch op & 7 {
            case 0:
                _ = table.claim("producer-\(input.u8() % UInt8(producers))")
            case 1:
                let producer = "producer-\(input.u8() % UInt8(producers))"
                let id = "consumer-\(input.u8() % UInt8(consumerIds))"
                let slot = input.u8()
                let video = input.bool()
                let paused = input.bool()
                guard let options = try? ORTCHarness.device?.validateConsumer(answer(id: id, producer: producer, ssrc: ssrc(slot),
                                                                                    video: video)) else { continue }
                table.bind(producerId: producer, consumerId: id)
                if engine.add(options, owner: "member-\(producer)", paused: paused, recorder: nil, now: now) {
                    require(live.insert(id).inserted, "consumer \(id) added twice")
                }
            case 2:
                let id = "consumer-\(input.u8() % UInt8(consumerIds))"
                table.closed(consumerId: id)
                let wasLive = live.remove(id) != nil
                let report = engine.totals().last { $0.track.consumerId == id && !$0.closed }
                require(engine.close(consumerId: id, now: now) == wasLive, "close of \(id): live \(wasLive)")
                if wasLive {
                    closedSinceStats += 1
                    if let report { endedProducers.insert(report.track.producerId) }
                }
            case 3, 4:
                engine.setPaused(consumerId: "consumer-\(input.u8() % UInt8(consumerIds))", op & 7 == 3, now: now)
            case 5:
                let ssrc = ssrc(input.u8())
                let sequence = input.u16()
                timestamp &+= UInt32(input.u8()) * 300
                let marker = input.bool()
                let payload = input.chunk()
                let payloadType: UInt8 = input.bool() ? 102 : (ssrc & 1 == 0 ? 101 : 100)
                // A transport-wide sequence from what the input already gives (jumps, repeats, wraps).
                let transportSequence = sequence &+ UInt16(truncatingIfNeeded: timestamp / 300)
                let element = RTPHeaderExtension.Element(id: 5, data: [UInt8(transportSequence >> 8), UInt8(transportSequence & 0xFF)])
                engine.receive(RTPPacket(payloadType: payloadType, sequenceNumber: sequence, timestamp: timestamp, ssrc: ssrc,
                                         marker: marker, headerExtension: RTPHeaderExtension(elements: [element]), payload: payload[...]),
                               size: payload.count + 12, now: now)
            case 6:
                let report = SenderReport(ssrc: ssrc(input.u8()), ntpTimestamp: UInt64(input.u32()) << 32 | 0x8000_0000,
                                          rtpTimestamp: timestamp, packetCount: 1, octetCount: 1)
                engine.receive([.senderReport(report)], now: now)
            default:
                now += Double(input.u8()) / 100
                engine.repairIfDue(now: now)
                _ = engine.receiverReports(now: now)
                let stats = engine.trackStats()
                require(stats.filter(\.ended).count == closedSinceStats,
                        "\(stats.filter(\.ended).count) ended tracks reported, \(closedSinceStats) closed")
                require(stats.filter { !$0.ended }.count == live.count, "live tracks reported")
                closedSinceStats = 0
            }
            while let compound = engine.nextOutgoing() {
                for case .transportCC(let feedback) in compound {
                    require(feedback.statuses.count <= TransportCCFeedback.maxStatuses
                                && feedback.receiveDeltas.count == feedback.receivedCount, "transport-cc feedback out of shape")
                }
            }
            require(engine.liveConsumers == live.count, "engine holds \(engine.liveConsumers) live consumers, \(live.count) are")
            require(engine.routedSSRCs <= 2 * live.count, "\(engine.routedSSRCs) SSRCs routed for \(live.count) consumers")
            require(engine.endedConsumers <= endedProducers.count,
                    "\(engine.endedConsumers) summaries for \(endedProducers.count) producers")
            require(engine.payloadBlocks <= live.count * (2 * 256 + 1), "\(engine.payloadBlocks) packet blocks held")
            let counts = table.counts
            require(counts.producers <= producers && counts.consumers <= consumerIds, "table holds \(counts)")
        }
        _ = engine.closeAll(now: now)
        require(engine.liveConsumers == 0 && engine.routedSSRCs == 0 && engine.payloadBlocks == 0, "closeAll left something")
    }

    /// A consume answer as the captured router would give it (VP8 101 + RTX 102, Opus 100).
    static func answer(id: String, producer: String, ssrc: UInt32, video: Bool) -> ConsumerOptions {
        let codecs = video
            ? [RtpCodecParameters(mimeType: "video/VP8", payloadType: 101, clockRate: 90000, rtcpFeedback: [.nack, .pli, .transportCC]),
               RtpCodecParameters(mimeType: "video/rtx", payloadType: 102, clockRate: 90000, parameters: ["apt": .int(101)])]
            : [RtpCodecParameters(mimeType: "audio/opus", payloadType: 100, clockRate: 48000, channels: 2,
                                  rtcpFeedback: [.nack])]
        let encoding = RtpEncodingParameters(ssrc: ssrc, rtx: video ? .init(ssrc: ssrc &+ 1) : nil)
        // Video carries transport-wide sequence numbers, so the engine's transport-cc feedback runs.
        let extensions = video ? [RtpHeaderExtensionParameters(uri: RtpHeaderExtensionURI.transportWideCC, id: 5)] : []
        return ConsumerOptions(id: id, producerId: producer, kind: video ? .video : .audio,
                               rtpParameters: RtpParameters(codecs: codecs, headerExtensions: extensions, encodings: [encoding]))
    }

    /// Seeds: a producer announced, consumed, fed, closed and consumed again; pause and resume.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        var churn = FuzzInputWriter()
        for round in 0..<4 {
            churn.raw([0, 1])                                   // newProducers(producer-1)
            churn.raw([1, 1, UInt8(round), UInt8(2 * round), 1, 0])  // consume: video, not paused
            for sequence in 0..<6 {
                churn.u8(5)
                churn.u8(UInt8(2 * round))
                churn.u16(UInt16(sequence == 3 ? 9 : sequence))
                churn.u8(10)
                churn.bool(true)
                churn.chunk([0x10, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00])
                churn.bool(false)
            }
            churn.raw([6, UInt8(2 * round)])
            churn.u32(3_900_000_000)
            churn.raw([7, 30, 2, UInt8(round), 7, 5])
        }
        var pause = FuzzInputWriter()
        pause.raw([0, 2, 1, 2, 3, 5, 0, 0, 1, 0, 1, 7, 10, 3, 3, 7, 10, 4, 3, 7, 200, 2, 3, 7, 1])
        return [churn.bytes, pause.bytes]
    }
}
