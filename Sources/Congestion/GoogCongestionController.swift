import RTP

/// API SKELETON (branch congestion-api): the implementation is being written. Every method's
/// contract is final; bodies are placeholders.
///
/// Google congestion control on the send side, sans-IO (no clock, no timers, no sockets): the
/// send path reports every packet it sends and every feedback it receives, with the time; the
/// controller answers with a new target when it changes and with probe clusters to send.
public struct GoogCongestionController: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Bits per second before any feedback.
        public var startBitrate: Int
        public var minBitrate: Int
        /// The sum of what the producers can use; the estimate never asks for more.
        public var maxBitrate: Int

        public init(startBitrate: Int = 300_000, minBitrate: Int = 30_000, maxBitrate: Int = 2_500_000) {
            self.startBitrate = startBitrate
            self.minBitrate = minBitrate
            self.maxBitrate = maxBitrate
        }
    }

    public private(set) var configuration: Configuration
    /// The current target (starts at the configuration's start bitrate).
    public private(set) var target: CongestionTarget

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        target = CongestionTarget(targetBitrate: configuration.startBitrate, pacingRate: configuration.startBitrate * 5 / 2)
    }

    /// The producers changed: a new ceiling (a limit lifting is a reason to probe).
    public mutating func setMaxBitrate(_ bitrate: Int, now: Double) {
        configuration.maxBitrate = bitrate
    }

    /// Every packet that carries a transport-wide sequence number, as it goes on the wire.
    public mutating func sent(_ packet: SentPacket) {}

    /// Transport-wide feedback (the SFU's view of our packets); a new target if it changed.
    public mutating func transportFeedback(_ feedback: TransportCCFeedback, now: Double) -> CongestionTarget? { nil }

    /// A receiver report's block about one of our streams: its loss and the round trip it gave.
    public mutating func receiverReport(fractionLost: UInt8, roundTrip: Double?, now: Double) -> CongestionTarget? { nil }

    /// REMB: the receiver's estimate caps the target.
    public mutating func remb(bitrate: UInt64, now: Double) -> CongestionTarget? { nil }

    /// Periodic work (call every 25 ms or so): timeouts, probing decisions. A new target if it changed.
    public mutating func process(now: Double) -> CongestionTarget? { nil }

    /// Probe clusters the pacer must send now (each once).
    public mutating func takeProbeClusters(now: Double) -> [ProbeCluster] { [] }
}
