import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import RTP
import Transport

/// The send side of one origin transport: per producer an `OutboundStream` (packetization,
/// history, RTX), sender reports every second, and the feedback loop: NACK → retransmit,
/// PLI/FIR → key frame, REMB / receiver-report loss / transport-cc → encoder bitrate
/// (`BitrateController`). Everything runs on the transport's event loop; what the loop owns is
/// in a loop-bound box. Each frame's packets are written out with one flush.
public final class MediaSender: Sendable {
    /// What one producer sent.
    public struct ProducerReport: Sendable, Equatable {
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

    private final class Producer {
        let producerId: String
        let kind: MediaKind
        let codec: String
        let stream: OutboundStream
        let pipeline: SendPipeline
        let timestampBase: UInt32 = .random(in: 0...UInt32.max)
        var firstCaptureTime: Double?
        var sink: Int?
        var nacks = 0
        var keyFrameRequests = 0

        init(producerId: String, kind: MediaKind, codec: String, stream: OutboundStream, pipeline: SendPipeline) {
            self.producerId = producerId
            self.kind = kind
            self.codec = codec
            self.stream = stream
            self.pipeline = pipeline
        }
    }

    private final class LoopState {
        var producers: [Producer] = []
        var bitrates = BitrateController()
        var transportSequence: UInt16 = 0
        var reportTask: RepeatedTask?
    }

    private let transport: WebRtcTransport
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let cname: String
    private let state: NIOLoopBoundBox<LoopState>

    public init(transport: WebRtcTransport, cname: String, logger: Logger) {
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.cname = cname
        self.logger = logger
        state = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), eventLoop: transport.eventLoop)
    }

    public func start() {
        transport.setHandlers(.init(rtp: { _, _ in }, rtcp: { [weak self] packets in self?.received(packets) }))
        eventLoop.execute { [self] in
            state.value.reportTask = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .seconds(1)) { [weak self] _ in
                self?.sendReports()
            }
        }
    }

    /// The stream `parameters` describe (the producer's first encoding), as the sender sees it.
    static func configuration(_ parameters: RtpParameters) -> OutboundStream.Configuration? {
        guard let encoding = parameters.encodings.first, let ssrc = encoding.ssrc, let codec = parameters.codecs.first else { return nil }
        let kind: OutboundStream.Codec
        switch codec.mimeType.lowercased() {
        case "audio/opus": kind = .opus
        case "video/vp8": kind = .vp8
        case "video/vp9": kind = .vp9
        default: return nil
        }
        var configuration = OutboundStream.Configuration(ssrc: ssrc, payloadType: UInt8(clamping: codec.payloadType),
                                                         clockRate: codec.clockRate, codec: kind)
        if let rtxSSRC = encoding.rtx?.ssrc,
           let rtx = parameters.codecs.first(where: { $0.isRtx && $0.parameters["apt"]?.intValue == codec.payloadType }) {
            configuration.rtx = (rtxSSRC, UInt8(clamping: rtx.payloadType))
        }
        configuration.mid = parameters.mid
        configuration.midExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.mid).map(UInt8.init(clamping:))
        configuration.absSendTimeExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.absSendTime).map(UInt8.init(clamping:))
        configuration.transportSequenceExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.transportWideCC).map(UInt8.init(clamping:))
        configuration.audioLevelExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.audioLevel).map(UInt8.init(clamping:))
        return configuration
    }

    /// Starts sending a pipeline's frames as the stream described by `parameters`.
    public func add(producerId: String, kind: MediaKind, parameters: RtpParameters, pipeline: SendPipeline, maxBitrate: Int) {
        guard let configuration = Self.configuration(parameters) else {
            logger.error("cannot send \(parameters.codecs.first?.mimeType ?? "no codec")")
            return
        }
        let codec = parameters.codecs.first?.mimeType ?? "?"
        eventLoop.execute { [self] in
            let producer = Producer(producerId: producerId, kind: kind, codec: codec,
                                    stream: OutboundStream(configuration: configuration), pipeline: pipeline)
            let loop = state.value
            loop.producers.append(producer)
            loop.bitrates.add(ssrc: configuration.ssrc, kind: kind, maxBitrate: maxBitrate)
            let index = loop.producers.count - 1
            producer.sink = pipeline.attach { [weak self] frame in
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
            for producer in loop.producers {
                if let sink = producer.sink { producer.pipeline.detach(sink) }
                producer.sink = nil
            }
        }.get()
    }

    public func reports() async -> [ProducerReport] {
        (try? await eventLoop.submit { [self] in
            state.value.producers.map { producer in
                let counters = producer.pipeline.snapshot
                return ProducerReport(
                    producerId: producer.producerId, kind: producer.kind, codec: producer.codec, source: producer.pipeline.sourceSummary,
                    frames: counters.framesEncoded, keyFrames: counters.keyFrames, packets: Int(producer.stream.packetsSent),
                    bytes: Int(producer.stream.octetsSent), retransmissions: producer.stream.retransmissions, nacks: producer.nacks,
                    keyFrameRequests: producer.keyFrameRequests, targetBitrate: counters.targetBitrate)
            }
        }.get()) ?? []
    }

    // MARK: - Event loop

    private func send(_ frame: SendPipeline.EncodedFrame, producer index: Int) {
        let loop = state.value
        guard index < loop.producers.count else { return }
        let producer = loop.producers[index]
        let clockRate = producer.stream.configuration.clockRate
        let first = producer.firstCaptureTime ?? frame.captureTime
        producer.firstCaptureTime = first
        let elapsed = min(max(frame.captureTime - first, 0), 1e7)
        let timestamp = producer.timestampBase &+ UInt32(truncatingIfNeeded: Int64((elapsed * Double(clockRate)).rounded()))
        producer.stream.send(frame: frame.payload, timestamp: timestamp, captureTime: frame.captureTime, isKeyFrame: frame.isKeyFrame,
                             audioLevel: frame.audioLevel, width: frame.width, height: frame.height,
                             transportSequence: &loop.transportSequence, now: MediaClock.now) { packet in
            transport.sendRTP(packet)
        }
        transport.flush()
    }

    private func received(_ packets: [RTCPPacket]) {
        let loop = state.value
        for packet in packets {
            switch packet {
            case .nack(let nack):
                guard let producer = loop.producers.first(where: { $0.stream.configuration.ssrc == nack.mediaSSRC }) else { continue }
                producer.nacks += 1
                producer.stream.retransmit(nack.lostSequenceNumbers, transportSequence: &loop.transportSequence, now: MediaClock.now) {
                    transport.sendRTP($0)
                }
                transport.flush()
            case .pli(let pli):
                keyFrame(for: pli.mediaSSRC)
            case .fir(let fir):
                for entry in fir.entries { keyFrame(for: entry.ssrc) }
            case .remb(let remb):
                apply(loop.bitrates.remb(bitrate: remb.bitrate, ssrcs: remb.ssrcs))
            case .receiverReport(let rr):
                apply(loop.bitrates.reports(rr.reports))
            case .senderReport(let sr):
                apply(loop.bitrates.reports(sr.reports))
            case .transportCC(let feedback):
                apply(loop.bitrates.transportFeedback(feedback))
            default:
                continue
            }
        }
    }

    private func keyFrame(for ssrc: UInt32) {
        guard let producer = state.value.producers.first(where: { $0.stream.configuration.ssrc == ssrc && $0.kind == .video }) else { return }
        producer.keyFrameRequests += 1
        producer.pipeline.requestKeyFrame()
    }

    private func apply(_ changes: [BitrateController.Change]) {
        for change in changes {
            state.value.producers.first { $0.stream.configuration.ssrc == change.ssrc }?.pipeline.setTargetBitrate(change.bitrate)
        }
    }

    private func sendReports() {
        let now = MediaClock.now
        let ntp = NTPTime.now()
        let reports = state.value.producers.compactMap { $0.stream.senderReport(now: now, ntp: ntp) }
        guard let first = reports.first else { return }
        transport.sendRTCP(reports.map { .senderReport($0) } + [.sourceDescription(SourceDescription(cname: cname, ssrc: first.ssrc))])
    }
}
