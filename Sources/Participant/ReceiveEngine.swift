import Media
import ORTC
import Recording
import RTP

/// The receive side of one edge transport without sockets, timers or threads: consumers are
/// added and closed, packets and time go in; RTCP to send, frames for the recorders and
/// figures come out. `MediaReceiver` runs it on the transport's event loop; tests and the
/// fuzz harness drive it directly with their own clock.
///
/// Memory follows what is live: a closed consumer's stream (ring, NACK state, depacketizer
/// buffers) and its consume answer are dropped at once; what stays is one `ConsumerTotals`
/// per closed consumer (a producer consumed again and again shares one), and the repair
/// step walks only live consumers.
package final class ReceiveEngine {
    package typealias ConsumerTotals = MediaReceiver.ConsumerTotals

    private final class Consumer {
        let track: ConsumedTrack
        let stream: InboundStream
        let recorder: MemberRecorder?
        /// Oversize H264 parameter sets already warned about.
        var oversizeWarned = 0

        init(track: ConsumedTrack, stream: InboundStream, recorder: MemberRecorder?) {
            self.track = track
            self.stream = stream
            self.recorder = recorder
        }
    }

    /// SSRC of this receiver's own RTCP.
    package let localSSRC: UInt32
    package let cname: String
    /// Wall-clock NTP seconds minus the engine's clock, for end-to-end delays.
    private let monotonicToNTP: Double?

    /// Live consumers in the order they were added.
    private var consumers: [Consumer] = []
    /// Media and RTX SSRC → live consumer.
    private var bySSRC: [UInt32: Consumer] = [:]
    /// Closed consumers' final figures, one per producer (a producer consumed again adds up).
    private var ended: [ConsumerTotals] = []
    private var endedByProducer: [String: Int] = [:]
    /// Closed consumers' figures for the next `trackStats` (the interval in which they ended).
    private var endedStats: [TrackStats] = []
    /// Closed consumers' counts, so the running totals never go backwards.
    private var endedTotals = ReceiveProgress.Totals()
    /// When the repair step is due next.
    private var nextRepair = -Double.infinity
    /// RTCP compounds waiting to be sent, in order.
    private var outbox: [[RTCPPacket]] = []
    /// Transport-cc feedback about everything this transport receives, for the SFU's estimate
    /// of our downlink (which picks the simulcast layer we get).
    private var transportFeedback: TransportFeedbackGenerator
    /// The transport-wide sequence number's header extension id, once a consumer negotiated it.
    private var transportSequenceId: UInt8?

    /// The repair step's period.
    package static let repairInterval = 0.02

    package init(localSSRC: UInt32, cname: String, monotonicToNTP: Double? = nil) {
        self.localSSRC = localSSRC
        self.cname = cname
        self.monotonicToNTP = monotonicToNTP
        transportFeedback = TransportFeedbackGenerator(senderSSRC: localSSRC)
    }

    // MARK: Consumers

    /// Starts receiving a consumer's SSRCs; video that is not paused starts with a key-frame
    /// request (not every server asks the producer for one). A consumer without an SSRC or a
    /// codec, or one whose SSRC another live consumer has, is not added (false).
    @discardableResult
    package func add(_ options: ConsumerOptions, owner: String, paused: Bool, recorder: MemberRecorder?, now: Double) -> Bool {
        guard let configuration = Self.configuration(of: options), bySSRC[configuration.ssrc] == nil,
              configuration.rtx.map({ bySSRC[$0.ssrc] == nil }) ?? true,
              !consumers.contains(where: { $0.track.consumerId == options.id }) else { return false }
        let stream = InboundStream(configuration: configuration, deliversAudio: recorder != nil)
        stream.monotonicToNTP = monotonicToNTP
        stream.paused = paused
        let track = ConsumedTrack(consumerId: options.id, producerId: options.producerId, owner: owner, kind: options.kind,
                                  codec: options.rtpParameters.codecs.first?.mimeType ?? "?")
        let transportSequenceId = options.rtpParameters.codecs.first?.rtcpFeedback.contains(.transportCC) == true
            ? options.rtpParameters.headerExtensionId(RtpHeaderExtensionURI.transportWideCC).flatMap { UInt8(exactly: $0) } : nil
        let consumer = Consumer(track: track, stream: stream, recorder: recorder)
        // One transport, one numbering: the router gives every consumer the same extension id.
        if let transportSequenceId { self.transportSequenceId = transportSequenceId }
        consumers.append(consumer)
        bySSRC[configuration.ssrc] = consumer
        if let rtx = configuration.rtx { bySSRC[rtx.ssrc] = consumer }
        if stream.isVideo && !paused { requestKeyFrame(consumer, now: now) }
        return true
    }

    package static func configuration(of options: ConsumerOptions) -> InboundStream.Configuration? {
        guard let encoding = options.rtpParameters.encodings.first, let ssrc = encoding.ssrc,
              let codec = options.rtpParameters.codecs.first else { return nil }
        var configuration = InboundStream.Configuration(
            ssrc: ssrc, payloadType: UInt8(clamping: codec.payloadType), clockRate: codec.clockRate,
            codec: MediaCodec(mimeType: codec.mimeType), nack: codec.rtcpFeedback.contains(.nack))
        configuration.absCaptureTimeExtensionId = options.rtpParameters.headerExtensionId(RtpHeaderExtensionURI.absCaptureTime)
            .flatMap { UInt8(exactly: $0) }
        if let rtxSSRC = encoding.rtx?.ssrc,
           let rtx = options.rtpParameters.codecs.first(where: { $0.isRtx && $0.parameters["apt"]?.intValue == codec.payloadType }) {
            configuration.rtx = (rtxSSRC, UInt8(clamping: rtx.payloadType))
        }
        return configuration
    }

    /// The server closed a consumer: what is buffered goes out, its track ends, its memory is
    /// freed; its figures are kept. False for a consumer that is not live.
    @discardableResult
    package func close(consumerId: String, now: Double) -> Bool {
        guard let index = consumers.firstIndex(where: { $0.track.consumerId == consumerId }) else { return false }
        end(consumers.remove(at: index), now: now)
        return true
    }

    /// Ends every live consumer (the transport stops); returns their recorders, once each.
    package func closeAll(now: Double) -> [MemberRecorder] {
        var recorders: [MemberRecorder] = []
        for consumer in consumers {
            end(consumer, now: now)
            if let recorder = consumer.recorder, !recorders.contains(where: { $0 === recorder }) { recorders.append(recorder) }
        }
        consumers.removeAll()
        return recorders
    }

    /// The producer behind a consumer paused or resumed. On resume video asks for a key frame
    /// at once (the picture must restart from one).
    package func setPaused(consumerId: String, _ paused: Bool, now: Double) {
        guard let consumer = consumers.first(where: { $0.track.consumerId == consumerId }), consumer.stream.paused != paused else { return }
        consumer.stream.paused = paused
        consumer.recorder?.setPaused(track: consumerId, paused)
        if !paused && consumer.stream.isVideo { requestKeyFrame(consumer, now: now) }
    }

    package var liveConsumers: Int { consumers.count }
    /// Transport-cc feedback messages sent about what this transport received.
    package var transportFeedbackSent: Int { transportFeedback.messagesSent }
    package var endedConsumers: Int { ended.count }
    /// SSRCs routed to live consumers (media and RTX).
    package var routedSSRCs: Int { bySSRC.count }
    /// Packet-slab blocks held by live streams.
    package var payloadBlocks: Int { consumers.reduce(0) { $0 + $1.stream.payloadBlocks } }

    private func end(_ consumer: Consumer, now: Double) {
        consumer.stream.finish { frame in deliver(frame, of: consumer, arrival: now) }
        consumer.recorder?.removeTrack(id: consumer.track.consumerId)
        bySSRC[consumer.stream.configuration.ssrc] = nil
        if let rtx = consumer.stream.configuration.rtx { bySSRC[rtx.ssrc] = nil }
        let report = Self.totals(of: consumer, closed: true)
        if let index = endedByProducer[consumer.track.producerId] {
            ended[index].add(report)
        } else {
            endedByProducer[consumer.track.producerId] = ended.count
            ended.append(report)
        }
        endedStats.append(Self.trackStats(of: consumer, ended: true))
        let statistics = consumer.stream.statistics
        endedTotals.packets &+= statistics.packetsReceived
        endedTotals.bytes &+= statistics.bytesReceived
        endedTotals.lost &+= max(0, statistics.cumulativeLost)
        endedTotals.expected &+= statistics.expected
    }

    // MARK: Packets and time

    /// One RTP packet (media or RTX) that arrived at `now`; runs the repair step when due.
    package func receive(_ packet: RTPPacket, size: Int, now: Double) {
        // Every packet with a transport-wide number counts, routed or not: an SFU probes with
        // padding on an SSRC no consumer has (mediasoup's probator, 1234), and a probe packet
        // not fed back reads as lost.
        if let id = transportSequenceId, let element = packet.extensionElement(id), element.count == 2,
           let high = element.first, let low = element.last {
            transportFeedback.received(sequence: UInt16(high) << 8 | UInt16(low), ssrc: packet.ssrc, arrival: now)
        }
        if let consumer = bySSRC[packet.ssrc] {
            consumer.stream.receive(packet, size: size, arrival: now) { frame in deliver(frame, of: consumer, arrival: now) }
        }
        repairIfDue(now: now)
    }

    /// Received RTCP: sender reports map each stream's RTP time to its sender's clock.
    package func receive(_ packets: [RTCPPacket], now: Double) {
        for case .senderReport(let report) in packets {
            guard let consumer = bySSRC[report.ssrc], report.ssrc == consumer.stream.configuration.ssrc else { continue }
            consumer.stream.senderReport(report, arrival: now)
            consumer.recorder?.senderReport(track: consumer.track.consumerId, ntp: report.ntpTimestamp, rtpTimestamp: report.rtpTimestamp)
        }
    }

    /// The repair step, when its 20 ms are up: give up old gaps, NACK what is missing, ask for
    /// key frames; and the transport-cc feedback when its 100 ms are up.
    package func repairIfDue(now: Double) {
        guard now >= nextRepair else { return }
        nextRepair = now + Self.repairInterval
        for message in transportFeedback.feedback(now: now) { outbox.append([.transportCC(message)]) }
        for consumer in consumers {
            let feedback = consumer.stream.tick(now: now) { frame in deliver(frame, of: consumer, arrival: now) }
            let ssrc = consumer.stream.configuration.ssrc
            if !feedback.nack.isEmpty {
                outbox.append([.nack(GenericNACK(senderSSRC: localSSRC, mediaSSRC: ssrc, lost: feedback.nack))])
            }
            if feedback.keyFrameRequest {
                outbox.append([.pli(PictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc))])
            }
        }
    }

    /// The next compound to send, oldest first.
    package func nextOutgoing() -> [RTCPPacket]? { outbox.isEmpty ? nil : outbox.removeFirst() }

    /// A stream that sent something nacho refused, for the log (counted, at most once a report).
    package struct Warning: Equatable, Sendable {
        package var owner: String
        package var consumerId: String
        /// H264 parameter sets over `H264Depacketizer.maxParameterSetSize`, dropped since the last warning.
        package var oversizeParameterSets: Int
    }

    /// Streams that dropped oversize H264 parameter sets since the last call.
    package func takeWarnings() -> [Warning] {
        var warnings: [Warning] = []
        for consumer in consumers where consumer.stream.oversizeParameterSets > consumer.oversizeWarned {
            warnings.append(Warning(owner: consumer.track.owner, consumerId: consumer.track.consumerId,
                                    oversizeParameterSets: consumer.stream.oversizeParameterSets - consumer.oversizeWarned))
            consumer.oversizeWarned = consumer.stream.oversizeParameterSets
        }
        return warnings
    }

    /// The receiver reports (once a second): one compound for every live stream that has
    /// something to report, and the reception report of the stream losing the most.
    package func receiverReports(now: Double) -> (compound: [RTCPPacket], worst: (report: ReceptionReport, owner: String)?) {
        var reports: [ReceptionReport] = []
        var worst: (report: ReceptionReport, owner: String)?
        for consumer in consumers {
            guard let report = consumer.stream.makeReport(now: now) else { continue }
            reports.append(report)
            if report.fractionLost > (worst?.report.fractionLost ?? 0) { worst = (report, consumer.track.owner) }
        }
        return (ReceiverReportBuilder.compound(ssrc: localSSRC, cname: cname, reports: reports), worst)
    }

    /// Running totals over every consumer this engine had, live or closed (a status display).
    package var progress: ReceiveProgress.Totals {
        var totals = endedTotals
        totals.members = Set(consumers.map(\.track.owner)).count
        for consumer in consumers {
            let statistics = consumer.stream.statistics
            totals.packets &+= statistics.packetsReceived
            totals.bytes &+= statistics.bytesReceived
            totals.lost &+= max(0, statistics.cumulativeLost)
            totals.expected &+= statistics.expected
        }
        return totals
    }

    // MARK: Figures

    /// Every live consumer's figures (delay samples drained), and each consumer that closed
    /// since the last call once more, marked ended (the part of the interval before it closed).
    package func trackStats() -> [TrackStats] {
        defer { endedStats.removeAll() }
        return endedStats + consumers.map { Self.trackStats(of: $0, ended: false) }
    }

    /// What was received per consumer: closed ones (one per producer), then live ones.
    package func totals() -> [ConsumerTotals] {
        ended + consumers.map { Self.totals(of: $0, closed: false) }
    }

    private static func trackStats(of consumer: Consumer, ended: Bool) -> TrackStats {
        let stream = consumer.stream
        var stats = TrackStats(direction: .receive, kind: consumer.track.kind, codec: consumer.track.codec, track: consumer.track.consumerId,
                               peer: consumer.track.owner)
        stats.ended = ended
        stats.packets = stream.statistics.packetsReceived
        stats.bytes = stream.statistics.bytesReceived
        stats.packetsLost = max(0, stream.statistics.cumulativeLost)
        stats.packetsExpected = stream.statistics.expected
        stats.jitterSeconds = Double(stream.statistics.jitter) / Double(stream.configuration.clockRate)
        stats.nacks = stream.counters.nacksSent
        stats.plis = stream.counters.keyFrameRequests
        stats.retransmissions = stream.counters.retransmissions
        stats.frames = stream.counters.frames
        stats.keyFrames = stream.counters.keyFrames
        stats.freezes = stream.counters.freezes
        stats.freezeSeconds = stream.counters.freezeSeconds
        stats.delays = stream.takeDelays()
        return stats
    }

    private static func totals(of consumer: Consumer, closed: Bool) -> ConsumerTotals {
        let stream = consumer.stream
        return ConsumerTotals(
            track: consumer.track, packets: stream.statistics.packetsReceived, bytes: stream.statistics.bytesReceived,
            retransmissions: stream.counters.retransmissions, lost: max(0, stream.statistics.cumulativeLost),
            senderReports: stream.statistics.senderReportsReceived, closed: closed, frames: stream.counters.frames,
            keyFrames: stream.counters.keyFrames, nacksSent: stream.counters.nacksSent,
            keyFrameRequests: stream.counters.keyFrameRequests, duplicates: stream.duplicates)
    }

    private func deliver(_ frame: InboundStream.Frame, of consumer: Consumer, arrival: Double) {
        consumer.recorder?.frame(track: consumer.track.consumerId, rtpTimestamp: frame.rtpTimestamp, keyFrame: frame.isKeyFrame,
                                 data: frame.data, arrival: arrival, width: frame.width, height: frame.height,
                                 codecPrivate: frame.codecPrivate)
    }

    private func requestKeyFrame(_ consumer: Consumer, now: Double) {
        consumer.stream.noteKeyFrameRequest(now: now)
        outbox.append([.pli(PictureLossIndication(senderSSRC: localSSRC, mediaSSRC: consumer.stream.configuration.ssrc))])
    }
}

extension MediaReceiver.ConsumerTotals {
    /// Adds another consumer's figures of the same producer (consumed again after a close).
    mutating func add(_ other: Self) {
        packets &+= other.packets
        bytes &+= other.bytes
        retransmissions &+= other.retransmissions
        lost &+= other.lost
        senderReports &+= other.senderReports
        frames &+= other.frames
        keyFrames &+= other.keyFrames
        nacksSent &+= other.nacksSent
        keyFrameRequests &+= other.keyFrameRequests
        duplicates &+= other.duplicates
    }
}
