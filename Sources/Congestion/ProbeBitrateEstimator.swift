/// Turns the feedback about a probe cluster's packets into the rate the link carried
/// (libwebrtc's `ProbeBitrateEstimator`). A cluster counts once at least 80 % of its packets
/// and bytes were acknowledged; its rate is the lower of the send rate and the receive rate
/// (each over its own clock), and when the receiver got clearly less than was sent (below
/// 90 %), the link is saturated and 95 % of the receive rate is taken, so the new estimate
/// does not overuse at once. Intervals longer than 1 s or a receive rate over twice the send
/// rate are not believed.
struct ProbeBitrateEstimator: Sendable {
    static let minReceivedFraction = 0.8
    static let maxValidRatio = 2.0
    static let minRatioForUnsaturatedLink = 0.9
    static let targetUtilization = 0.95
    static let maxInterval = 1.0
    /// Clusters not heard of for this long (sender's clock) are forgotten.
    static let clusterHistory = 1.0
    static let maxClusters = 16

    private struct Cluster {
        var firstSend = Double.infinity
        var lastSend = -Double.infinity
        var firstReceive = Double.infinity
        var lastReceive = -Double.infinity
        var sizeLastSend = 0
        var sizeFirstReceive = 0
        var totalSize = 0
        var packets = 0
        var lastUpdate = 0.0
    }

    private var clusters: [Int: Cluster] = [:]
    /// The last measured rate, until taken.
    private var lastEstimate: Double?

    /// One received packet of `cluster` (whose configuration says how much was meant to be
    /// sent); the cluster's rate once it is complete enough.
    mutating func add(_ result: PacketResult, cluster config: ProbeCluster, now: Double) -> Double? {
        guard let arrival = result.arrivalTime, arrival.isFinite, result.sent.sendTime.isFinite else { return nil }
        clusters = clusters.filter { now - $0.value.lastUpdate <= Self.clusterHistory }
        if clusters[config.id] == nil, clusters.count >= Self.maxClusters { return nil }
        var cluster = clusters[config.id] ?? Cluster()
        let size = min(max(result.sent.size, 0), 1 << 20)
        let sendTime = result.sent.sendTime
        if sendTime < cluster.firstSend { cluster.firstSend = sendTime }
        if sendTime > cluster.lastSend {
            cluster.lastSend = sendTime
            cluster.sizeLastSend = size
        }
        if arrival < cluster.firstReceive {
            cluster.firstReceive = arrival
            cluster.sizeFirstReceive = size
        }
        if arrival > cluster.lastReceive { cluster.lastReceive = arrival }
        cluster.totalSize = min(cluster.totalSize + size, Int(Int32.max))
        cluster.packets += 1
        cluster.lastUpdate = now
        clusters[config.id] = cluster

        guard Double(cluster.packets) >= Self.minReceivedFraction * Double(config.minPackets),
              Double(cluster.totalSize) >= Self.minReceivedFraction * Double(config.minBytes) else { return nil }
        let sendInterval = cluster.lastSend - cluster.firstSend
        let receiveInterval = cluster.lastReceive - cluster.firstReceive
        guard sendInterval > 0, sendInterval <= Self.maxInterval,
              receiveInterval > 0, receiveInterval <= Self.maxInterval else { return nil }
        // The interval ends when the last packet starts to go out (or the first has arrived),
        // so that packet's bytes are not part of it.
        let sendRate = 8 * Double(cluster.totalSize - cluster.sizeLastSend) / sendInterval
        let receiveRate = 8 * Double(cluster.totalSize - cluster.sizeFirstReceive) / receiveInterval
        guard sendRate > 0, receiveRate / sendRate <= Self.maxValidRatio else { return nil }
        var rate = min(sendRate, receiveRate)
        if receiveRate < Self.minRatioForUnsaturatedLink * sendRate {
            rate = Self.targetUtilization * receiveRate
        }
        lastEstimate = rate
        return rate
    }

    /// The rate measured since the last call, if any.
    mutating func takeEstimate() -> Double? {
        defer { lastEstimate = nil }
        return lastEstimate
    }
}
