import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import RTP
import Signaling
import Recording
import Transport

/// The receive side of one edge transport: which SSRC belongs to which consumer, reception
/// statistics per stream, receiver reports every second, key-frame requests. Runs on the
/// transport's event loop: every packet is counted there, without locks or hops.
public final class ReceiveSession: @unchecked Sendable {
    /// What was received for one consumer (one remote producer).
    public struct ConsumerReport: Sendable, Equatable {
        public var consumerId: String
        public var producerId: String
        public var owner: String
        public var kind: MediaKind
        public var packets: Int
        public var bytes: Int
        public var retransmissions: Int
        public var lost: Int
        public var senderReports: Int
        public var closed: Bool
        /// Whole frames reassembled (video) or Opus packets in order (audio).
        public var frames: Int
        public var nacksSent: Int
        public var keyFrameRequests: Int
        /// Packets that came twice or after their place was given up.
        public var duplicates: Int
    }

    private struct Entry {
        var consumer: ConsumerOptions
        var owner: String
        var statistics: ReceptionStatistics
        var retransmissions = 0
        var closed = false
        var jitter: JitterBuffer<RTPPacket>
        var depacketizer = VP8Depacketizer()
        var nackEnabled: Bool
        var frames = 0
        var nacksSent = 0
        var keyFrameRequests = 0
        var lastKeyFrameRequest: Double = 0
        var recorder: MemberRecorder?
        /// The producer is paused (camera off): no media is expected, none is asked for.
        var paused = false
    }

    private let transport: WebRtcTransport
    private let eventLoop: any EventLoop
    private let logger: Logger
    /// SSRC of this receiver's own reports.
    private let localSSRC: UInt32
    private let cname: String

    // Confined to the event loop.
    private var entries: [String: Entry] = [:]
    private var bySSRC: [UInt32: String] = [:]
    private var byRTXSSRC: [UInt32: String] = [:]
    private var reportTask: RepeatedTask?
    private var repairTask: RepeatedTask?
    private let recorders: (@Sendable (String) -> MemberRecorder?)?
    private let progress: ReceiveProgress?
    private var lastLossWarning: Double = 0

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
    }

    /// Installs the packet handlers and the report timer. Call before `transport.connect()`.
    public func start() {
        let reportInterval = TimeAmount.seconds(1)
        transport.setHandlers(
            rtp: { [weak self] packet in self?.received(packet) },
            rtcp: { [weak self] packets in self?.received(packets) })
        eventLoop.execute {
            self.reportTask = self.eventLoop.scheduleRepeatedTask(initialDelay: reportInterval, delay: reportInterval) { _ in
                self.sendReports()
            }
            self.repairTask = self.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { _ in
                self.repair()
            }
        }
    }

    /// Delivers what is still buffered, then ends this session's tracks in the recorders: a
    /// member's file holds the tracks of one session, never ghosts of an earlier one.
    public func stop() async {
        try? await eventLoop.submit {
            self.reportTask?.cancel()
            self.reportTask = nil
            self.repairTask?.cancel()
            self.repairTask = nil
            for id in self.entries.keys where self.entries[id]?.closed == false {
                self.drain(id, now: .infinity)
                self.entries[id]?.closed = true
                self.entries[id]?.recorder?.removeTrack(id: id)
            }
        }.get()
    }

    /// Starts counting a consumer's SSRCs; asks for a key frame when it is video (and not
    /// paused: a paused producer sends nothing until it resumes).
    public func add(_ consumer: ConsumerOptions, owner: String, paused: Bool = false) {
        eventLoop.execute {
            guard let encoding = consumer.rtpParameters.encodings.first, let ssrc = encoding.ssrc else { return }
            let codec = consumer.rtpParameters.codecs.first
            let clockRate = codec?.clockRate ?? 90000
            let recorder = self.recorders?(owner)
            recorder?.addTrack(id: consumer.id, kind: consumer.kind == .video ? .video : .audio, clockRate: clockRate)
            // Video waits up to 300 ms for a retransmission; audio plays on after 80 ms.
            self.entries[consumer.id] = Entry(
                consumer: consumer, owner: owner, statistics: ReceptionStatistics(ssrc: ssrc, clockRate: clockRate),
                jitter: JitterBuffer(maxWait: consumer.kind == .video ? 0.3 : 0.08),
                nackEnabled: codec?.rtcpFeedback.contains(.nack) ?? false, recorder: recorder)
            self.bySSRC[ssrc] = consumer.id
            if let rtx = encoding.rtx?.ssrc { self.byRTXSSRC[rtx] = consumer.id }
            self.entries[consumer.id]?.paused = paused
            if paused { recorder?.setPaused(track: consumer.id, true) }
            // Video starts with a key-frame request: not every server asks the producer for one.
            if consumer.kind == .video && !paused {
                self.entries[consumer.id]?.lastKeyFrameRequest = Self.now()
                self.entries[consumer.id]?.keyFrameRequests += 1
                self.requestKeyFrame(ssrc)
            }
        }
    }

    /// The server closed a consumer: stop counting it, keep its numbers.
    public func close(consumerId: String) {
        eventLoop.execute {
            guard var entry = self.entries[consumerId] else { return }
            self.drain(consumerId, now: .infinity)
            entry = self.entries[consumerId] ?? entry
            entry.closed = true
            entry.recorder?.removeTrack(id: consumerId)
            self.entries[consumerId] = entry
            if let ssrc = entry.consumer.rtpParameters.encodings.first?.ssrc { self.bySSRC[ssrc] = nil }
            if let rtx = entry.consumer.rtpParameters.encodings.first?.rtx?.ssrc { self.byRTXSSRC[rtx] = nil }
        }
    }

    /// The producer behind a consumer paused or resumed. On resume video asks for a key frame
    /// at once (the picture must restart from one).
    public func setPaused(consumerId: String, _ paused: Bool) {
        eventLoop.execute {
            guard var entry = self.entries[consumerId], !entry.closed, entry.paused != paused else { return }
            entry.paused = paused
            entry.recorder?.setPaused(track: consumerId, paused)
            if !paused, entry.consumer.kind == .video, let ssrc = entry.consumer.rtpParameters.encodings.first?.ssrc {
                entry.lastKeyFrameRequest = Self.now()
                entry.keyFrameRequests += 1
                self.requestKeyFrame(ssrc)
            }
            self.entries[consumerId] = entry
        }
    }

    public func reports() async -> [ConsumerReport] {
        (try? await eventLoop.submit {
            self.entries.values.map { entry in
                ConsumerReport(
                    consumerId: entry.consumer.id, producerId: entry.consumer.producerId, owner: entry.owner,
                    kind: entry.consumer.kind, packets: entry.statistics.packetsReceived, bytes: entry.statistics.bytesReceived,
                    retransmissions: entry.retransmissions, lost: max(0, entry.statistics.cumulativeLost),
                    senderReports: entry.statistics.senderReportsReceived, closed: entry.closed, frames: entry.frames,
                    nacksSent: entry.nacksSent, keyFrameRequests: entry.keyFrameRequests,
                    duplicates: entry.jitter.duplicates + entry.jitter.late)
            }
        }.get()) ?? []
    }

    // MARK: - Event loop

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private func received(_ packet: RTPPacket) {
        let now = Self.now()
        if let id = bySSRC[packet.ssrc] {
            entries[id]?.statistics.packetReceived(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                                   size: packet.serializedSize, arrival: now)
            entries[id]?.jitter.insert(packet, sequenceNumber: packet.sequenceNumber, arrival: now)
            drain(id, now: now)
        } else if let id = byRTXSSRC[packet.ssrc], let entry = entries[id], let original = Self.unwrapRTX(packet, entry.consumer) {
            // RFC 4588: the original sequence number leads the payload.
            entries[id]?.retransmissions += 1
            entries[id]?.jitter.insert(original, sequenceNumber: original.sequenceNumber, arrival: now)
            drain(id, now: now)
        }
    }

    static func unwrapRTX(_ packet: RTPPacket, _ consumer: ConsumerOptions) -> RTPPacket? {
        guard packet.payload.count >= 2, let ssrc = consumer.rtpParameters.encodings.first?.ssrc,
              let rtx = consumer.rtpParameters.codecs.first(where: { $0.isRtx && $0.payloadType == Int(packet.payloadType) }),
              let apt = rtx.parameters["apt"]?.intValue else { return nil }
        let start = packet.payload.startIndex
        let original = UInt16(packet.payload[start]) << 8 | UInt16(packet.payload[start + 1])
        var unwrapped = packet
        unwrapped.ssrc = ssrc
        unwrapped.payloadType = UInt8(apt)
        unwrapped.sequenceNumber = original
        unwrapped.payload = packet.payload.dropFirst(2)
        return unwrapped
    }

    /// Moves in-order packets from the jitter buffer to the depacketizer and the recorder.
    private func drain(_ id: String, now: Double) {
        guard var entry = entries[id] else { return }
        let ready = entry.jitter.pop(now: now)
        guard !ready.isEmpty else {
            entries[id] = entry
            return
        }
        let arrival = Self.now()
        for output in ready {
            let packet = output.element
            if entry.consumer.kind == .video {
                if let frame = entry.depacketizer.add(packet.payload, timestamp: packet.timestamp, marker: packet.marker,
                                                      discontinuity: output.discontinuity) {
                    entry.frames += 1
                    entry.recorder?.frame(track: id, rtpTimestamp: frame.timestamp, keyFrame: frame.isKeyFrame, data: frame.data,
                                          arrival: arrival, width: frame.width, height: frame.height)
                }
            } else if !packet.payload.isEmpty {
                entry.frames += 1
                entry.recorder?.frame(track: id, rtpTimestamp: packet.timestamp, keyFrame: true, data: Array(packet.payload), arrival: arrival)
            }
        }
        entries[id] = entry
    }

    /// Every 20 ms: give up old gaps, NACK what is missing, ask for a key frame when video
    /// cannot decode (start, or a gap that retransmission did not fill).
    private func repair() {
        let now = Self.now()
        for id in entries.keys {
            guard entries[id]?.closed == false else { continue }
            drain(id, now: now)
            guard var entry = entries[id], let ssrc = entry.consumer.rtpParameters.encodings.first?.ssrc else { continue }
            if entry.nackEnabled {
                let missing = entry.jitter.nackList(now: now)
                if !missing.isEmpty {
                    entry.nacksSent += 1
                    transport.sendRTCP([.nack(GenericNACK(senderSSRC: localSSRC, mediaSSRC: ssrc, lost: missing))])
                }
            }
            // A gap too wide to NACK (the jitter buffer gave it up at once) needs a key frame now.
            let overflowed = entry.jitter.takeKeyFrameRequest()
            if entry.consumer.kind == .video, !entry.paused,
               overflowed || (entry.depacketizer.waitingForKeyFrame && now - entry.lastKeyFrameRequest > 1) {
                entry.lastKeyFrameRequest = now
                entry.keyFrameRequests += 1
                requestKeyFrame(ssrc)
            }
            entries[id] = entry
        }
    }

    private func received(_ packets: [RTCPPacket]) {
        for packet in packets {
            switch packet {
            case .senderReport(let report):
                if let id = bySSRC[report.ssrc] {
                    entries[id]?.statistics.senderReportReceived(ntpTimestamp: report.ntpTimestamp, arrival: Self.now())
                    entries[id]?.recorder?.senderReport(track: id, ntp: report.ntpTimestamp, rtpTimestamp: report.rtpTimestamp)
                }
            case .goodbye(let bye):
                logger.debug("RTCP BYE", metadata: ["ssrcs": "\(bye.ssrcs)"])
            default:
                continue
            }
        }
    }

    private func sendReports() {
        let now = Self.now()
        var reports: [ReceptionReport] = []
        for id in entries.keys where entries[id]?.closed == false && (entries[id]?.statistics.packetsReceived ?? 0) > 0 {
            if let report = entries[id]?.statistics.makeReport(now: now) { reports.append(report) }
        }
        publishProgress(reports, now: now)
        guard !reports.isEmpty else { return }
        // At most 31 report blocks per RR.
        var packets: [RTCPPacket] = []
        for start in stride(from: 0, to: reports.count, by: 31) {
            packets.append(.receiverReport(ReceiverReport(ssrc: localSSRC, reports: Array(reports[start..<min(start + 31, reports.count)]))))
        }
        packets.append(.sourceDescription(SourceDescription(cname: cname, ssrc: localSSRC)))
        transport.sendRTCP(packets)
    }

    /// Totals for a status display, and a warning when a stream loses more than 5 %.
    private func publishProgress(_ reports: [ReceptionReport], now: Double) {
        var totals = ReceiveProgress.Totals()
        totals.members = Set(entries.values.filter { !$0.closed }.map(\.owner)).count
        for entry in entries.values {
            totals.packets += entry.statistics.packetsReceived
            totals.bytes += entry.statistics.bytesReceived
            totals.lost += max(0, entry.statistics.cumulativeLost)
            totals.expected += entry.statistics.expected
        }
        progress?.update(totals)
        if let worst = reports.max(by: { $0.fractionLost < $1.fractionLost }), worst.fractionLost > 13, now - lastLossWarning > 10 {
            lastLossWarning = now
            let owner = entries.values.first { $0.statistics.ssrc == worst.ssrc }?.owner ?? "?"
            logger.warning("packet loss", metadata: ["member": "\(owner)", "loss": "\(Int(worst.fractionLost) * 100 / 256) %",
                                                     "lost so far": "\(worst.cumulativeLost)"])
        }
    }

    private func requestKeyFrame(_ ssrc: UInt32) {
        transport.sendRTCP([.pli(PictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc))])
    }
}
