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
        /// One per encoding (simulcast: several, smallest first); all share the RTP clock.
        let streams: [OutboundStream]
        /// The pipeline layer each stream sends (a single stream takes the full-size layer).
        let firstLayer: Int
        let pipeline: SendPipeline
        let timestampBase: UInt32 = .random(in: 0...UInt32.max)
        var firstCaptureTime: Double?
        var sink: Int?
        var nacks = 0
        var plis = 0
        var firs = 0
        /// The SFU's last receiver report about each stream (by SSRC) and when it came.
        var reports: [UInt32: (report: ReceptionReport, rtt: Double?)] = [:]

        var keyFrameRequests: Int { plis + firs }

        init(producerId: String, kind: MediaKind, codec: String, streams: [OutboundStream], pipeline: SendPipeline) {
            self.producerId = producerId
            self.kind = kind
            self.codec = codec
            self.streams = streams
            self.pipeline = pipeline
            firstLayer = max(0, pipeline.layerCount - streams.count)
        }

        func stream(ssrc: UInt32) -> (index: Int, stream: OutboundStream)? {
            streams.enumerated().first { $0.element.configuration.ssrc == ssrc }.map { ($0.offset, $0.element) }
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

    /// The streams `parameters` describe (one per encoding), as the sender sees them.
    static func configurations(_ parameters: RtpParameters) -> [OutboundStream.Configuration] {
        let simulcast = parameters.encodings.count > 1
        return parameters.encodings.indices.compactMap { index in
            var configuration = configuration(parameters, encoding: index)
            configuration?.vp8LayerFields = simulcast
            return configuration
        }
    }

    static func configuration(_ parameters: RtpParameters, encoding index: Int = 0) -> OutboundStream.Configuration? {
        guard index < parameters.encodings.count, let ssrc = parameters.encodings[index].ssrc,
              let codec = parameters.codecs.first else { return nil }
        let encoding = parameters.encodings[index]
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
        let configurations = Self.configurations(parameters)
        guard !configurations.isEmpty, configurations.count == parameters.encodings.count else {
            logger.error("cannot send \(parameters.codecs.first?.mimeType ?? "no codec")")
            return
        }
        let codec = parameters.codecs.first?.mimeType ?? "?"
        eventLoop.execute { [self] in
            let producer = Producer(producerId: producerId, kind: kind, codec: codec,
                                    streams: configurations.map { OutboundStream(configuration: $0) }, pipeline: pipeline)
            let loop = state.value
            loop.producers.append(producer)
            for (index, configuration) in configurations.enumerated() {
                let layerBitrate = parameters.encodings[index].maxBitrate ?? maxBitrate
                loop.bitrates.add(ssrc: configuration.ssrc, kind: kind, maxBitrate: configurations.count == 1 ? maxBitrate : layerBitrate)
            }
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
                    frames: counters.framesEncoded, keyFrames: counters.keyFrames,
                    packets: producer.streams.reduce(0) { $0 + Int($1.packetsSent) },
                    bytes: producer.streams.reduce(0) { $0 + Int($1.octetsSent) },
                    retransmissions: producer.streams.reduce(0) { $0 + $1.retransmissions }, nacks: producer.nacks,
                    keyFrameRequests: producer.keyFrameRequests, targetBitrate: counters.targetBitrate)
            }
        }.get()) ?? []
    }

    // MARK: - Event loop

    private func send(_ frame: SendPipeline.EncodedFrame, producer index: Int) {
        let loop = state.value
        guard index < loop.producers.count else { return }
        let producer = loop.producers[index]
        let layer = frame.layer - producer.firstLayer
        guard layer >= 0, layer < producer.streams.count else { return }
        let stream = producer.streams[layer]
        let clockRate = stream.configuration.clockRate
        let first = producer.firstCaptureTime ?? frame.captureTime
        producer.firstCaptureTime = first
        let elapsed = min(max(frame.captureTime - first, 0), 1e7)
        let timestamp = producer.timestampBase &+ UInt32(truncatingIfNeeded: Int64((elapsed * Double(clockRate)).rounded()))
        stream.send(frame: frame.payload, timestamp: timestamp, captureTime: frame.captureTime, isKeyFrame: frame.isKeyFrame,
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
                guard let producer = loop.producers.first(where: { $0.stream(ssrc: nack.mediaSSRC) != nil }),
                      let (_, stream) = producer.stream(ssrc: nack.mediaSSRC) else { continue }
                producer.nacks += 1
                stream.retransmit(nack.lostSequenceNumbers, transportSequence: &loop.transportSequence, now: MediaClock.now) {
                    transport.sendRTP($0)
                }
                transport.flush()
            case .pli(let pli):
                keyFrame(for: pli.mediaSSRC, fir: false)
            case .fir(let fir):
                for entry in fir.entries { keyFrame(for: entry.ssrc, fir: true) }
            case .remb(let remb):
                apply(loop.bitrates.remb(bitrate: remb.bitrate, ssrcs: remb.ssrcs))
            case .receiverReport(let rr):
                remember(rr.reports)
                apply(loop.bitrates.reports(rr.reports))
            case .senderReport(let sr):
                remember(sr.reports)
                apply(loop.bitrates.reports(sr.reports))
            case .transportCC(let feedback):
                apply(loop.bitrates.transportFeedback(feedback))
            default:
                continue
            }
        }
    }

    /// A PLI or FIR: a key frame of that stream's layer.
    private func keyFrame(for ssrc: UInt32, fir: Bool) {
        guard let producer = state.value.producers.first(where: { $0.kind == .video && $0.stream(ssrc: ssrc) != nil }),
              let (index, _) = producer.stream(ssrc: ssrc) else { return }
        if fir { producer.firs += 1 } else { producer.plis += 1 }
        producer.pipeline.requestKeyFrame(layer: producer.firstLayer + index, sink: producer.sink)
    }

    private func apply(_ changes: [BitrateController.Change]) {
        for change in changes {
            guard let producer = state.value.producers.first(where: { $0.stream(ssrc: change.ssrc) != nil }),
                  let (index, _) = producer.stream(ssrc: change.ssrc) else { continue }
            producer.pipeline.setTargetBitrate(change.bitrate, layer: producer.firstLayer + index)
        }
    }

    /// The SFU's reports about our streams, and the round trip they measure (RFC 3550 §6.4.1:
    /// now − LSR − DLSR, in 1/65536 s).
    private func remember(_ reports: [ReceptionReport]) {
        let ntp = NTPTime.now()
        let middle = UInt32(truncatingIfNeeded: ntp >> 16)
        for report in reports {
            guard let producer = state.value.producers.first(where: { $0.stream(ssrc: report.ssrc) != nil }) else { continue }
            var rtt: Double?
            if report.lastSenderReport != 0 {
                let units = middle &- report.lastSenderReport &- report.delaySinceLastSenderReport
                if units < 0x8000_0000 { rtt = Double(units) / 65536 }
            }
            producer.reports[report.ssrc] = (report, rtt)
        }
    }

    /// Every producer's figures: one per producer, its streams summed (a simulcast
    /// producer's RTT and jitter are its top layer's).
    func trackStats() async -> [TrackStats] {
        (try? await eventLoop.submit { [self] in
            state.value.producers.map { producer in
                var stats = TrackStats(direction: .send, kind: producer.kind, codec: producer.codec, track: producer.producerId)
                for stream in producer.streams {
                    stats.packets += Int(stream.packetsSent)
                    stats.bytes += Int(stream.octetsSent)
                    stats.retransmissions += stream.retransmissions
                    stats.packetsExpected += Int(stream.packetsSent)
                    if let (report, rtt) = producer.reports[stream.configuration.ssrc] {
                        stats.packetsLost += max(0, Int(report.cumulativeLost))
                        stats.jitterSeconds = Double(report.jitter) / Double(stream.configuration.clockRate)
                        stats.rttSeconds = rtt ?? stats.rttSeconds
                    }
                }
                let counters = producer.pipeline.snapshot
                stats.frames = counters.framesEncoded
                stats.keyFrames = counters.keyFrames
                stats.nacks = producer.nacks
                stats.plis = producer.plis
                stats.firs = producer.firs
                return stats
            }
        }.get()) ?? []
    }

    private func sendReports() {
        let now = MediaClock.now
        let ntp = NTPTime.now()
        let reports = state.value.producers.flatMap { $0.streams.compactMap { $0.senderReport(now: now, ntp: ntp) } }
        guard let first = reports.first else { return }
        transport.sendRTCP(reports.map { .senderReport($0) } + [.sourceDescription(SourceDescription(cname: cname, ssrc: first.ssrc))])
    }
}

extension MediaSender: StatsSource {}
