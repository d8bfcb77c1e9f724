import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import RTP
import Signaling
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
    }

    private struct Entry {
        var consumer: ConsumerOptions
        var owner: String
        var statistics: ReceptionStatistics
        var retransmissions = 0
        var closed = false
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

    public init(transport: WebRtcTransport, cname: String, logger: Logger) {
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.logger = logger
        self.cname = cname
        self.localSSRC = UInt32.random(in: 1...UInt32.max)
    }

    /// Installs the packet handlers and the report timer. Call before `transport.connect()`.
    public func start(reportInterval: TimeAmount = .seconds(1)) {
        transport.setHandlers(
            rtp: { [weak self] packet in self?.received(packet) },
            rtcp: { [weak self] packets in self?.received(packets) })
        eventLoop.execute {
            self.reportTask = self.eventLoop.scheduleRepeatedTask(initialDelay: reportInterval, delay: reportInterval) { _ in
                self.sendReports()
            }
        }
    }

    public func stop() async {
        try? await eventLoop.submit {
            self.reportTask?.cancel()
            self.reportTask = nil
        }.get()
    }

    /// Starts counting a consumer's SSRCs; asks for a key frame when it is video.
    public func add(_ consumer: ConsumerOptions, owner: String) {
        eventLoop.execute {
            guard let encoding = consumer.rtpParameters.encodings.first, let ssrc = encoding.ssrc else { return }
            let clockRate = consumer.rtpParameters.codecs.first?.clockRate ?? 90000
            self.entries[consumer.id] = Entry(consumer: consumer, owner: owner,
                                              statistics: ReceptionStatistics(ssrc: ssrc, clockRate: clockRate))
            self.bySSRC[ssrc] = consumer.id
            if let rtx = encoding.rtx?.ssrc { self.byRTXSSRC[rtx] = consumer.id }
            if consumer.kind == .video { self.requestKeyFrame(ssrc) }
        }
    }

    /// The server closed a consumer: stop counting it, keep its numbers.
    public func close(consumerId: String) {
        eventLoop.execute {
            guard var entry = self.entries[consumerId] else { return }
            entry.closed = true
            self.entries[consumerId] = entry
            if let ssrc = entry.consumer.rtpParameters.encodings.first?.ssrc { self.bySSRC[ssrc] = nil }
            if let rtx = entry.consumer.rtpParameters.encodings.first?.rtx?.ssrc { self.byRTXSSRC[rtx] = nil }
        }
    }

    public func reports() async -> [ConsumerReport] {
        (try? await eventLoop.submit {
            self.entries.values.map { entry in
                ConsumerReport(
                    consumerId: entry.consumer.id, producerId: entry.consumer.producerId, owner: entry.owner,
                    kind: entry.consumer.kind, packets: entry.statistics.packetsReceived, bytes: entry.statistics.bytesReceived,
                    retransmissions: entry.retransmissions, lost: max(0, entry.statistics.cumulativeLost),
                    senderReports: entry.statistics.senderReportsReceived, closed: entry.closed)
            }
        }.get()) ?? []
    }

    // MARK: - Event loop

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    private func received(_ packet: RTPPacket) {
        if let id = bySSRC[packet.ssrc] {
            entries[id]?.statistics.packetReceived(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                                   size: packet.serializedSize, arrival: Self.now())
        } else if let id = byRTXSSRC[packet.ssrc] {
            entries[id]?.retransmissions += 1
        }
    }

    private func received(_ packets: [RTCPPacket]) {
        for packet in packets {
            switch packet {
            case .senderReport(let report):
                if let id = bySSRC[report.ssrc] {
                    entries[id]?.statistics.senderReportReceived(ntpTimestamp: report.ntpTimestamp, arrival: Self.now())
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
        guard !reports.isEmpty else { return }
        // At most 31 report blocks per RR.
        var packets: [RTCPPacket] = []
        for start in stride(from: 0, to: reports.count, by: 31) {
            packets.append(.receiverReport(ReceiverReport(ssrc: localSSRC, reports: Array(reports[start..<min(start + 31, reports.count)]))))
        }
        packets.append(.sourceDescription(SourceDescription(cname: cname, ssrc: localSSRC)))
        transport.sendRTCP(packets)
    }

    private func requestKeyFrame(_ ssrc: UInt32) {
        transport.sendRTCP([.pli(PictureLossIndication(senderSSRC: localSSRC, mediaSSRC: ssrc))])
    }
}
