import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import RTP
import Transport

/// The send side of one origin transport: per producer an RTP stream (packetization, history,
/// RTX), sender reports every second, and the feedback loop: NACK → retransmit, PLI/FIR → key
/// frame, REMB / receiver-report loss → encoder bitrate. Runs on the transport's event loop.
public final class SendSession: @unchecked Sendable {
    /// What one producer sent.
    public struct ProducerReport: Sendable, Equatable {
        public var producerId: String
        public var kind: MediaKind
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

    /// Confined to the event loop, as the session is.
    private final class Stream: @unchecked Sendable {
        let producerId: String
        let kind: MediaKind
        var sender: RTPStreamSender
        var packetizer = VP8Packetizer()
        let pipeline: SendPipeline
        var timestampBase: UInt32 = .random(in: 0...UInt32.max)
        var firstCaptureTime: Double?
        var nacks = 0
        var keyFrameRequests = 0

        init(producerId: String, kind: MediaKind, sender: RTPStreamSender, pipeline: SendPipeline) {
            self.producerId = producerId
            self.kind = kind
            self.sender = sender
            self.pipeline = pipeline
        }
    }

    private let transport: WebRtcTransport
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let cname: String
    private var streams: [Stream] = []
    private var bitrates = BitrateController()
    private var transportSequence: UInt16 = 0
    private var reportTask: RepeatedTask?

    /// RTP payload budget per packet: stays under a 1200-byte datagram after SRTP.
    static let maxPayloadSize = 1100

    public init(transport: WebRtcTransport, cname: String, logger: Logger) {
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.cname = cname
        self.logger = logger
    }

    public func start() {
        transport.setHandlers(rtp: { _ in }, rtcp: { [weak self] packets in self?.received(packets) })
        eventLoop.execute {
            self.reportTask = self.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .seconds(1)) { _ in
                self.sendReports()
            }
        }
    }

    /// Starts sending a pipeline's frames as the stream described by `parameters`.
    public func add(producerId: String, kind: MediaKind, parameters: RtpParameters, pipeline: SendPipeline, maxBitrate: Int) {
        guard let encoding = parameters.encodings.first, let ssrc = encoding.ssrc, let codec = parameters.codecs.first else { return }
        var configuration = RTPStreamSender.Configuration(ssrc: ssrc, payloadType: UInt8(codec.payloadType), clockRate: codec.clockRate)
        if let rtxSSRC = encoding.rtx?.ssrc, let rtx = parameters.codecs.first(where: \.isRtx) {
            configuration.rtx = (rtxSSRC, UInt8(rtx.payloadType))
        }
        configuration.mid = parameters.mid
        configuration.midExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.mid).map(UInt8.init)
        configuration.absSendTimeExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.absSendTime).map(UInt8.init)
        configuration.transportSequenceExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.transportWideCC).map(UInt8.init)
        configuration.audioLevelExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.audioLevel).map(UInt8.init)
        let stream = Stream(producerId: producerId, kind: kind, sender: RTPStreamSender(configuration: configuration),
                            pipeline: pipeline)
        eventLoop.execute {
            self.streams.append(stream)
            self.bitrates.add(ssrc: ssrc, kind: kind, maxBitrate: maxBitrate)
            pipeline.attach { [weak self] frame in
                guard let self else { return }
                self.eventLoop.execute { self.send(frame, on: stream) }
            }
        }
    }

    /// Detaches the pipelines (they keep capturing for the next session) and stops reports.
    public func stop() async {
        try? await eventLoop.submit {
            self.reportTask?.cancel()
            for stream in self.streams { stream.pipeline.attach(nil) }
        }.get()
    }

    public func reports() async -> [ProducerReport] {
        (try? await eventLoop.submit {
            self.streams.map { stream in
                let counters = stream.pipeline.snapshot
                return ProducerReport(
                    producerId: stream.producerId, kind: stream.kind, source: stream.pipeline.sourceSummary,
                    frames: counters.framesEncoded, keyFrames: counters.keyFrames, packets: Int(stream.sender.packetsSent),
                    bytes: Int(stream.sender.octetsSent), retransmissions: stream.sender.retransmissions, nacks: stream.nacks,
                    keyFrameRequests: stream.keyFrameRequests, targetBitrate: counters.targetBitrate)
            }
        }.get()) ?? []
    }

    // MARK: - Event loop

    private func send(_ frame: SendPipeline.EncodedFrame, on stream: Stream) {
        let clockRate = stream.sender.configuration.clockRate
        let first = stream.firstCaptureTime ?? frame.captureTime
        stream.firstCaptureTime = first
        let timestamp = stream.timestampBase &+ UInt32(truncatingIfNeeded: Int64(((frame.captureTime - first) * Double(clockRate)).rounded()))
        let payloads = stream.kind == .video
            ? stream.packetizer.packetize(frame.payload, maxPayloadSize: Self.maxPayloadSize)
            : [frame.payload]
        let packets = stream.sender.packets(for: payloads, timestamp: timestamp, captureTime: frame.captureTime,
                                            markLast: stream.kind == .video, audioLevel: frame.audioLevel,
                                            transportSequence: &transportSequence, now: MediaClock.now)
        for packet in packets { transport.send(packet) }
    }

    private func received(_ packets: [RTCPPacket]) {
        for packet in packets {
            switch packet {
            case .nack(let nack):
                guard let stream = streams.first(where: { $0.sender.configuration.ssrc == nack.mediaSSRC }) else { continue }
                stream.nacks += 1
                for resend in stream.sender.retransmissions(for: nack.lostSequenceNumbers, transportSequence: &transportSequence, now: MediaClock.now) {
                    transport.send(resend)
                }
            case .pli(let pli):
                keyFrame(for: pli.mediaSSRC)
            case .fir(let fir):
                for entry in fir.entries { keyFrame(for: entry.ssrc) }
            case .remb(let remb):
                apply(bitrates.remb(bitrate: remb.bitrate, ssrcs: remb.ssrcs))
            case .receiverReport(let rr):
                apply(bitrates.reports(rr.reports))
            case .senderReport(let sr):
                apply(bitrates.reports(sr.reports))
            case .transportCC(let feedback):
                apply(bitrates.transportFeedback(feedback))
            default:
                continue
            }
        }
    }

    private func keyFrame(for ssrc: UInt32) {
        guard let stream = streams.first(where: { $0.sender.configuration.ssrc == ssrc && $0.kind == .video }) else { return }
        stream.keyFrameRequests += 1
        stream.pipeline.requestKeyFrame()
    }

    private func apply(_ changes: [BitrateController.Change]) {
        for change in changes {
            streams.first { $0.sender.configuration.ssrc == change.ssrc }?.pipeline.setTargetBitrate(change.bitrate)
        }
    }

    private func sendReports() {
        let now = MediaClock.now
        let ntp = NTPTime.now()
        var packets: [RTCPPacket] = []
        for stream in streams {
            if let report = stream.sender.senderReport(now: now, ntp: ntp) { packets.append(.senderReport(report)) }
        }
        guard let first = packets.first, case .senderReport(let sr) = first else { return }
        packets.append(.sourceDescription(SourceDescription(cname: cname, ssrc: sr.ssrc)))
        transport.sendRTCP(packets)
    }
}
