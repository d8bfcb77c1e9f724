import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import RTP
import Transport

/// The send side of one origin transport on its event loop: hands each pipeline's encoded
/// frames and the transport's RTCP to a `SendEngine`, writes what its pacer lets out (one
/// flush per drain), applies its encoder commands to the pipelines, and sends its sender
/// reports every second. The pacer needs one scheduled task, armed for its next send time
/// only while packets wait: an idle sender (and 250 bots in one process) costs no timer.
/// What the loop owns is in a loop-bound box.
public final class MediaSender: Sendable {
    /// What one producer sent.
    public struct ProducerTotals: Sendable, Equatable {
        public var producerId: String
        public var kind: MediaKind
        public var codec: String
        public var source: String
        public var frames: Int
        public var keyFrames: Int
        public var packets: Int
        public var bytes: Int
        public var retransmissions: Int
        public var nacks: Int
        public var keyFrameRequests: Int
        public var targetBitrate: Int
    }

    /// A producer's pipeline and this sender's place in it, by the engine's producer index.
    private struct Attachment {
        let pipeline: SendPipeline
        var sink: Int?
    }

    private final class LoopState {
        let engine: SendEngine
        var attachments: [Attachment] = []
        var reportTask: RepeatedTask?
        /// The pacer's wake-up, and when it fires (`MediaClock` seconds).
        var pacerTask: Scheduled<Void>?
        var pacerDeadline: Double?

        init(engine: SendEngine) { self.engine = engine }
    }

    private let transport: WebRtcTransport
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state: NIOLoopBoundBox<LoopState>

    public init(transport: WebRtcTransport, cname: String, logger: Logger) {
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.logger = logger
        state = NIOLoopBoundBox.makeBoxSendingValue(LoopState(engine: SendEngine(cname: cname, captureClockToNTP: Self.captureClockToNTP)), eventLoop: transport.eventLoop)
    }

    public func start() {
        transport.setHandlers(.init(rtp: { _, _ in }, rtcp: { [weak self] packets in self?.received(packets) }))
        eventLoop.execute { [self] in
            state.value.reportTask = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .seconds(1)) { [weak self] _ in
                self?.sendReports()
            }
        }
    }

    /// Starts sending a pipeline's frames as the stream described by `parameters`.
    public func add(producerId: String, kind: MediaKind, parameters: RtpParameters, pipeline: SendPipeline, maxBitrate: Int) {
        eventLoop.execute { [self] in
            let loop = state.value
            guard let index = loop.engine.add(producerId: producerId, kind: kind, parameters: parameters,
                                              layers: pipeline.layerCount, maxBitrate: maxBitrate, now: MediaClock.now) else {
                logger.error("cannot send \(parameters.codecs.first?.mimeType ?? "no codec")")
                return
            }
            loop.attachments.append(Attachment(pipeline: pipeline))
            loop.attachments[index].sink = pipeline.attach { [weak self] frame in
                guard let self else { return }
                eventLoop.execute { self.send(frame, producer: index) }
            }
        }
    }

    /// Detaches the pipelines (they keep capturing for the next session) and stops reports.
    public func stop() async {
        try? await eventLoop.submit { [self] in
            let loop = state.value
            loop.reportTask?.cancel()
            loop.pacerTask?.cancel()
            loop.pacerTask = nil
            for index in loop.attachments.indices {
                if let sink = loop.attachments[index].sink { loop.attachments[index].pipeline.detach(sink) }
                loop.attachments[index].sink = nil
            }
        }.get()
    }

    public func totals() async -> [ProducerTotals] {
        (try? await eventLoop.submit { [self] in
            let loop = state.value
            return zip(loop.engine.sent(), loop.attachments).map { sent, attachment in
                let counters = attachment.pipeline.snapshot
                return ProducerTotals(
                    producerId: sent.track, kind: sent.kind, codec: sent.codec, source: attachment.pipeline.sourceSummary,
                    frames: counters.framesEncoded, keyFrames: counters.keyFrames, packets: sent.packets, bytes: sent.bytes,
                    retransmissions: sent.retransmissions, nacks: sent.nacks, keyFrameRequests: sent.plis + sent.firs,
                    targetBitrate: counters.targetBitrate)
            }
        }.get()) ?? []
    }

    /// Every producer's figures: one per producer, its streams summed.
    func trackStats() async -> [TrackStats] {
        (try? await eventLoop.submit { [self] in
            let readAt = MediaClock.now
            let loop = state.value
            return zip(loop.engine.sent(), loop.attachments).map { sent, attachment in
                var stats = sent
                stats.sampledAt = readAt
                let counters = attachment.pipeline.snapshot
                stats.frames = counters.framesEncoded
                stats.keyFrames = counters.keyFrames
                return stats
            }
        }.get()) ?? []
    }

    /// Wall-clock NTP seconds minus `MediaClock` seconds, taken once per process: every
    /// sender stamps capture times on the same NTP timeline.
    private static let captureClockToNTP = NTPTime.offset(fromClockReading: MediaClock.now)

    // MARK: - Event loop

    private func send(_ frame: EncodedFrame, producer index: Int) {
        let loop = state.value
        let now = MediaClock.now
        loop.engine.send(frame, producer: index, now: now)
        // The controller's periodic work rides on the frames: it runs while media flows.
        apply(loop.engine.process(now: now))
        drain()
    }

    private func received(_ packets: [RTCPPacket]) {
        let loop = state.value
        apply(loop.engine.receive(packets, now: MediaClock.now, ntp: NTPTime.now()))
        drain()
    }

    /// Sends what the pacer lets out now, with one flush, and arms its next wake-up.
    private func drain() {
        let loop = state.value
        let now = MediaClock.now
        if loop.engine.drain(now: now, emit: { transport.sendRTP($0) }) > 0 { transport.flush() }
        guard let next = loop.engine.nextSendTime(now: now) else { return }
        // A wake-up armed for no later than needed stays (it looks again when it fires).
        if loop.pacerTask != nil, let deadline = loop.pacerDeadline, deadline <= next { return }
        loop.pacerTask?.cancel()
        loop.pacerDeadline = next
        let delay = Int64(min(max(next - now, 0), 10) * 1e9)
        loop.pacerTask = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self else { return }
            let loop = state.value
            loop.pacerTask = nil
            loop.pacerDeadline = nil
            drain()
        }
    }

    private func apply(_ commands: [SendEngine.EncoderCommand]) {
        let loop = state.value
        for command in commands {
            switch command {
            case .keyFrame(let producer, let layer):
                let attachment = loop.attachments[producer]
                attachment.pipeline.requestKeyFrame(layer: layer, sink: attachment.sink)
            case .targetBitrate(let producer, let layer, let bitsPerSecond):
                loop.attachments[producer].pipeline.setTargetBitrate(bitsPerSecond, layer: layer)
            case .layerActive(let producer, let layer, let active):
                let attachment = loop.attachments[producer]
                attachment.pipeline.setLayer(layer, active: active, sink: attachment.sink)
            }
        }
    }

    private func sendReports() {
        let compound = state.value.engine.senderReports(now: MediaClock.now, ntp: NTPTime.now())
        if !compound.isEmpty { transport.sendRTCP(compound) }
    }
}

extension MediaSender: StatsSource {}
