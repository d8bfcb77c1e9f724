import RTP

/// Remembers the packets sent with a transport-wide sequence number and turns transport-cc
/// feedback into per-packet results (libwebrtc's `TransportFeedbackAdapter`).
///
/// The history is a ring of `capacity` packets indexed by sequence number, so it never grows:
/// feedback about a packet that has left the ring (ancient) or was never sent (unknown) is
/// ignored. A packet is reported at most once as received and counted at most once for loss,
/// so duplicated or reordered feedback neither double-counts nor breaks anything.
struct TransportFeedbackAdapter: Sendable {
    /// 4096 packets: more than 10 s at 2.5 Mbit/s with full-size packets, while feedback
    /// arrives within a few hundred milliseconds; 128 KiB per controller.
    static let capacity = 1 << 12

    /// What a feedback message yielded.
    struct Report: Sendable, Equatable {
        /// Newly acknowledged or newly lost packets, in sequence order.
        var results: [PacketResult] = []
        /// Packets reported for the first time (received or lost) and how many were lost,
        /// for the loss-based bound.
        var newlyReported = 0
        var newlyLost = 0
    }

    /// A sent packet in the ring, stored compactly.
    private struct Entry {
        var sequence: Int64
        var sendTime: Double
        var size: Int32
        /// -1: not a probe.
        var probeCluster: Int32
        var isRetransmission: Bool
        var reportedLost: Bool
        var reportedReceived: Bool

        var packet: SentPacket {
            SentPacket(transportSequence: sequence, sendTime: sendTime, size: Int(size),
                       probeCluster: probeCluster >= 0 ? Int(probeCluster) : nil, isRetransmission: isRetransmission)
        }
    }

    private var ring: [Entry] = []
    private(set) var highestSentSequence: Int64?
    /// The last feedback's reference time: raw 24-bit value and unwrapped seconds.
    private var lastReferenceRaw: UInt32?
    private var lastReferenceSeconds = 0.0

    mutating func sent(_ packet: SentPacket) {
        // Sequence numbers count up from 0; one past 2^62 could overflow the unwrapping arithmetic.
        guard packet.transportSequence >= 0, packet.transportSequence < 1 << 62, packet.sendTime.isFinite else { return }
        let entry = Entry(sequence: packet.transportSequence, sendTime: packet.sendTime,
                          size: Int32(clamping: max(0, packet.size)),
                          probeCluster: packet.probeCluster.map { Int32(clamping: max(0, $0)) } ?? -1,
                          isRetransmission: packet.isRetransmission, reportedLost: false, reportedReceived: false)
        let slot = Int(packet.transportSequence & Int64(Self.capacity - 1))
        if ring.count < Self.capacity {
            // Grows to capacity while the first packets are sent; a slot not yet filled holds a
            // placeholder whose sequence matches no packet.
            while ring.count <= slot {
                ring.append(Entry(sequence: -1, sendTime: 0, size: 0, probeCluster: -1, isRetransmission: false,
                                  reportedLost: false, reportedReceived: false))
            }
        }
        ring[slot] = entry
        highestSentSequence = max(highestSentSequence ?? packet.transportSequence, packet.transportSequence)
    }

    /// The sent packet with this unwrapped sequence number, if the ring still holds it.
    private func slot(of sequence: Int64) -> Int? {
        guard sequence >= 0 else { return nil }
        let slot = Int(sequence & Int64(Self.capacity - 1))
        guard slot < ring.count, ring[slot].sequence == sequence else { return nil }
        return slot
    }

    mutating func process(_ feedback: TransportCCFeedback) -> Report {
        var report = Report()
        guard let highest = highestSentSequence else { return report }
        // The base is the 16-bit sequence at or before the highest sent one that matches it.
        let behind = UInt16(truncatingIfNeeded: highest) &- feedback.baseSequence
        let base = highest - Int64(behind)
        var arrival = unwrapReference(feedback.referenceTime)
        var deltas = feedback.receiveDeltas.makeIterator()
        for (offset, status) in feedback.statuses.enumerated() {
            var arrivalTime: Double?
            if status != .notReceived {
                // A delta missing from a malformed list ends the feedback here.
                guard let delta = deltas.next() else { break }
                arrival += Double(delta) / 1_000_000
                arrivalTime = arrival
            }
            guard let slot = slot(of: base + Int64(offset)) else { continue }
            var entry = ring[slot]
            if entry.reportedReceived { continue }
            if !entry.reportedLost {
                report.newlyReported += 1
                if arrivalTime == nil { report.newlyLost += 1 }
            } else if arrivalTime == nil {
                continue
            }
            if arrivalTime != nil { entry.reportedReceived = true } else { entry.reportedLost = true }
            ring[slot] = entry
            report.results.append(PacketResult(sent: entry.packet, arrivalTime: arrivalTime))
        }
        return report
    }

    /// Seconds on the receiver's clock of a 24-bit reference time (units of 64 ms), unwrapped
    /// against the previous feedback's so a wrap (every 12 days) or reordering keeps it continuous.
    private mutating func unwrapReference(_ referenceTime: Int32) -> Double {
        let raw = UInt32(bitPattern: referenceTime) & 0xFF_FFFF
        if let last = lastReferenceRaw {
            let step = Int32(bitPattern: ((raw &- last) & 0xFF_FFFF) << 8) >> 8
            lastReferenceSeconds += Double(step) * 0.064
        } else {
            lastReferenceSeconds = Double(raw) * 0.064
        }
        lastReferenceRaw = raw
        return lastReferenceSeconds
    }
}
