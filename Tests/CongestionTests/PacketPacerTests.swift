import XCTest

@testable import Congestion

/// The pacer with a clock of its own: every wake-up when it asks for one.
final class PacketPacerTests: XCTestCase {
    private struct Sent: Equatable {
        var packet: PacedPacket?
        var time: Double
        var probeCluster: Int?
        var padding = 0
    }

    /// Runs the pacer from `start` until nothing is left (or `until`), waking when it asks.
    private func run(_ pacer: inout PacketPacer, from start: Double, until end: Double = 100, canPad: Bool = false,
                     enqueue: [(Double, PacedPacket)] = []) -> [Sent] {
        var sent: [Sent] = []
        var now = start
        var pending = enqueue
        var wakeUps = 0
        while now <= end {
            while let first = pending.first, first.0 <= now {
                pacer.enqueue(first.1)
                pending.removeFirst()
            }
            pacer.process(now: now, send: { packet, cluster in
                sent.append(Sent(packet: packet, time: now, probeCluster: cluster))
                return packet.size
            }, pad: { bytes, cluster in
                guard canPad else { return 0 }
                sent.append(Sent(packet: nil, time: now, probeCluster: cluster, padding: bytes))
                return bytes
            })
            wakeUps += 1
            XCTAssertLessThan(wakeUps, 100_000, "the pacer keeps asking to be woken")
            let next = [pacer.nextSendTime(now: now), pending.first?.0].compactMap { $0 }.min()
            guard let next else { break }
            XCTAssertGreaterThanOrEqual(next, now)
            now = next
        }
        return sent
    }

    private func video(_ sequence: UInt16, size: Int = 1100, at time: Double = 0, kind: PacedPacket.Kind = .video) -> PacedPacket {
        PacedPacket(kind: kind, stream: 0, sequenceNumber: sequence, size: size, enqueuedAt: time)
    }

    /// A 10-packet frame at 500 kbit/s goes out over the time its bytes take at that rate
    /// (10 × 1100 bytes: 176 ms), not at once and not slower.
    func testAFrameIsSpreadAtThePacingRate() {
        var pacer = PacketPacer(pacingRate: 500_000)
        for sequence in 0..<10 { pacer.enqueue(video(UInt16(sequence), at: 1)) }
        let sent = run(&pacer, from: 1)
        XCTAssertEqual(sent.compactMap(\.packet?.sequenceNumber), Array(0..<10), "in order")
        let span = sent.last!.time - sent.first!.time
        // Nine gaps of one packet's time (17.6 ms) each; the first goes at once.
        XCTAssertEqual(span, 9 * 1100 * 8 / 500_000, accuracy: 0.02)
        let gaps = zip(sent.dropFirst(), sent).map { $0.time - $1.time }
        XCTAssertTrue(gaps.allSatisfy { $0 >= PacketPacer.processInterval - 1e-9 }, "\(gaps)")
        XCTAssertNil(pacer.nextSendTime(now: sent.last!.time), "nothing queued: no timer")
    }

    /// At a high rate, packets leave in bursts of about 5 ms of the rate, wake-ups no closer
    /// than 5 ms apart.
    func testBurstsAreOneProcessIntervalOfTheRate() {
        var pacer = PacketPacer(pacingRate: 8_000_000)
        for sequence in 0..<100 { pacer.enqueue(video(UInt16(sequence), size: 1000, at: 0)) }
        let sent = run(&pacer, from: 0)
        let times = Set(sent.map(\.time)).sorted()
        XCTAssertTrue(zip(times.dropFirst(), times).allSatisfy { $0 - $1 >= PacketPacer.processInterval - 1e-9 })
        // 100 kB at 1 MB/s: 0.1 s, in bursts of ~5 kB.
        XCTAssertEqual(sent.last!.time, 0.095, accuracy: 0.006)
        let perBurst = Dictionary(grouping: sent, by: \.time).values.map(\.count)
        XCTAssertLessThanOrEqual(perBurst.max() ?? 0, 6)
    }

    func testAudioThenRetransmissionsThenVideo() {
        var pacer = PacketPacer(pacingRate: 100_000)
        pacer.enqueue(video(1, at: 0))
        pacer.enqueue(video(2, at: 0))
        pacer.enqueue(video(3, size: 200, at: 0, kind: .retransmission))
        pacer.enqueue(video(4, size: 100, at: 0, kind: .audio))
        let sent = run(&pacer, from: 0)
        XCTAssertEqual(sent.compactMap { $0.packet?.sequenceNumber }, [4, 3, 1, 2])
        // Audio is not held back by the budget the video spent.
        var busy = PacketPacer(pacingRate: 100_000)
        busy.enqueue(video(1, at: 0))
        busy.enqueue(video(2, at: 0))
        busy.process(now: 0, send: { packet, _ in packet.size }, pad: { _, _ in 0 })
        busy.enqueue(video(9, size: 100, at: 0.001, kind: .audio))
        XCTAssertEqual(busy.nextSendTime(now: 0.001), 0.001)
        var order: [UInt16] = []
        busy.process(now: 0.001, send: { packet, _ in order.append(packet.sequenceNumber); return packet.size }, pad: { _, _ in 0 })
        XCTAssertEqual(order, [9], "audio at once; the video waits for its budget")
    }

    /// The budget: what a burst spends is paid back before video goes again, and an idle
    /// pacer does not save up a burst.
    func testBudgetIsSpentAndNotSavedUp() {
        var pacer = PacketPacer(pacingRate: 800_000)  // 100 kB/s: 500 bytes per 5 ms
        var sent = 0
        pacer.enqueue(video(1, size: 1000, at: 0))
        pacer.enqueue(video(2, size: 1000, at: 0))
        pacer.process(now: 0, send: { packet, _ in sent += 1; return packet.size }, pad: { _, _ in 0 })
        XCTAssertEqual(sent, 1)
        // 1000 bytes of debt, 500 allowed: 5 ms until the next.
        XCTAssertEqual(pacer.nextSendTime(now: 0) ?? 0, 0.005, accuracy: 1e-9)
        pacer.process(now: 0.005, send: { packet, _ in sent += 1; return packet.size }, pad: { _, _ in 0 })
        XCTAssertEqual(sent, 2)
        // Idle for ten seconds, then 20 packets: still one at a time.
        for sequence in 0..<20 { pacer.enqueue(video(UInt16(sequence), size: 1000, at: 10)) }
        var burst = 0
        pacer.process(now: 10, send: { packet, _ in burst += 1; return packet.size }, pad: { _, _ in 0 })
        XCTAssertEqual(burst, 1)
    }

    /// More queued than 2 s at the pacing rate: the rate rises so it drains within the bound,
    /// and nothing is dropped.
    func testALongQueueDrainsWithinTheBound() {
        var pacer = PacketPacer(pacingRate: 100_000)  // 12.5 kB/s
        // 100 kB: 8 s at the pacing rate.
        for sequence in 0..<100 { pacer.enqueue(video(UInt16(sequence), size: 1000, at: 0)) }
        XCTAssertEqual(pacer.drainRate(now: 0), 100_000 * 8 / 2, accuracy: 1)
        let sent = run(&pacer, from: 0)
        XCTAssertEqual(sent.count, 100)
        XCTAssertLessThanOrEqual(sent.last!.time, PacketPacer.maxQueueTime + 0.01)
        // Under the bound, the pacing rate holds.
        var light = PacketPacer(pacingRate: 100_000)
        for sequence in 0..<10 { light.enqueue(video(UInt16(sequence), size: 1000, at: 0)) }
        XCTAssertEqual(light.drainRate(now: 0), 100_000)
    }

    /// A probe cluster goes out at its own rate (not the pacing rate), from the queue while
    /// it has packets, then as padding, until it has its packets and bytes; its packets are
    /// marked with its id.
    func testProbeClusterAtItsRateWithPadding() {
        var pacer = PacketPacer(pacingRate: 100_000)
        for sequence in 0..<2 { pacer.enqueue(video(UInt16(sequence), size: 1000, at: 0)) }
        pacer.addProbeClusters([ProbeCluster(id: 7, bitrate: 2_000_000, minPackets: 5, minBytes: 6000)])
        let sent = run(&pacer, from: 0, canPad: true)
        let probe = sent.filter { $0.probeCluster == 7 }
        XCTAssertEqual(probe.prefix(2).compactMap(\.packet?.sequenceNumber), [0, 1], "queued media first")
        XCTAssertGreaterThanOrEqual(probe.count, 5)
        let bytes = probe.reduce(0) { $0 + ($1.packet?.size ?? $1.padding) }
        XCTAssertGreaterThanOrEqual(bytes, 6000)
        XCTAssertTrue(probe.dropFirst(2).allSatisfy { $0.packet == nil && $0.padding > 0 })
        // 2 Mbit/s: each packet after the bytes before it take at that rate.
        let lastStart = probe.dropLast().reduce(0) { $0 + ($1.packet?.size ?? $1.padding) }
        XCTAssertEqual(probe.last!.time, Double(lastStart) * 8 / 2_000_000, accuracy: 0.002)
        XCTAssertEqual(pacer.probeClustersSent, 1)
        XCTAssertFalse(pacer.isProbing)
        XCTAssertNil(pacer.nextSendTime(now: probe.last!.time), "no padding rate: done")
    }

    /// Nothing to send and no way to pad: the cluster is given up, not retried forever.
    func testAProbeWithoutPaddingIsAbandoned() {
        var pacer = PacketPacer(pacingRate: 100_000)
        pacer.addProbeClusters([ProbeCluster(id: 1, bitrate: 1_000_000, minPackets: 5, minBytes: 5000)])
        let sent = run(&pacer, from: 0, canPad: false)
        XCTAssertTrue(sent.isEmpty)
        XCTAssertEqual(pacer.probeClustersAbandoned, 1)
        XCTAssertNil(pacer.nextSendTime(now: 0))
    }

    /// A padding rate: padding at about that rate while the queue is empty, once media flowed.
    func testPaddingRateWhenIdle() {
        var pacer = PacketPacer(pacingRate: 1_000_000)
        pacer.setRates(pacing: 1_000_000, padding: 200_000)
        XCTAssertNil(pacer.nextSendTime(now: 0), "no media yet: no padding")
        pacer.enqueue(video(1, size: 500, at: 0))
        let sent = run(&pacer, from: 0, until: 1, canPad: true)
        let padding = sent.reduce(0) { $0 + $1.padding }
        XCTAssertEqual(Double(padding) * 8, 200_000, accuracy: 20_000, "a second of 200 kbit/s")
    }

    func testRetransmissionBudgetIsAShareOfTheTargetOverAWindow() {
        var budget = RetransmissionBudget(targetBitrate: 800_000)  // half: 50 kB/s, 25 kB per 500 ms
        var used = 0
        while budget.use(1000, now: 0) { used += 1000 }
        XCTAssertEqual(used, 25_000)
        XCTAssertFalse(budget.use(1000, now: 0.01), "half a kB refilled in 10 ms")
        XCTAssertTrue(budget.use(1000, now: 0.03))
        XCTAssertTrue(budget.use(25_000, now: 10), "refilled, never beyond the window")
        XCTAssertFalse(budget.use(1000, now: 10))
        budget.setTarget(0, now: 11)
        XCTAssertFalse(budget.use(1, now: 12))
    }
}
