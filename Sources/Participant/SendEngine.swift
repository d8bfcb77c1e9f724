import Media
import ORTC
import RTP

/// The send side of one origin transport without sockets, timers or threads: producers are
/// added, encoded frames, feedback and time go in; RTP packets (to an `emit` closure, valid
/// during the call), sender reports, encoder commands (key frames, bitrate targets) and
/// figures come out. `MediaSender` runs it on the transport's event loop and applies the
/// commands to the pipelines; tests drive it with their own clock.
///
/// Per producer an `OutboundStream` for each encoding (packetization, history, RTX); NACK →
/// retransmit, PLI/FIR → key frame of that layer, REMB / report-block loss / transport-cc →
/// encoder targets (`BitrateController`).
package final class SendEngine {
    /// What the encoders must do, for one producer (its index in `add` order) and layer.
    package enum EncoderCommand: Equatable, Sendable {
        case keyFrame(producer: Int, layer: Int)
        case targetBitrate(producer: Int, layer: Int, bitsPerSecond: Int)
    }

    private final class Producer {
        let producerId: String
        let kind: MediaKind
        let codec: String
        /// One per encoding (simulcast: several, smallest first); all share the RTP clock.
        let streams: [OutboundStream]
        /// The pipeline layer the first stream sends (a single stream takes the full-size layer).
        let firstLayer: Int
        let timestampBase: UInt32
        var firstCaptureTime: Double?
        var nacks = 0
        var plis = 0
        var firs = 0
        /// The SFU's last receiver report about each stream (by SSRC) and the round trip it gave.
        var reports: [UInt32: (report: ReceptionReport, rtt: Double?)] = [:]

        init(producerId: String, kind: MediaKind, codec: String, streams: [OutboundStream], firstLayer: Int,
             timestampBase: UInt32) {
            self.producerId = producerId
            self.kind = kind
            self.codec = codec
            self.streams = streams
            self.firstLayer = firstLayer
            self.timestampBase = timestampBase
        }

        func stream(ssrc: UInt32) -> (index: Int, stream: OutboundStream)? {
            streams.firstIndex { $0.configuration.ssrc == ssrc }.map { ($0, streams[$0]) }
        }
    }

    private let cname: String
    private var producers: [Producer] = []
    private var bitrates = BitrateController()
    private var transportSequence: UInt16 = 0

    /// Wall-clock NTP seconds minus the capture clock's (`MediaClock`): makes capture times
    /// NTP times for abs-capture-time; nil sends none.
    private let captureClockToNTP: Double?

    package init(cname: String, captureClockToNTP: Double? = nil) {
        self.cname = cname
        self.captureClockToNTP = captureClockToNTP
    }

    // MARK: Producers

    /// Starts sending the streams `parameters` describe; the pipeline has `layers` layers.
    /// Returns the producer's index, or nil when nacho cannot send its codec.
    package func add(producerId: String, kind: MediaKind, parameters: RtpParameters, layers: Int, maxBitrate: Int,
                     timestampBase: UInt32 = .random(in: 0...UInt32.max)) -> Int? {
        let configurations = Self.configurations(parameters)
        guard !configurations.isEmpty, configurations.count == parameters.encodings.count else { return nil }
        let producer = Producer(producerId: producerId, kind: kind, codec: parameters.codecs.first?.mimeType ?? "?",
                                streams: configurations.map { OutboundStream(configuration: $0) },
                                firstLayer: max(0, layers - configurations.count), timestampBase: timestampBase)
        producers.append(producer)
        for (index, configuration) in configurations.enumerated() {
            let layerBitrate = parameters.encodings[index].maxBitrate ?? maxBitrate
            bitrates.add(ssrc: configuration.ssrc, kind: kind, maxBitrate: configurations.count == 1 ? maxBitrate : layerBitrate)
        }
        return producers.count - 1
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
        // What nacho encodes and packetizes: not H264.
        guard let kind = MediaCodec(mimeType: codec.mimeType), kind != .h264 else { return nil }
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
        configuration.absCaptureTimeExtensionId = parameters.headerExtensionId(RtpHeaderExtensionURI.absCaptureTime)
            .map(UInt8.init(clamping:))
        return configuration
    }

    // MARK: Frames, feedback, time

    /// Packetizes one encoded frame of a producer; each packet goes to `emit`. A layer the
    /// producer does not send is ignored (false).
    @discardableResult
    package func send(_ frame: EncodedFrame, producer index: Int, now: Double, emit: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard producers.indices.contains(index) else { return false }
        let producer = producers[index]
        let layer = frame.layer - producer.firstLayer
        guard producer.streams.indices.contains(layer) else { return false }
        let stream = producer.streams[layer]
        let first = producer.firstCaptureTime ?? frame.captureTime
        producer.firstCaptureTime = first
        // RTP time follows capture time from the producer's first frame, on every layer alike.
        let elapsed = min(max(frame.captureTime - first, 0), 1e7)
        let timestamp = producer.timestampBase
            &+ UInt32(truncatingIfNeeded: Int64((elapsed * Double(stream.configuration.clockRate)).rounded()))
        stream.send(frame: frame.payload, timestamp: timestamp, captureTime: frame.captureTime,
                    captureNTP: captureClockToNTP.flatMap { NTPTime.fixedPoint(seconds: frame.captureTime + $0) }, isKeyFrame: frame.isKeyFrame,
                    audioLevel: frame.audioLevel, width: frame.width, height: frame.height,
                    transportSequence: &transportSequence, now: now, emit)
        return true
    }

    /// Feedback from the SFU: NACKs are answered at once through `emit`; what the encoders
    /// must do is returned. `ntp` is the wall clock now (for round trips).
    package func receive(_ packets: [RTCPPacket], now: Double, ntp: UInt64,
                         emit: (UnsafeRawBufferPointer) -> Void) -> [EncoderCommand] {
        var commands: [EncoderCommand] = []
        for packet in packets {
            switch packet {
            case .nack(let nack):
                guard let producer = producers.first(where: { $0.stream(ssrc: nack.mediaSSRC) != nil }),
                      let (_, stream) = producer.stream(ssrc: nack.mediaSSRC) else { continue }
                producer.nacks += 1
                // At most once per round trip (the SFU's last receiver report gave it); a report
                // claiming more than a second must not stop repairs for longer.
                let roundTrip = min(producer.reports[stream.configuration.ssrc]?.rtt ?? 0, 1)
                stream.retransmit(nack.lostSequenceNumbers, transportSequence: &transportSequence, now: now,
                                  minInterval: roundTrip, emit)
            case .pli(let pli):
                commands += keyFrame(for: pli.mediaSSRC, fir: false)
            case .fir(let fir):
                for entry in fir.entries { commands += keyFrame(for: entry.ssrc, fir: true) }
            case .remb(let remb):
                commands += targets(bitrates.remb(bitrate: remb.bitrate, ssrcs: remb.ssrcs))
            case .receiverReport(let rr):
                remember(rr.reports, ntp: ntp)
                commands += targets(bitrates.reports(rr.reports))
            case .senderReport(let sr):
                remember(sr.reports, ntp: ntp)
                commands += targets(bitrates.reports(sr.reports))
            case .transportCC(let feedback):
                commands += targets(bitrates.transportFeedback(feedback))
            default:
                continue
            }
        }
        return commands
    }

    /// Sender reports for every stream that sent something, with the SDES naming us.
    package func senderReports(now: Double, ntp: UInt64) -> [RTCPPacket] {
        let reports = producers.flatMap { $0.streams.compactMap { $0.senderReport(now: now, ntp: ntp) } }
        guard let first = reports.first else { return [] }
        return reports.map { .senderReport($0) } + [.sourceDescription(SourceDescription(cname: cname, ssrc: first.ssrc))]
    }

    /// The current target of a producer's layer.
    package func targetBitrate(producer index: Int, layer: Int) -> Int? {
        guard producers.indices.contains(index) else { return nil }
        let producer = producers[index]
        let stream = layer - producer.firstLayer
        guard producer.streams.indices.contains(stream) else { return nil }
        return bitrates.bitrate(of: producer.streams[stream].configuration.ssrc)
    }

    /// What each producer sent, its streams summed (a simulcast producer's RTT and jitter are
    /// its top layer's).
    /// Each producer's figures of what went out, its streams (layers, RTX) summed; frames are
    /// the pipeline's to add.
    package func sent() -> [TrackStats] {
        producers.map { producer in
            var sent = TrackStats(direction: .send, kind: producer.kind, codec: producer.codec, track: producer.producerId)
            sent.nacks = producer.nacks
            sent.plis = producer.plis
            sent.firs = producer.firs
            for stream in producer.streams {
                sent.packets += Int(stream.packetsSent)
                sent.bytes += Int(stream.octetsSent)
                sent.retransmissions += stream.retransmissions
                if let (report, rtt) = producer.reports[stream.configuration.ssrc] {
                    sent.packetsLost += max(0, Int(report.cumulativeLost))
                    sent.jitterSeconds = Double(report.jitter) / Double(stream.configuration.clockRate)
                    sent.rttSeconds = rtt ?? sent.rttSeconds
                }
            }
            sent.packetsExpected = sent.packets
            return sent
        }
    }

    private func keyFrame(for ssrc: UInt32, fir: Bool) -> [EncoderCommand] {
        guard let index = producers.firstIndex(where: { $0.kind == .video && $0.stream(ssrc: ssrc) != nil }),
              let (layer, _) = producers[index].stream(ssrc: ssrc) else { return [] }
        if fir { producers[index].firs += 1 } else { producers[index].plis += 1 }
        return [.keyFrame(producer: index, layer: producers[index].firstLayer + layer)]
    }

    private func targets(_ changes: [BitrateController.Change]) -> [EncoderCommand] {
        changes.compactMap { change in
            guard let index = producers.firstIndex(where: { $0.stream(ssrc: change.ssrc) != nil }),
                  let (layer, _) = producers[index].stream(ssrc: change.ssrc) else { return nil }
            return .targetBitrate(producer: index, layer: producers[index].firstLayer + layer, bitsPerSecond: change.bitrate)
        }
    }

    /// The SFU's reports about our streams, and the round trip they measure (RFC 3550 §6.4.1:
    /// now − LSR − DLSR, in 1/65536 s).
    private func remember(_ reports: [ReceptionReport], ntp: UInt64) {
        let middle = UInt32(truncatingIfNeeded: ntp >> 16)
        for report in reports {
            guard let producer = producers.first(where: { $0.stream(ssrc: report.ssrc) != nil }) else { continue }
            var rtt: Double?
            if report.lastSenderReport != 0 {
                let units = middle &- report.lastSenderReport &- report.delaySinceLastSenderReport
                if units < 0x8000_0000 { rtt = Double(units) / 65536 }
            }
            producer.reports[report.ssrc] = (report, rtt)
        }
    }
}
