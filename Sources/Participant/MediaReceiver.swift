import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import Recording
import RTP
import Transport

/// The receive side of one edge transport: routes each packet by SSRC to the `InboundStream`
/// of its consumer (statistics, jitter buffer, depacketizer, repair policy), hands whole frames
/// to the member's recorder, sends NACKs and key-frame requests every 20 ms and receiver
/// reports every second. The 20 ms repair step runs from the receive path while packets
/// arrive (a clock comparison per packet), and from a 100 ms timer when they stop: a NIO
/// timer allocates on every run, which at 50 runs a second was a third of the receive side's
/// allocations. Everything runs on the transport's event loop; what the loop owns is
/// in a loop-bound box, so it cannot be touched from elsewhere by mistake.
public final class MediaReceiver: Sendable {
    /// What was received for one consumer (one remote producer).
    public struct ConsumerReport: Sendable, Equatable {
        public var consumerId: String
        public var producerId: String
        public var owner: String
        public var kind: MediaKind
        public var codec: String
        public var packets: Int
        public var bytes: Int
        public var retransmissions: Int
        public var lost: Int
        public var senderReports: Int
        public var closed: Bool
        /// Whole frames reassembled (video) or Opus packets in order (audio).
        public var frames: Int
        public var keyFrames: Int
        public var nacksSent: Int
        public var keyFrameRequests: Int
        /// Packets that came twice or after their place was given up.
        public var duplicates: Int
    }

    /// One consumer being received.
    private final class Consumer {
        let options: ConsumerOptions
        let owner: String
        let stream: InboundStream
        let recorder: MemberRecorder?
        var closed = false
        /// Its figures since the last report were reported after it closed (once, so the
        /// interval in which it ended is not lost).
        var finalReported = false

        init(options: ConsumerOptions, owner: String, stream: InboundStream, recorder: MemberRecorder?) {
            self.options = options
            self.owner = owner
            self.stream = stream
            self.recorder = recorder
        }
    }

    private final class LoopState {
        var consumers: [Consumer] = []
        /// Media and RTX SSRC → index in `consumers`.
        var bySSRC: [UInt32: Int] = [:]
        var reportTask: RepeatedTask?
        var repairTask: RepeatedTask?
        /// When the repair step is due next (monotonic seconds).
        var nextRepair: Double = 0
        var lastLossWarning: Double = 0
    }

    private let transport: WebRtcTransport
    private let eventLoop: any EventLoop
    private let logger: Logger
    /// SSRC of this receiver's own reports.
    private let localSSRC: UInt32
    private let cname: String
    private let recorders: (@Sendable (String) -> MemberRecorder?)?
    private let progress: ReceiveProgress?
    private let state: NIOLoopBoundBox<LoopState>

    /// - Parameter recorders: the recorder of a member (by owner id), or nil not to record it.
    public init(transport: WebRtcTransport, cname: String, logger: Logger,
                recorders: (@Sendable (String) -> MemberRecorder?)? = nil, progress: ReceiveProgress? = nil) {
        self.recorders = recorders
        self.progress = progress
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.logger = logger
        self.cname = cname
        self.localSSRC = UInt32.random(in: 1...UInt32.max)
        state = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), eventLoop: transport.eventLoop)
    }

    /// Installs the packet handlers and the timers. Call before `transport.connect()`.
    public func start() {
        transport.setHandlers(.init(
            rtp: { [weak self] packet, size in self?.received(packet, size: size) },
            rtcp: { [weak self] packets in self?.received(packets) }))
        eventLoop.execute { [self] in
            let loop = state.value
            loop.reportTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
                self?.sendReports()
            }
            loop.repairTask = eventLoop.scheduleRepeatedTask(initialDelay: Self.repairFallback, delay: Self.repairFallback) { [weak self] _ in
                self?.repairIfDue(now: Self.now())
            }
        }
    }

    /// Delivers what is still buffered, then ends this session's tracks in the recorders (a
    /// member's file holds the tracks of one session, never ghosts of an earlier one), and
    /// waits until the recorders have taken it all in.
    public func stop() async {
        let recorders = (try? await eventLoop.submit { [self] () -> [MemberRecorder] in
            let loop = state.value
            loop.reportTask?.cancel()
            loop.reportTask = nil
            loop.repairTask?.cancel()
            loop.repairTask = nil
            var recorders: [MemberRecorder] = []
            for consumer in loop.consumers where !consumer.closed {
                end(consumer)
                if let recorder = consumer.recorder, !recorders.contains(where: { $0 === recorder }) { recorders.append(recorder) }
            }
            return recorders
        }.get()) ?? []
        for recorder in recorders { _ = recorder.status }  // a barrier on the recorder's queue
    }

    /// Starts receiving a consumer's SSRCs; asks for a key frame when it is video (and not
    /// paused: a paused producer sends nothing until it resumes).
    public func add(_ consumer: ConsumerOptions, owner: String, paused: Bool = false) {
        guard let encoding = consumer.rtpParameters.encodings.first, let ssrc = encoding.ssrc,
              let codec = consumer.rtpParameters.codecs.first else { return }
        var configuration = InboundStream.Configuration(
            ssrc: ssrc, payloadType: UInt8(clamping: codec.payloadType), clockRate: codec.clockRate,
            codec: InboundStream.Codec(mimeType: codec.mimeType), nack: codec.rtcpFeedback.contains(.nack))
        if let rtxSSRC = encoding.rtx?.ssrc,
           let rtx = consumer.rtpParameters.codecs.first(where: { $0.isRtx && $0.parameters["apt"]?.intValue == codec.payloadType }) {
            configuration.rtx = (rtxSSRC, UInt8(clamping: rtx.payloadType))
        }
        let recorder = recorders?(owner)
        let codecName = codec.mimeType
        if let recorder {
            if let format = MemberRecorder.Codec(mimeType: codecName) {
                recorder.addTrack(id: consumer.id, kind: consumer.kind == .video ? .video : .audio, codec: format,
                                  clockRate: codec.clockRate)
                if paused { recorder.setPaused(track: consumer.id, true) }
            } else {
                logger.warning("not recording a codec nacho cannot write", metadata: ["member": "\(owner)", "codec": "\(codecName)"])
            }
        }
        let settings = configuration
        eventLoop.execute { [self] in
            let loop = state.value
            let stream = InboundStream(configuration: settings, deliversAudio: recorder != nil)
            stream.monotonicToNTP = Self.monotonicToNTP
            stream.paused = paused
            let entry = Consumer(options: consumer, owner: owner, stream: stream, recorder: recorder)
            loop.consumers.append(entry)
            loop.bySSRC[ssrc] = loop.consumers.count - 1
            if let rtx = settings.rtx { loop.bySSRC[rtx.ssrc] = loop.consumers.count - 1 }
            // Video starts with a key-frame request: not every server asks the producer for one.
            if stream.isVideo && !paused { requestKeyFrame(entry) }
        }
    }

    /// The server closed a consumer: stop receiving it, keep its numbers.
    public func close(consumerId: String) {
        eventLoop.execute { [self] in
            guard let consumer = state.value.consumers.first(where: { $0.options.id == consumerId && !$0.closed }) else { return }
            end(consumer)
        }
    }

    /// The producer behind a consumer paused or resumed. On resume video asks for a key frame
    /// at once (the picture must restart from one).
    public func setPaused(consumerId: String, _ paused: Bool) {
        eventLoop.execute { [self] in
            guard let consumer = state.value.consumers.first(where: { $0.options.id == consumerId && !$0.closed }),
                  consumer.stream.paused != paused else { return }
            consumer.stream.paused = paused
            consumer.recorder?.setPaused(track: consumerId, paused)
            if !paused && consumer.stream.isVideo { requestKeyFrame(consumer) }
        }
    }

    /// Every live consumer's figures (delay samples drained), and a closed consumer's once more:
    /// the part of an interval before it closed (a server's `consumerClosed`, or `stop`).
    func trackStats() async -> [TrackStats] {
        (try? await eventLoop.submit { [self] in
            state.value.consumers.filter { !$0.closed || !$0.finalReported }.map { consumer in
                if consumer.closed { consumer.finalReported = true }
                let stream = consumer.stream
                var stats = TrackStats(direction: .receive, kind: consumer.options.kind,
                                       codec: consumer.options.rtpParameters.codecs.first?.mimeType ?? "?",
                                       track: consumer.options.id, peer: consumer.owner)
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
        }.get()) ?? []
    }

    public func reports() async -> [ConsumerReport] {
        (try? await eventLoop.submit { [self] in
            state.value.consumers.map { consumer in
                let stream = consumer.stream
                return ConsumerReport(
                    consumerId: consumer.options.id, producerId: consumer.options.producerId, owner: consumer.owner,
                    kind: consumer.options.kind, codec: consumer.options.rtpParameters.codecs.first?.mimeType ?? "?",
                    packets: stream.statistics.packetsReceived, bytes: stream.statistics.bytesReceived,
                    retransmissions: stream.counters.retransmissions, lost: max(0, stream.statistics.cumulativeLost),
                    senderReports: stream.statistics.senderReportsReceived, closed: consumer.closed,
                    frames: stream.counters.frames, keyFrames: stream.counters.keyFrames, nacksSent: stream.counters.nacksSent,
                    keyFrameRequests: stream.counters.keyFrameRequests, duplicates: stream.duplicates)
            }
        }.get()) ?? []
    }

    // MARK: - Event loop

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Wall-clock NTP seconds minus monotonic seconds, taken once: arrival times become NTP
    /// times for end-to-end delays.
    private static let monotonicToNTP: Double = {
        let ntp = NTPTime.now()
        return Double(ntp >> 32) + Double(ntp & 0xFFFF_FFFF) / 4_294_967_296 - now()
    }()

    private func received(_ packet: RTPPacket, size: Int) {
        let loop = state.value
        guard let index = loop.bySSRC[packet.ssrc] else { return }
        let consumer = loop.consumers[index]
        guard !consumer.closed else { return }
        let now = Self.now()
        consumer.stream.receive(packet, size: size, arrival: now) { frame in deliver(frame, of: consumer, arrival: now) }
        repairIfDue(now: now)
    }

    private func deliver(_ frame: InboundStream.Frame, of consumer: Consumer, arrival: Double) {
        consumer.recorder?.frame(track: consumer.options.id, rtpTimestamp: frame.rtpTimestamp, keyFrame: frame.isKeyFrame,
                                 data: frame.data, arrival: arrival, width: frame.width, height: frame.height,
                                 codecPrivate: frame.codecPrivate)
    }

    /// Ends a consumer: what is buffered goes out, its track ends.
    private func end(_ consumer: Consumer) {
        let now = Self.now()
        consumer.stream.finish { frame in deliver(frame, of: consumer, arrival: now) }
        consumer.closed = true
        consumer.recorder?.removeTrack(id: consumer.options.id)
        let loop = state.value
        loop.bySSRC = loop.bySSRC.filter { loop.consumers[$0.value] !== consumer }
    }

    /// The repair step's period, and the timer that runs it when no packet arrives.
    static let repairInterval = 0.02
    static let repairFallback = TimeAmount.milliseconds(100)

    private func repairIfDue(now: Double) {
        let loop = state.value
        guard now >= loop.nextRepair else { return }
        loop.nextRepair = now + Self.repairInterval
        repair(loop, now: now)
    }

    /// Every 20 ms: give up old gaps, NACK what is missing, ask for key frames.
    private func repair(_ loop: LoopState, now: Double) {
        for consumer in loop.consumers where !consumer.closed {
            let feedback = consumer.stream.tick(now: now) { frame in deliver(frame, of: consumer, arrival: now) }
            let ssrc = consumer.stream.configuration.ssrc
            if !feedback.nack.isEmpty {
                transport.sendRTCP([.nack(GenericNACK(senderSSRC: localSSRC, mediaSSRC: ssrc, lost: feedback.nack))])
            }
            if feedback.keyFrameRequest {
                transport.sendRTCP([.pli(PictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc))])
            }
        }
    }

    private func received(_ packets: [RTCPPacket]) {
        let loop = state.value
        for packet in packets {
            switch packet {
            case .senderReport(let report):
                guard let index = loop.bySSRC[report.ssrc] else { continue }
                let consumer = loop.consumers[index]
                guard report.ssrc == consumer.stream.configuration.ssrc else { continue }
                consumer.stream.senderReport(report, arrival: Self.now())
                consumer.recorder?.senderReport(track: consumer.options.id, ntp: report.ntpTimestamp, rtpTimestamp: report.rtpTimestamp)
            case .goodbye(let bye):
                logger.debug("RTCP BYE", metadata: ["ssrcs": "\(bye.ssrcs)"])
            default:
                continue
            }
        }
    }

    private func sendReports() {
        let loop = state.value
        let now = Self.now()
        let reports = loop.consumers.filter { !$0.closed }.compactMap { $0.stream.makeReport(now: now) }
        publishProgress(loop, reports, now: now)
        let compound = ReceiverReportBuilder.compound(ssrc: localSSRC, cname: cname, reports: reports)
        if !compound.isEmpty { transport.sendRTCP(compound) }
    }

    /// Totals for a status display, and a warning when a stream loses more than 5 %.
    private func publishProgress(_ loop: LoopState, _ reports: [ReceptionReport], now: Double) {
        var totals = ReceiveProgress.Totals()
        totals.members = Set(loop.consumers.filter { !$0.closed }.map(\.owner)).count
        for consumer in loop.consumers {
            let statistics = consumer.stream.statistics
            totals.packets += statistics.packetsReceived
            totals.bytes += statistics.bytesReceived
            totals.lost += max(0, statistics.cumulativeLost)
            totals.expected += statistics.expected
        }
        progress?.update(totals)
        if let worst = reports.max(by: { $0.fractionLost < $1.fractionLost }), worst.fractionLost > 13, now - loop.lastLossWarning > 10 {
            loop.lastLossWarning = now
            let owner = loop.consumers.first { $0.stream.configuration.ssrc == worst.ssrc }?.owner ?? "?"
            logger.warning("packet loss", metadata: ["member": "\(owner)", "loss": "\(Int(worst.fractionLost) * 100 / 256) %",
                                                     "lost so far": "\(worst.cumulativeLost)"])
        }
    }

    private func requestKeyFrame(_ consumer: Consumer) {
        consumer.stream.noteKeyFrameRequest(now: Self.now())
        transport.sendRTCP([.pli(PictureLossIndication(senderSSRC: localSSRC, mediaSSRC: consumer.stream.configuration.ssrc))])
    }
}

extension MediaReceiver: StatsSource {}
