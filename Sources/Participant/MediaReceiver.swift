import Dispatch
import Logging
import Media
import NIOCore
import ORTC
import Recording
import RTP
import Transport

/// The receive side of one edge transport on its event loop: feeds the transport's packets and
/// the clock to a `ReceiveEngine` (which routes each packet to its consumer's `InboundStream`
/// and hands whole frames to the member's recorder), and sends what the engine says: NACKs and
/// key-frame requests from the 20 ms repair step, receiver reports every second. The repair
/// step runs from the receive path while packets arrive (a clock comparison per packet), and
/// from the loop's 100 ms ticker when they stop (one timer per loop for all receivers, not two
/// per receiver: a NIO timer allocates and wakes the loop on every run). What the loop owns is
/// in a loop-bound box, so it cannot be touched from elsewhere by mistake.
public final class MediaReceiver: Sendable {
    /// What was received for one consumer (one remote producer).
    public struct ConsumerTotals: Sendable, Equatable {
        public var track: ConsumedTrack
        public var packets: Int
        public var bytes: Int
        public var retransmissions: Int
        public var lost: Int
        public var senderReports: Int
        public var closed: Bool
        /// Whole frames reassembled (video) or Opus packets in order (audio).
        public var frames: Int
        public var keyFrames: Int
        public var nacksSent: Int
        public var keyFrameRequests: Int
        /// Packets that came twice or after their place was given up.
        public var duplicates: Int
    }

    private final class LoopState {
        let engine: ReceiveEngine
        /// Our place on the loop's ticker (repair fallback every tick, reports every tenth).
        var ticker: EventLoopTicker.Membership?
        var lastLossWarning = -Double.infinity

        init(engine: ReceiveEngine) { self.engine = engine }
    }

    private let transport: WebRtcTransport
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let recorders: (@Sendable (String) -> MemberRecorder?)?
    private let progress: ReceiveProgress?
    private let state: NIOLoopBoundBox<LoopState>

    /// - Parameter recorders: the recorder of a member (by owner id), or nil not to record it.
    public init(transport: WebRtcTransport, cname: String, logger: Logger,
                recorders: (@Sendable (String) -> MemberRecorder?)? = nil, progress: ReceiveProgress? = nil) {
        self.recorders = recorders
        self.progress = progress
        self.transport = transport
        self.eventLoop = transport.eventLoop
        self.logger = logger
        let engine = ReceiveEngine(localSSRC: UInt32.random(in: 1...UInt32.max), cname: cname, monotonicToNTP: Self.monotonicToNTP)
        state = NIOLoopBoundBox.makeBoxSendingValue(LoopState(engine: engine), eventLoop: transport.eventLoop)
    }

    /// Installs the packet handlers and the timers. Call before `transport.connect()`.
    public func start() {
        transport.setHandlers(.init(
            rtp: { [weak self] packet, size in self?.received(packet, size: size) },
            rtcp: { [weak self] packets in self?.received(packets) }))
        eventLoop.execute { [self] in
            let loop = state.value
            guard loop.ticker == nil else { return }
            loop.ticker = EventLoopTicker.join(on: eventLoop) { [weak self] ticks in
                self?.repairIfDue()
                if ticks % Self.ticksPerReport == 0 { self?.sendReports() }
            }
        }
    }

    /// Delivers what is still buffered, then ends this session's tracks in the recorders (a
    /// member's file holds the tracks of one session, never ghosts of an earlier one), and
    /// waits until the recorders have taken it all in.
    public func stop() async {
        let recorders = (try? await eventLoop.submit { [self] () -> [MemberRecorder] in
            let loop = state.value
            if let ticker = loop.ticker { EventLoopTicker.leave(ticker, on: eventLoop) }
            loop.ticker = nil
            return loop.engine.closeAll(now: Self.now())
        }.get()) ?? []
        for recorder in recorders { _ = recorder.status }  // a barrier on the recorder's queue
    }

    /// Starts receiving a consumer's SSRCs; asks for a key frame when it is video (and not
    /// paused: a paused producer sends nothing until it resumes).
    public func add(_ consumer: ConsumerOptions, owner: String, paused: Bool = false) {
        guard let codec = consumer.rtpParameters.codecs.first else { return }
        let recorder = recorders?(owner)
        if let recorder {
            if let format = MediaCodec(mimeType: codec.mimeType) {
                recorder.addTrack(id: consumer.id, kind: consumer.kind, codec: format,
                                  clockRate: codec.clockRate)
                if paused { recorder.setPaused(track: consumer.id, true) }
            } else {
                logger.warning("not recording a codec nacho cannot write", metadata: ["member": "\(owner)", "codec": "\(codec.mimeType)"])
            }
        }
        eventLoop.execute { [self] in
            let engine = state.value.engine
            if !engine.add(consumer, owner: owner, paused: paused, recorder: recorder, now: Self.now()) {
                logger.warning("not receiving a consumer whose id or SSRCs another consumer has",
                               metadata: ["member": "\(owner)", "consumer": "\(consumer.id)"])
                recorder?.removeTrack(id: consumer.id)
            }
            flush(engine)
        }
    }

    /// The server closed a consumer: stop receiving it, free what it held, keep its numbers.
    public func close(consumerId: String) {
        eventLoop.execute { [self] in
            state.value.engine.close(consumerId: consumerId, now: Self.now())
        }
    }

    /// The producer behind a consumer paused or resumed. On resume video asks for a key frame
    /// at once (the picture must restart from one).
    public func setPaused(consumerId: String, _ paused: Bool) {
        eventLoop.execute { [self] in
            let engine = state.value.engine
            engine.setPaused(consumerId: consumerId, paused, now: Self.now())
            flush(engine)
        }
    }

    /// Every live consumer's figures (delay samples drained), and a closed consumer's once more:
    /// the part of an interval before it closed (a server's `consumerClosed`, or `stop`).
    func trackStats() async -> [TrackStats] {
        (try? await eventLoop.submit { [self] in
            let readAt = MediaClock.now
            return state.value.engine.trackStats().map { stats in
                var stats = stats
                stats.sampledAt = readAt
                return stats
            }
        }.get()) ?? []
    }

    public func totals() async -> [ConsumerTotals] {
        (try? await eventLoop.submit { [self] in state.value.engine.totals() }.get()) ?? []
    }

    // MARK: - Event loop

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Wall-clock NTP seconds minus monotonic seconds, taken once: arrival times become NTP
    /// times for end-to-end delays.
    private static let monotonicToNTP = NTPTime.offset(fromClockReading: now())

    private func received(_ packet: RTPPacket, size: Int) {
        let engine = state.value.engine
        engine.receive(packet, size: size, now: Self.now())
        flush(engine)
    }

    private func received(_ packets: [RTCPPacket]) {
        state.value.engine.receive(packets, now: Self.now())
    }

    /// The timer's turn of the repair step, for when no packet arrives to run it.
    private func repairIfDue() {
        let engine = state.value.engine
        engine.repairIfDue(now: Self.now())
        flush(engine)
    }

    /// Sends what the engine has to send.
    private func flush(_ engine: ReceiveEngine) {
        while let compound = engine.nextOutgoing() { transport.sendRTCP(compound) }
    }

    /// Receiver reports every second: every tenth 100 ms tick.
    private static let ticksPerReport = UInt64(TimeAmount.seconds(1).nanoseconds / EventLoopTicker.period.nanoseconds)

    private func sendReports() {
        let loop = state.value
        let now = Self.now()
        let (compound, worst) = loop.engine.receiverReports(now: now)
        progress?.update(loop.engine.progress)
        if let worst, worst.report.fractionLost > 13, now - loop.lastLossWarning > 10 {
            loop.lastLossWarning = now
            logger.warning("packet loss", metadata: ["member": "\(worst.owner)",
                                                     "loss": "\(Int(worst.report.fractionLost) * 100 / 256) %",
                                                     "lost so far": "\(worst.report.cumulativeLost)"])
        }
        if !compound.isEmpty { transport.sendRTCP(compound) }
        for warning in loop.engine.takeWarnings() {
            logger.warning("dropped H264 parameter sets larger than a real one can be", metadata: [
                "member": "\(warning.owner)", "consumer": "\(warning.consumerId)", "count": "\(warning.oversizeParameterSets)",
                "limit": "\(H264Depacketizer.maxParameterSetSize) bytes",
            ])
        }
    }
}

extension MediaReceiver: StatsSource {}
