import ORTC
import RTP

/// The send side's bitrate adaptation, without I/O: feed it the receiver's feedback (REMB,
/// report blocks of RR/SR, transport-wide feedback) and apply the targets it returns to the
/// encoders. REMB caps video at 95 % of the estimate minus what audio uses; loss adapts as
/// GCC's loss controller does: above 10 % cut by half the loss, below 2 % grow 5 %, hold in
/// between. Every input comes from the network, so every conversion clamps.
public struct BitrateController: Sendable, Equatable {
    /// A new target for one stream.
    public struct Change: Sendable, Equatable {
        public var ssrc: UInt32
        public var bitrate: Int

    }

    struct Stream: Sendable, Equatable {
        var ssrc: UInt32
        var kind: MediaKind
        var maxBitrate: Int
        var bitrate: Int
    }

    private var streams: [Stream] = []

    public init() {}

    /// Starts adapting a stream, at its maximum.
    public mutating func add(ssrc: UInt32, kind: MediaKind, maxBitrate: Int) {
        streams.append(Stream(ssrc: ssrc, kind: kind, maxBitrate: maxBitrate, bitrate: maxBitrate))
    }

    /// The current target of a stream.
    public func bitrate(of ssrc: UInt32) -> Int? {
        streams.first { $0.ssrc == ssrc }?.bitrate
    }

    /// REMB: the estimate covers the listed streams; video gets what audio leaves.
    public mutating func remb(bitrate: UInt64, ssrcs: [UInt32]) -> [Change] {
        // In Double: the estimate reaches 2^64, and audio maximums add up past Int.max.
        let audio = streams.filter { $0.kind == .audio }.reduce(0.0) { $0 + Double($1.bitrate) }
        var changes: [Change] = []
        for index in streams.indices where streams[index].kind == .video && ssrcs.contains(streams[index].ssrc) {
            changes += adapt(index, to: Double(bitrate) * 0.95 - audio)
        }
        return changes
    }

    /// Report blocks of a receiver or sender report: fraction lost per stream.
    public mutating func reports(_ reports: [ReceptionReport]) -> [Change] {
        var changes: [Change] = []
        for report in reports {
            guard let index = streams.firstIndex(where: { $0.ssrc == report.ssrc }) else { continue }
            changes += adapt(index, loss: Double(report.fractionLost) / 256)
        }
        return changes
    }

    /// Transport-wide feedback: the share of packets not received applies to every video stream.
    public mutating func transportFeedback(_ feedback: TransportCCFeedback) -> [Change] {
        let loss = feedback.statuses.isEmpty
            ? 0 : Double(feedback.statuses.count - feedback.receivedCount) / Double(feedback.statuses.count)
        var changes: [Change] = []
        for index in streams.indices where streams[index].kind == .video { changes += adapt(index, loss: loss) }
        return changes
    }

    private mutating func adapt(_ index: Int, loss: Double) -> [Change] {
        let bitrate = Double(streams[index].bitrate)
        if loss > 0.10 {
            return adapt(index, to: bitrate * (1 - 0.5 * loss))
        } else if loss < 0.02 {
            return adapt(index, to: bitrate * 1.05)
        }
        return []
    }

    /// Moves a stream to `target` bits per second, clamped to its floor and maximum before it
    /// becomes an `Int` (a target past Int.max, or NaN, would trap the conversion).
    private mutating func adapt(_ index: Int, to target: Double) -> [Change] {
        let floor = streams[index].kind == .video ? 100_000 : 16_000
        let ceiling = max(floor, streams[index].maxBitrate)
        let bitrate: Int
        if !(target > Double(floor)) {  // also NaN
            bitrate = floor
        } else if target >= Double(ceiling) {
            bitrate = ceiling
        } else {
            bitrate = Int(target)
        }
        guard bitrate != streams[index].bitrate else { return [] }
        streams[index].bitrate = bitrate
        return [Change(ssrc: streams[index].ssrc, bitrate: bitrate)]
    }
}
