import LoadTest
import Prometheus

/// Live figures of a bots run in the Prometheus text format (`nacho bots --metrics`), so a
/// fleet can be watched while it runs: bots planned and joined by role; packets, bytes,
/// losses, retransmissions, frames and freezes by role, kind and direction; end-to-end delay
/// as a histogram. Fed once a second with the interval records the statistics lines are made
/// of, so the two always agree.
final class FleetMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()

    /// Delay buckets (seconds): from a LAN's few milliseconds to a second.
    static let delayBuckets: [Double] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 1]

    // Descriptors are not Sendable, so each use makes its own (a few times a second).
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "nacho", metricName: metric, unitName: unit, helpText: help)
    }

    private static var planned: MetricNameDescriptor { name("bots_planned", "", "Bots this process runs") }
    private static var joined: MetricNameDescriptor { name("bots_joined", "", "Bots that got into the room (media transport connected at least once)") }
    private static var packets: MetricNameDescriptor { name("packets", "total", "RTP packets sent or received") }
    private static var bytes: MetricNameDescriptor { name("bytes", "total", "RTP bytes sent or received") }
    private static var lost: MetricNameDescriptor { name("packets_lost", "total", "Packets lost (receive: missing; send: as the SFU reports)") }
    private static var retransmissions: MetricNameDescriptor { name("retransmissions", "total", "Packets retransmitted (RTX)") }
    private static var frames: MetricNameDescriptor { name("frames", "total", "Whole frames sent or put together") }
    private static var freezes: MetricNameDescriptor { name("freezes", "total", "Video freezes (W3C webrtc-stats definition)") }
    private static var frozen: MetricNameDescriptor { name("freeze_seconds", "total", "Time spent frozen") }
    private static var delay: MetricNameDescriptor { name("delay", "seconds", "End-to-end delay of whole frames, capture to arrival") }

    init(plan: BotPlan) {
        for role in Bot.Role.allCases {
            let count = plan.members.filter { $0.role == role }.count
            registry.makeGauge(descriptor: Self.planned, labels: [("role", role.rawValue)]).set(to: Double(count))
            registry.makeGauge(descriptor: Self.joined, labels: [("role", role.rawValue)]).set(to: 0)
        }
    }

    /// Bots that got into the room, by role.
    func joined(_ bots: [Bot]) {
        for role in Bot.Role.allCases {
            let count = bots.filter { $0.role == role && $0.joining.joined }.count
            registry.makeGauge(descriptor: Self.joined, labels: [("role", role.rawValue)]).set(to: Double(count))
        }
    }

    /// One interval's records: their counts are the interval's, so they add up.
    func observe(_ records: [LoadStatistics.Record]) {
        for record in records {
            let labels = [("role", record.role.rawValue), ("kind", record.kind), ("direction", record.direction.rawValue)]
            add(Self.packets, labels, record.packets)
            add(Self.bytes, labels, record.bytes)
            add(Self.lost, labels, record.packetsLost)
            add(Self.retransmissions, labels, record.retransmissions)
            add(Self.frames, labels, record.frames)
            add(Self.freezes, labels, record.freezes)
            let frozen = registry.makeCounter(descriptor: Self.frozen, labels: labels)
            if let freezeMs = record.freezeMs, freezeMs > 0, freezeMs.isFinite { frozen.increment(by: freezeMs / 1000) }
            let delay = registry.makeValueHistogram(descriptor: Self.delay, labels: labels, buckets: Self.delayBuckets)
            for sample in record.delaySamples where sample.isFinite { delay.record(sample) }
        }
    }

    /// The exposition text (format 0.0.4).
    func text() -> [UInt8] { registry.emitToBuffer() }

    private func add(_ descriptor: MetricNameDescriptor, _ labels: [(String, String)], _ amount: Int) {
        // Made even at zero, so a scrape shows every series from its first interval on.
        let counter = registry.makeCounter(descriptor: descriptor, labels: labels)
        if amount > 0 { counter.increment(by: Int64(amount)) }
    }
}
