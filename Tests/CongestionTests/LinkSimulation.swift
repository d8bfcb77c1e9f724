import Bytes
import Congestion
import RTP

/// A sender with the real controller, a pacer and an encoder that follows the target, over
/// a simulated bottleneck (a FIFO queue drained at `capacity` counting IP, UDP and SRTP
/// overhead, tail-dropping past `maxQueue` of queuing delay, then random loss and jitter),
/// and a receiver that writes transport-cc feedback every `feedbackInterval` and a receiver
/// report every second. Time is simulated in 1 ms steps; everything is seeded, so a run
/// repeats exactly.
struct LinkSimulation {
    struct Link {
        var capacity: Double
        var maxQueue: Double
        var propagation = 0.02
        /// Bytes the link carries per packet beyond the RTP packet: IPv4 20 + UDP 8 + SRTP tag 10.
        var overheadPerPacket = 38
        var randomLoss = 0.0
        /// Extra delay after the queue, uniform in [0, jitter) s, order kept (a radio link's).
        var jitter = 0.0
        var lastArrival = 0.0
        /// When the queue is empty again.
        var busyUntil = 0.0
    }

    struct Second {
        var time: Double
        var target: Int
        var sentBytes = 0
        var deliveredBytes = 0
        var sentPackets = 0
        var droppedPackets = 0
        var queueDelay = 0.0
    }

    var link: Link
    var controller: GoogCongestionController
    var feedbackInterval = 0.05
    /// The receiver's clock runs this far ahead of the sender's: only differences may matter.
    var receiverClockOffset = 1_000.0
    var packetSize = 1200
    var rng = SplitMix64(seed: 16)
    /// Garbage feedback to add between the real ones (fuzz), per real feedback.
    var garbagePerFeedback = 0

    private(set) var now = 0.0
    private(set) var seconds: [Second] = []
    private(set) var targets: [(time: Double, target: Int)] = []
    private(set) var probeClustersSent: [ProbeCluster] = []
    private var sequence: Int64 = 0
    private var pacerQueue: [(size: Int, cluster: Int?)] = []
    private var nextPacerSend = 0.0
    private var nextFrame = 0.0
    /// Receiver side: arrivals by sequence (nil: lost), not yet reported.
    private var arrivals: [(sequence: Int64, arrival: Double?)] = []
    private var nextFeedbackTime = 0.05
    private var feedbackCount: UInt8 = 0
    private var inFlightFeedback: [(deliverAt: Double, bytes: [UInt8])] = []
    private var nextReceiverReport = 1.0
    private var lostSinceReport = 0
    private var expectedSinceReport = 0

    init(capacity: Double, maxQueue: Double, configuration: GoogCongestionController.Configuration = .init()) {
        link = Link(capacity: capacity, maxQueue: maxQueue)
        controller = GoogCongestionController(configuration: configuration)
    }

    mutating func run(until end: Double) {
        while now < end {
            step()
            now += 0.001
        }
    }

    private mutating func step() {
        let second = Int(now)
        while seconds.count <= second {
            seconds.append(Second(time: Double(seconds.count), target: controller.target.targetBitrate))
        }
        seconds[second].target = controller.target.targetBitrate
        seconds[second].queueDelay = max(seconds[second].queueDelay, link.busyUntil - now)

        while let first = inFlightFeedback.first, first.deliverAt <= now {
            inFlightFeedback.removeFirst()
            deliver(first.bytes)
        }
        if Int((now * 1000).rounded()) % 25 == 0 {
            record(controller.process(now: now))
            for cluster in controller.takeProbeClusters(now: now) {
                probeClustersSent.append(cluster)
                let size = min(packetSize, max(200, cluster.minBytes / max(cluster.minPackets, 1)))
                let count = max(cluster.minPackets, (cluster.minBytes + size - 1) / size)
                // Probes go first, at their own rate (the pacer sends them before media).
                pacerQueue.insert(contentsOf: repeatElement((size: size, cluster: Optional(cluster.id)), count: count), at: 0)
            }
        }
        if now >= nextFrame {
            // A frame of 1/30 s of the target, split into packets.
            var bytes = controller.target.targetBitrate / 8 / 30
            while bytes > 0 {
                let size = min(bytes, packetSize)
                pacerQueue.append((size, nil))
                bytes -= size
            }
            nextFrame += 1.0 / 30
        }
        while let packet = pacerQueue.first, nextPacerSend <= now {
            pacerQueue.removeFirst()
            send(size: packet.size, cluster: packet.cluster)
            let rate: Double
            if let id = packet.cluster, let cluster = probeClustersSent.last(where: { $0.id == id }) {
                rate = Double(cluster.bitrate)
            } else {
                rate = Double(controller.target.pacingRate)
            }
            nextPacerSend = max(nextPacerSend, now - 0.005) + Double(packet.size * 8) / max(rate, 1)
        }
        if now >= nextFeedbackTime {
            sendFeedback()
            nextFeedbackTime += feedbackInterval
        }
        if now >= nextReceiverReport {
            let fraction = expectedSinceReport > 0 ? UInt8(min(255, lostSinceReport * 256 / expectedSinceReport)) : 0
            record(controller.receiverReport(fractionLost: fraction, roundTrip: 2 * link.propagation + max(0, link.busyUntil - now),
                                             now: now))
            lostSinceReport = 0
            expectedSinceReport = 0
            nextReceiverReport += 1
        }
    }

    private mutating func send(size: Int, cluster: Int?) {
        let packet = SentPacket(transportSequence: sequence, sendTime: now, size: size, probeCluster: cluster)
        sequence += 1
        controller.sent(packet)
        let second = Int(now)
        seconds[second].sentBytes += size
        seconds[second].sentPackets += 1
        expectedSinceReport += 1
        let start = max(now, link.busyUntil)
        var arrival: Double?
        if start - now <= link.maxQueue {
            let done = start + Double((size + link.overheadPerPacket) * 8) / link.capacity
            link.busyUntil = done
            if Double(rng.next() % 1_000_000) / 1_000_000 >= link.randomLoss {
                let jitter = link.jitter * Double(rng.next() % 1_000_000) / 1_000_000
                let time = max(done + link.propagation + jitter, link.lastArrival)
                link.lastArrival = time
                arrival = time
            }
        }
        if arrival == nil {
            seconds[second].droppedPackets += 1
            lostSinceReport += 1
        } else {
            seconds[second].deliveredBytes += size
        }
        arrivals.append((packet.transportSequence, arrival))
    }

    /// Feedback about every packet up to the last one that has arrived by now.
    private mutating func sendFeedback() {
        guard let last = arrivals.lastIndex(where: { ($0.arrival ?? .infinity) <= now }) else { return }
        let reported = arrivals[...last]
        arrivals.removeFirst(last + 1)
        let base = UInt16(truncatingIfNeeded: reported.first!.sequence)
        let bytes = FeedbackWriter.bytes(base: base, arrivals: reported.map { $0.arrival.map { $0 + receiverClockOffset } },
                                         feedbackCount: feedbackCount)
        feedbackCount &+= 1
        inFlightFeedback.append((now + link.propagation, bytes))
        for _ in 0..<garbagePerFeedback {
            inFlightFeedback.append((now + link.propagation, garbage(near: base)))
        }
    }

    /// Feedback with random statuses, deltas and reference time about sequence numbers around
    /// (and far from) the real ones.
    private mutating func garbage(near base: UInt16) -> [UInt8] {
        let count = Int(rng.next() % 300)
        var symbols: [FeedbackWriter.Symbol] = []
        for _ in 0..<count {
            switch rng.next() % 4 {
            case 0: symbols.append(.lost)
            case 1: symbols.append(.received(deltaTicks: Int(rng.next() % 256)))
            default: symbols.append(.received(deltaTicks: Int(Int16(truncatingIfNeeded: rng.next()))))
            }
        }
        let offset = rng.next() % 2 == 0 ? UInt16(truncatingIfNeeded: rng.next() % 64) : UInt16(truncatingIfNeeded: rng.next())
        var bytes = FeedbackWriter.bytes(base: base &- offset, referenceTime: Int32(truncatingIfNeeded: rng.next()) & 0xFF_FFFF,
                                         feedbackCount: UInt8(truncatingIfNeeded: rng.next()), symbols: symbols)
        // Now and then a flipped byte past the header: whatever still parses is fed.
        if bytes.count > 12, rng.next() % 3 == 0 {
            let index = 12 + Int(rng.next() % UInt64(bytes.count - 12))
            bytes[index] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
        }
        return bytes
    }

    private mutating func deliver(_ bytes: [UInt8]) {
        guard let feedback = try? TransportCCFeedback(parsing: bytes[...]) else { return }
        record(controller.transportFeedback(feedback, now: now))
    }

    private mutating func record(_ target: CongestionTarget?) {
        if let target { targets.append((now, target.targetBitrate)) }
    }

    // MARK: Figures

    /// Mean, least and greatest target over [from, to).
    func targetStatistics(from: Double, to: Double) -> (mean: Double, min: Int, max: Int) {
        // Time-weighted from the per-change record, so a short spike weighs little.
        var total = 0.0
        var least = Int.max
        var greatest = 0
        var current = targets.last(where: { $0.time <= from })?.target ?? controller.configuration.startBitrate
        var time = from
        for change in targets where change.time > from && change.time < to {
            total += Double(current) * (change.time - time)
            least = min(least, current)
            greatest = max(greatest, current)
            current = change.target
            time = change.time
        }
        total += Double(current) * (to - time)
        least = min(least, current)
        greatest = max(greatest, current)
        return (total / (to - from), least, greatest)
    }

    /// Packets dropped (queue or random) over packets sent in [from, to).
    func lossFraction(from: Double, to: Double) -> Double {
        let window = seconds.filter { $0.time >= from && $0.time < to }
        let sent = window.reduce(0) { $0 + $1.sentPackets }
        return sent > 0 ? Double(window.reduce(0) { $0 + $1.droppedPackets }) / Double(sent) : 0
    }

    /// The first time at or after `from` that the target reached `level`.
    func firstTime(from: Double, targetAtLeast level: Int) -> Double? {
        targets.first { $0.time >= from && $0.target >= level }?.time
    }

    func report(from: Double, to: Double) -> String {
        seconds.filter { $0.time >= from && $0.time < to }.map { second in
            "t=\(Int(second.time)) target=\(second.target / 1000)k sent=\(second.sentBytes * 8 / 1000)k "
                + "delivered=\(second.deliveredBytes * 8 / 1000)k dropped=\(second.droppedPackets)/\(second.sentPackets) "
                + "queue=\(Int(second.queueDelay * 1000))ms"
        }.joined(separator: "\n")
    }
}
