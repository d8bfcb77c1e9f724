import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import RTP
import Transport

/// The send side of one origin transport on its event loop: hands each pipeline's encoded
/// frames and the transport's RTCP to a `SendEngine`, writes what it emits (each frame's or
/// NACK's packets with one flush), applies its encoder commands to the pipelines, and sends its
/// sender reports every second. What the loop owns is in a loop-bound box.
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
                                              layers: pipeline.layerCount, maxBitrate: maxBitrate) else {
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
        let engine = state.value.engine
        let sent = engine.send(frame, producer: index, now: MediaClock.now) { transport.sendRTP($0) }
        if sent { transport.flush() }
    }

    private func received(_ packets: [RTCPPacket]) {
        let loop = state.value
        var retransmitted = false
        let commands = loop.engine.receive(packets, now: MediaClock.now, ntp: NTPTime.now()) { packet in
            transport.sendRTP(packet)
            retransmitted = true
        }
        if retransmitted { transport.flush() }
        for command in commands {
            switch command {
            case .keyFrame(let producer, let layer):
                let attachment = loop.attachments[producer]
                attachment.pipeline.requestKeyFrame(layer: layer, sink: attachment.sink)
            case .targetBitrate(let producer, let layer, let bitsPerSecond):
                loop.attachments[producer].pipeline.setTargetBitrate(bitsPerSecond, layer: layer)
            }
        }
    }

    private func sendReports() {
        let compound = state.value.engine.senderReports(now: MediaClock.now, ntp: NTPTime.now())
        if !compound.isEmpty { transport.sendRTCP(compound) }
    }
}

extension MediaSender: StatsSource {}
