import Congestion
import Media
import ORTC
import RTP

/// The send side of one origin transport without sockets, timers or threads: producers are
/// added, encoded frames, feedback and time go in; RTP packets (to an `emit` closure, valid
/// during the call), sender reports, encoder commands (key frames, bitrate targets, layers
/// paused or resumed) and figures come out. `MediaSender` runs it on the transport's event
/// loop and applies the commands to the pipelines; tests drive it with their own clock.
///
/// Per producer an `OutboundStream` for each encoding (packetization, history, RTX). Frames
/// are packetized into the histories and queued in a `PacketPacer`; `drain` sends what the
/// pacer lets out, writing the transport-wide sequence number at that moment and reporting
/// each such packet to the `GoogCongestionController`. NACK → a retransmission queued in the
/// pacer (at most once per round trip, within the retransmission budget), PLI/FIR → key
/// frame of that layer, transport-cc / report blocks / REMB → the controller, whose target
/// sets the pacing rate and is shared out to the encoders (audio keeps its bitrate, video
/// producers split the rest, simulcast layers via `SimulcastAllocation`, a layer it leaves
/// out paused).
package final class SendEngine {
    /// What the encoders must do, for one producer (its index in `add` order) and layer.
    package enum EncoderCommand: Equatable, Sendable {
        case keyFrame(producer: Int, layer: Int)
        case targetBitrate(producer: Int, layer: Int, bitsPerSecond: Int)
        /// Stop encoding and sending the layer (false), or start again with a key frame (true).
        case layerActive(producer: Int, layer: Int, active: Bool)
    }

    /// One encoding of a producer, as the allocation sees it.
    private struct Layer {
        var allocation: SimulcastAllocation.Layer
        var active = true
        /// The bitrate last commanded (nil: none yet, the encoder's own).
        var target: Int?
        /// Resumed: frames wait for a key frame (receivers cannot start on a delta frame).
        var awaitingKeyFrame = false
    }

    private final class Producer {
        let producerId: String
        let kind: MediaKind
        let codec: String
        /// One per encoding (simulcast: several, smallest first); all share the RTP clock.
        let streams: [OutboundStream]
        /// Each stream's index in the engine's flat list (the pacer's `PacedPacket.stream`).
        var streamIndices: [Int] = []
        /// The pipeline layer the first stream sends (a single stream takes the full-size layer).
        let firstLayer: Int
        let timestampBase: UInt32
        let maxBitrate: Int
        var layers: [Layer]
        var firstCaptureTime: Double?
        var nacks = 0
        var plis = 0
        var firs = 0
        /// NACKed packets the retransmission budget refused.
        var retransmissionsDropped = 0
        /// Time its packets waited in the pacer, summed, and how many.
        var pacerDelay = 0.0
        var pacedPackets = 0
        /// The SFU's last receiver report about each stream (by SSRC) and the round trip it gave.
        var reports: [UInt32: (report: ReceptionReport, rtt: Double?)] = [:]

        init(producerId: String, kind: MediaKind, codec: String, streams: [OutboundStream], firstLayer: Int,
             timestampBase: UInt32, maxBitrate: Int, layers: [Layer]) {
            self.producerId = producerId
            self.kind = kind
            self.codec = codec
            self.streams = streams
            self.firstLayer = firstLayer
            self.timestampBase = timestampBase
            self.maxBitrate = maxBitrate
            self.layers = layers
        }

        func stream(ssrc: UInt32) -> (index: Int, stream: OutboundStream)? {
            streams.firstIndex { $0.configuration.ssrc == ssrc }.map { ($0, streams[$0]) }
        }
    }

    /// How often the controller's periodic work runs (libwebrtc: 25 ms), on frames as they come.
    static let processInterval = 0.025
    /// A layer's minimum and target as shares of its maximum (libwebrtc's simulcast table has
    /// about these ratios: 30/150/200, 150/500/700, 600/2500/2500 kbps), the minimum at least
    /// libwebrtc's 30 kbps floor.
    static let layerMinimumShare = 0.2
    static let layerTargetShare = 0.6
    static let minimumVideoBitrate = 30_000
    /// The pacing rate as a multiple of the target (libwebrtc's pacing factor).
    static let pacingFactor = 2.5

    private let cname: String
    private var producers: [Producer] = []
    /// Every producer's streams, flat: (producer, stream index in it).
    private var streams: [(producer: Int, stream: OutboundStream)] = []
    private var controller: GoogCongestionController
    private var pacer: PacketPacer
    private var retransmissionBudget: RetransmissionBudget
    /// The transport-wide sequence number of the next packet, unwrapped.
    private var transportSequence: Int64 = 0
    /// The controller's last target; nil until it gave one (encoders keep their configured
    /// bitrates until then).
    private(set) var target: CongestionTarget?
    private var lastProcess = -Double.infinity
    /// Sees every packet reported to the controller (tests: the controller keeps its own).
    var sentPacketTap: ((SentPacket) -> Void)?
    /// Whether the controller's probe clusters go out. They do only when some stream carries
    /// transport-wide sequence numbers (else no feedback can measure them: the padding would be
    /// waste); tests that count packets turn them off.
    private let probing: Bool
    private var streamsCarryTransportSequence = false
    /// How a producer's bitrate splits over its simulcast layers (tests give their own).
    private let allocateLayers: @Sendable (Int, [SimulcastAllocation.Layer]) -> [Int?]

    /// Wall-clock NTP seconds minus the capture clock's (`MediaClock`): makes capture times
    /// NTP times for abs-capture-time; nil sends none.
    private let captureClockToNTP: Double?

    package init(cname: String, captureClockToNTP: Double? = nil,
                 congestion: GoogCongestionController.Configuration = GoogCongestionController.Configuration(),
                 allocateLayers: @escaping @Sendable (Int, [SimulcastAllocation.Layer]) -> [Int?] = SimulcastAllocation.allocate,
                 probing: Bool = true) {
        self.cname = cname
        self.probing = probing
        self.allocateLayers = allocateLayers
        self.captureClockToNTP = captureClockToNTP
        controller = GoogCongestionController(configuration: congestion)
        pacer = PacketPacer(pacingRate: controller.target.pacingRate)
        retransmissionBudget = RetransmissionBudget(targetBitrate: controller.target.targetBitrate)
    }

    // MARK: Producers

    /// Starts sending the streams `parameters` describe; the pipeline has `layers` layers.
    /// Returns the producer's index, or nil when nacho cannot send its codec.
    package func add(producerId: String, kind: MediaKind, parameters: RtpParameters, layers: Int, maxBitrate: Int,
                     timestampBase: UInt32 = .random(in: 0...UInt32.max), now: Double = 0) -> Int? {
        let configurations = Self.configurations(parameters)
        guard !configurations.isEmpty, configurations.count == parameters.encodings.count else { return nil }
        let layerMaxima = configurations.indices.map { index in
            max(0, configurations.count == 1 ? maxBitrate : parameters.encodings[index].maxBitrate ?? maxBitrate)
        }
        let producer = Producer(producerId: producerId, kind: kind, codec: parameters.codecs.first?.mimeType ?? "?",
                                streams: configurations.map { OutboundStream(configuration: $0) },
                                firstLayer: max(0, layers - configurations.count), timestampBase: timestampBase,
                                maxBitrate: layerMaxima.reduce(0, &+), layers: layerMaxima.map { Layer(allocation: Self.layer(max: $0)) })
        let index = producers.count
        producers.append(producer)
        for stream in producer.streams {
            producer.streamIndices.append(streams.count)
            streams.append((index, stream))
            if stream.configuration.transportSequenceExtensionId != nil { streamsCarryTransportSequence = true }
        }
        let ceiling = max(producers.reduce(0) { $0 &+ $1.maxBitrate }, 0)
        controller.setMaxBitrate(ceiling, now: now)
        if target == nil {
            // Until the controller gives a target the encoders run at their configured rates:
            // the pacer and the retransmission budget treat their sum as the target, not the
            // start rate.
            let pacing = max(controller.target.pacingRate, Int(min(Double(ceiling) * Self.pacingFactor, 1e12)))
            pacer.setRates(pacing: pacing, padding: 0)
            retransmissionBudget.setTarget(max(controller.target.targetBitrate, ceiling), now: now)
        }
        return index
    }

    /// A layer's allocation bounds from its maximum.
    static func layer(max maximum: Int) -> SimulcastAllocation.Layer {
        let minimum = min(maximum, max(minimumVideoBitrate, Int(Double(maximum) * layerMinimumShare)))
        return SimulcastAllocation.Layer(minBitrate: minimum, targetBitrate: max(minimum, Int(Double(maximum) * layerTargetShare)),
                                         maxBitrate: maximum)
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

    /// Packetizes one encoded frame of a producer into its history and queues its packets in
    /// the pacer (`drain` sends them). A layer the producer does not send, or that is paused,
    /// is ignored (false).
    @discardableResult
    package func send(_ frame: EncodedFrame, producer index: Int, now: Double) -> Bool {
        guard producers.indices.contains(index) else { return false }
        let producer = producers[index]
        let layer = frame.layer - producer.firstLayer
        guard producer.streams.indices.contains(layer), producer.layers[layer].active else { return false }
        if producer.layers[layer].awaitingKeyFrame {
            guard frame.isKeyFrame else { return false }
            producer.layers[layer].awaitingKeyFrame = false
        }
        let stream = producer.streams[layer]
        let first = producer.firstCaptureTime ?? frame.captureTime
        producer.firstCaptureTime = first
        // RTP time follows capture time from the producer's first frame, on every layer alike.
        let elapsed = min(max(frame.captureTime - first, 0), 1e7)
        let timestamp = producer.timestampBase
            &+ UInt32(truncatingIfNeeded: Int64((elapsed * Double(stream.configuration.clockRate)).rounded()))
        let flat = producer.streamIndices[layer]
        let kind: PacedPacket.Kind = producer.kind == .audio ? .audio : .video
        stream.packetize(frame: frame.payload, timestamp: timestamp, captureTime: frame.captureTime,
                         captureNTP: captureClockToNTP.flatMap { NTPTime.fixedPoint(seconds: frame.captureTime + $0) },
                         isKeyFrame: frame.isKeyFrame, audioLevel: frame.audioLevel, width: frame.width, height: frame.height,
                         now: now) { sequence, size in
            pacer.enqueue(PacedPacket(kind: kind, stream: flat, sequenceNumber: sequence, size: size, enqueuedAt: now))
        }
        return true
    }

    /// `send` and `drain` in one (tests, and callers without a pacer of their own).
    @discardableResult
    package func send(_ frame: EncodedFrame, producer index: Int, now: Double, emit: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let sent = send(frame, producer: index, now: now)
        drain(now: now, emit: emit)
        return sent
    }

    /// Sends what the pacer lets out now (queued packets, probes, padding) to `emit`; how many.
    @discardableResult
    package func drain(now: Double, emit: (UnsafeRawBufferPointer) -> Void) -> Int {
        let clusters = controller.takeProbeClusters(now: now)
        if !clusters.isEmpty, probing, streamsCarryTransportSequence { pacer.addProbeClusters(clusters) }
        var count = 0
        pacer.process(now: now, send: { packet, cluster in
            guard streams.indices.contains(packet.stream) else { return nil }
            let (index, stream) = streams[packet.stream]
            var wire = UInt16(truncatingIfNeeded: transportSequence)
            let size = packet.kind == .retransmission
                ? stream.emitRetransmission(sequenceNumber: packet.sequenceNumber, transportSequence: &wire, now: now, emit)
                : stream.emit(sequenceNumber: packet.sequenceNumber, transportSequence: &wire, now: now, emit)
            guard let size else { return nil }
            count += 1
            producers[index].pacerDelay += max(0, now - packet.enqueuedAt)
            producers[index].pacedPackets += 1
            reportSent(size: size, wire: wire, now: now, probeCluster: cluster, isRetransmission: packet.kind == .retransmission)
            return size
        }, pad: { bytes, cluster in
            guard let stream = paddingStream() else { return 0 }
            var wire = UInt16(truncatingIfNeeded: transportSequence)
            let size = stream.emitPadding(bytes: bytes, transportSequence: &wire, now: now, emit)
            if size > 0 {
                count += 1
                reportSent(size: size, wire: wire, now: now, probeCluster: cluster, isRetransmission: false)
            }
            return size
        })
        return count
    }

    /// Probe clusters to send besides the controller's (tests: the controller decides its own).
    func probe(_ clusters: [ProbeCluster]) {
        pacer.addProbeClusters(clusters)
    }

    /// When `drain` has something to send; nil when nothing is queued (no timer needed).
    package func nextSendTime(now: Double) -> Double? {
        pacer.nextSendTime(now: now)
    }

    /// A packet that took the transport-wide sequence number (`wire` moved past it) goes to
    /// the controller.
    private func reportSent(size: Int, wire: UInt16, now: Double, probeCluster: Int?, isRetransmission: Bool) {
        guard wire != UInt16(truncatingIfNeeded: transportSequence) else { return }
        let packet = SentPacket(transportSequence: transportSequence, sendTime: now, size: size, probeCluster: probeCluster,
                                isRetransmission: isRetransmission)
        controller.sent(packet)
        sentPacketTap?(packet)
        transportSequence += 1
    }

    /// The stream padding goes on: the top active layer with RTX of a video producer that has
    /// sent something.
    private func paddingStream() -> OutboundStream? {
        for producer in producers where producer.kind == .video {
            for layer in producer.layers.indices.reversed() where producer.layers[layer].active {
                let stream = producer.streams[layer]
                if stream.configuration.rtx != nil, stream.packetsSent > 0 { return stream }
            }
        }
        return nil
    }

    /// The controller's periodic work, at most every 25 ms: called as frames come, so it runs
    /// while media flows and costs nothing when it does not. Returns the encoder commands of a
    /// new target.
    package func process(now: Double) -> [EncoderCommand] {
        guard now - lastProcess >= Self.processInterval else { return [] }
        lastProcess = now
        return controller.process(now: now).map { apply($0, now: now) } ?? []
    }

    /// Feedback from the SFU: NACKs queue retransmissions in the pacer (`drain` sends them);
    /// what the encoders must do is returned. `ntp` is the wall clock now (for round trips).
    package func receive(_ packets: [RTCPPacket], now: Double, ntp: UInt64) -> [EncoderCommand] {
        var commands: [EncoderCommand] = []
        var newTarget: CongestionTarget?
        for packet in packets {
            switch packet {
            case .nack(let nack):
                queueRetransmissions(nack, now: now)
            case .pli(let pli):
                commands += keyFrame(for: pli.mediaSSRC, fir: false)
            case .fir(let fir):
                for entry in fir.entries { commands += keyFrame(for: entry.ssrc, fir: true) }
            case .remb(let remb):
                newTarget = controller.remb(bitrate: remb.bitrate, now: now) ?? newTarget
            case .receiverReport(let rr):
                newTarget = reports(rr.reports, now: now, ntp: ntp) ?? newTarget
            case .senderReport(let sr):
                newTarget = reports(sr.reports, now: now, ntp: ntp) ?? newTarget
            case .transportCC(let feedback):
                newTarget = controller.transportFeedback(feedback, now: now) ?? newTarget
            default:
                continue
            }
        }
        if let newTarget { commands += apply(newTarget, now: now) }
        return commands
    }

    /// `receive` and `drain` in one (tests).
    package func receive(_ packets: [RTCPPacket], now: Double, ntp: UInt64,
                         emit: (UnsafeRawBufferPointer) -> Void) -> [EncoderCommand] {
        let commands = receive(packets, now: now, ntp: ntp)
        drain(now: now, emit: emit)
        return commands
    }

    private func queueRetransmissions(_ nack: GenericNACK, now: Double) {
        guard let index = producers.firstIndex(where: { $0.stream(ssrc: nack.mediaSSRC) != nil }),
              let (layer, stream) = producers[index].stream(ssrc: nack.mediaSSRC) else { return }
        let producer = producers[index]
        producer.nacks += 1
        // At most once per round trip (the SFU's last receiver report gave it); a report
        // claiming more than a second must not stop repairs for longer.
        let roundTrip = min(producer.reports[stream.configuration.ssrc]?.rtt ?? 0, 1)
        let flat = producer.streamIndices[layer]
        for sequence in nack.lostSequenceNumbers {
            var refused = false
            let size = stream.requestRetransmission(sequence, now: now, minInterval: roundTrip) { size in
                refused = !retransmissionBudget.use(size, now: now)
                return !refused
            }
            if refused { producer.retransmissionsDropped += 1 }
            guard let size else { continue }
            pacer.enqueue(PacedPacket(kind: .retransmission, stream: flat, sequenceNumber: sequence, size: size, enqueuedAt: now))
        }
    }

    /// Report blocks: their round trips remembered, their loss to the controller.
    private func reports(_ blocks: [ReceptionReport], now: Double, ntp: UInt64) -> CongestionTarget? {
        remember(blocks, ntp: ntp)
        var newTarget: CongestionTarget?
        for block in blocks {
            guard let producer = producers.first(where: { $0.stream(ssrc: block.ssrc) != nil }) else { continue }
            let roundTrip = producer.reports[block.ssrc]?.rtt
            newTarget = controller.receiverReport(fractionLost: block.fractionLost, roundTrip: roundTrip, now: now) ?? newTarget
        }
        return newTarget
    }

    /// A target from the controller: the pacer's rates, the retransmission budget, and the
    /// encoders' share. Audio keeps its bitrate (it is subtracted); video producers split the
    /// rest evenly, none above its maximum (what one cannot use goes to the others); a
    /// producer's layers take their part as `SimulcastAllocation` says, a layer left out is
    /// paused (a single layer takes its part, at least libwebrtc's 30 kbps floor). Video is never paused whole: when no layer fits, the lowest runs at its minimum
    /// (libwebrtc's default of enforcing video's minimum bitrate). Commands for what changed.
    func apply(_ target: CongestionTarget, now: Double) -> [EncoderCommand] {
        self.target = target
        pacer.setRates(pacing: target.pacingRate, padding: target.paddingRate)
        retransmissionBudget.setTarget(target.targetBitrate, now: now)
        let audio = producers.filter { $0.kind == .audio }.reduce(0) { $0 &+ $1.maxBitrate }
        var left = max(0, target.targetBitrate - max(audio, 0))
        var open = producers.indices.filter { producers[$0].kind == .video }.sorted { producers[$0].maxBitrate < producers[$1].maxBitrate }
        var shares: [Int: Int] = [:]
        while let smallest = open.first {
            let even = left / open.count
            if producers[smallest].maxBitrate <= even {
                shares[smallest] = producers[smallest].maxBitrate
                left -= producers[smallest].maxBitrate
                open.removeFirst()
            } else {
                for index in open { shares[index] = even }
                open = []
            }
        }
        var commands: [EncoderCommand] = []
        for (index, share) in shares.sorted(by: { $0.key < $1.key }) {
            commands += allocate(share, producer: index)
        }
        return commands
    }

    private func allocate(_ bitrate: Int, producer index: Int) -> [EncoderCommand] {
        let producer = producers[index]
        var bitrates: [Int?]
        if let only = producer.layers.first?.allocation, producer.layers.count == 1 {
            // One encoder: down to the codec floor libwebrtc keeps, not a layer's minimum.
            bitrates = [min(max(bitrate, Self.minimumVideoBitrate), only.maxBitrate)]
        } else {
            bitrates = allocateLayers(bitrate, producer.layers.map(\.allocation))
            if bitrates.count != producer.layers.count { bitrates = producer.layers.map { _ in nil } }
        }
        if bitrates.allSatisfy({ $0 == nil }), let lowest = producer.layers.first { bitrates[0] = lowest.allocation.minBitrate }
        var commands: [EncoderCommand] = []
        for (layer, bitrate) in bitrates.enumerated() {
            let pipelineLayer = producer.firstLayer + layer
            let active = bitrate != nil
            if active != producer.layers[layer].active {
                producer.layers[layer].active = active
                producer.layers[layer].awaitingKeyFrame = active
                // A layer resumed is told its bitrate again.
                producer.layers[layer].target = nil
                commands.append(.layerActive(producer: index, layer: pipelineLayer, active: active))
            }
            if let bitrate, bitrate != producer.layers[layer].target {
                producer.layers[layer].target = bitrate
                commands.append(.targetBitrate(producer: index, layer: pipelineLayer, bitsPerSecond: bitrate))
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

    /// The bitrate the controller's target last gave a producer's layer (nil: none yet, or
    /// the layer is paused).
    package func targetBitrate(producer index: Int, layer: Int) -> Int? {
        guard producers.indices.contains(index) else { return nil }
        let producer = producers[index]
        let stream = layer - producer.firstLayer
        guard producer.layers.indices.contains(stream), producer.layers[stream].active else { return nil }
        return producer.layers[stream].target
    }

    /// Whether a producer's layer is sent (not paused by the allocation).
    package func isLayerActive(producer index: Int, layer: Int) -> Bool {
        guard producers.indices.contains(index) else { return false }
        let stream = layer - producers[index].firstLayer
        return producers[index].layers.indices.contains(stream) && producers[index].layers[stream].active
    }

    /// Packets waiting in the pacer.
    package var queuedPackets: Int { pacer.queue.count }

    /// Each producer's figures of what went out, its streams (layers, RTX) summed (a simulcast
    /// producer's RTT and jitter are its top layer's); frames are the pipeline's to add.
    package func sent() -> [TrackStats] {
        producers.map { producer in
            var sent = TrackStats(direction: .send, kind: producer.kind, codec: producer.codec, track: producer.producerId)
            sent.nacks = producer.nacks
            sent.plis = producer.plis
            sent.firs = producer.firs
            sent.retransmissionsDropped = producer.retransmissionsDropped
            sent.pacerDelaySeconds = producer.pacerDelay
            sent.pacedPackets = producer.pacedPackets
            sent.layersPaused = producer.layers.filter { !$0.active }.count
            // Audio is not given a target (it keeps its configured bitrate, which the split
            // subtracts): null, not its configuration printed as the controller's.
            if target != nil, producer.kind == .video {
                sent.targetBitrate = producer.layers.reduce(0) { $0 &+ ($1.active ? $1.target ?? 0 : 0) }
            }
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
