import MediaFormat
import RTP

/// One received RTP stream (a consumer's media SSRC and its RTX SSRC): reception statistics,
/// a jitter buffer whose packet bytes live in a ring made once, the depacketizer of its codec,
/// and its repair policy (which gaps to NACK, when to ask for a key frame). Sans-IO: packets
/// and the time go in, whole frames and feedback come out; sockets, timers and threads belong
/// to the owner. Receiving allocates nothing per packet: a frame handed out is the only copy.
///
/// Packet bytes wait in blocks of one slab, taken from a free list and given back once the
/// depacketizer has read them. In order, a packet is read as soon as it is stored, so a
/// stream holds a block or two; only packets held behind a gap need more, and the slab grows
/// to what the worst gap held (at most the jitter buffer's span) and is kept. A slab sized
/// for the whole span up front cost 384 kB per video stream: 0.3 to 0.5 MB per received
/// track in a bot room, 2 GB for 128 bots.
public final class InboundStream {
    public struct Configuration: Sendable {
        public var ssrc: UInt32
        public var payloadType: UInt8
        public var clockRate: Int
        /// nil for a codec nacho does not know: counted and reported, not reassembled.
        public var codec: MediaCodec?
        /// RFC 4588: the retransmission stream's SSRC and payload type.
        public var rtx: (ssrc: UInt32, payloadType: UInt8)?
        /// The codec lists `nack`: gaps are NACKed.
        public var nack: Bool
        /// Seconds a gap waits for a retransmission (video 300 ms; audio plays on after 80).
        public var maxWait: Double
        /// Packets the ring holds (sequence numbers spanned).
        public var capacity: Int
        /// abs-capture-time's element id: end-to-end delay is measured from the capture time
        /// it carries; without it there is no delay figure.
        public var absCaptureTimeExtensionId: UInt8?

        public init(ssrc: UInt32, payloadType: UInt8, clockRate: Int, codec: MediaCodec?, rtx: (ssrc: UInt32, payloadType: UInt8)? = nil,
                    nack: Bool = true) {
            self.ssrc = ssrc
            self.payloadType = payloadType
            self.clockRate = clockRate
            self.codec = codec
            self.rtx = rtx
            self.nack = nack
            maxWait = codec?.isVideo == true ? 0.3 : 0.08
            // Video: ~2.5 s at 100 packets/s, far beyond the NACK window; audio: 0.6 s.
            capacity = codec?.isVideo == true ? 256 : 32
        }
    }

    /// A whole frame: a VP8, VP9 or H264 (AVC form) frame, or one Opus packet.
    public struct Frame: Sendable {
        public var data: [UInt8]
        public var rtpTimestamp: UInt32
        public var isKeyFrame: Bool
        /// Key frames: the picture size.
        public var width: Int?
        public var height: Int?
        /// H264 key frames: the avcC record (ISO 14496-15) a Matroska track needs.
        public var codecPrivate: [UInt8]?
        /// H264 key frames: the parameter sets changed (a recorder starts a new file).
        public var parametersChanged = false
        /// Packets before this frame were given up: its RTP time may start over (the only
        /// place it may go backwards, see `receive`).
        public var followsGap = false
    }

    /// What the repair policy wants sent now.
    public struct Feedback: Sendable, Equatable {
        public var nack: [UInt16] = []
        public var keyFrameRequest = false
    }

    public struct Counters: Sendable, Equatable {
        public var retransmissions = 0
        public var frames = 0
        public var keyFrames = 0
        public var nacksSent = 0
        public var keyFrameRequests = 0
        /// Video: gaps between frames longer than max(3 × the average interval, average +
        /// 150 ms), and their total length in seconds.
        public var freezes = 0
        public var freezeSeconds = 0.0
        /// Packets dropped before the jitter buffer: too large for a slot, RTX without its
        /// original sequence number.
        public var discarded = 0
        /// Whole frames dropped because their RTP time was before the last frame handed out.
        public var framesOutOfOrder = 0
    }

    /// Where a stored packet's payload is, and what the depacketizer needs of its header.
    private struct Stored: Sendable {
        var timestamp: UInt32
        var marker: Bool
        /// Narrow fields: a ring slot is 16 bytes, not 32 (the ring is made whole per stream).
        var length: UInt16
        /// Its block in `payloads`.
        var block: UInt32
    }

    /// Bytes one block holds: a whole UDP payload fits (RTP over UDP stays under the MTU).
    public static let slotSize = 1500

    public let configuration: Configuration
    public private(set) var statistics: ReceptionStatistics
    public private(set) var counters = Counters()
    /// The producer paused: nothing is expected, nothing is asked for.
    public var paused = false
    private var jitter: JitterBuffer<Stored>
    /// The slab: `slotSize` bytes per block, grown a block at a time.
    private var payloads: [UInt8] = []
    private var freeBlocks: [Int] = []
    /// Blocks the slab may hold: the buffer's span, plus what a jump past it hands out.
    private let maxBlocks: Int
    /// Video: the frame assembler of the codec; nil for audio and unknown codecs.
    private var video: (any StreamFrameAssembler)?
    private var lastKeyFrameRequest = -Double.infinity
    /// The capture clock, from the last abs-capture-time received: NTP seconds (since 1900) of
    /// capture ↔ RTP time. Not from sender reports: an SFU writes its own (mediasoup does,
    /// from its own clock), which would time the SFU, not the capture.
    private var captureClock: (ntp: Double, rtp: UInt32)?
    /// Freezes as browsers count them, from whole frames' arrival times.
    private var freezeDetector = FreezeDetector()
    /// The RTP time of the last frame handed out, and whether packets were given up since.
    private var lastDelivered: UInt32?
    private var gapSinceDelivery = false
    /// End-to-end delays (seconds) of the frames since `takeDelays`, when the sender's clock
    /// is known; kept small (the owner drains it about once a second).
    private var delays: [Double] = []
    /// Arrival times are monotonic; sender reports carry wall-clock NTP time: this converts.
    public var monotonicToNTP: Double?
    /// Whether frames are wanted (a recorder); without one, audio packets are only counted.
    public var deliversAudio: Bool

    public init(configuration: Configuration, deliversAudio: Bool = true) {
        self.configuration = configuration
        self.deliversAudio = deliversAudio
        statistics = ReceptionStatistics(ssrc: configuration.ssrc, clockRate: configuration.clockRate)
        jitter = JitterBuffer(maxWait: configuration.maxWait, capacity: configuration.capacity)
        maxBlocks = 2 * jitter.capacity + 1
        // The free list grows with the slab (a block at a time), not to maxBlocks up front.
        switch configuration.codec {
        case .vp8: video = FrameAssembler(VP8Depacketizer())
        case .vp9: video = FrameAssembler(VP9Depacketizer())
        case .h264: video = FrameAssembler(H264Depacketizer())
        case .opus, nil: video = nil
        }
    }

    public var isVideo: Bool { configuration.codec?.isVideo == true }

    /// Blocks in the slab (each `slotSize` bytes): how much packet memory the stream holds.
    public var payloadBlocks: Int { payloads.count / Self.slotSize }

    /// Packets that came twice or after their place was given up.
    public var duplicates: Int { jitter.duplicates + jitter.late }

    /// The video cannot be decoded until a key frame comes.
    public var waitingForKeyFrame: Bool { video?.waitingForKeyFrame ?? false }

    /// H264: parameter sets refused for their size (`H264Depacketizer.maxParameterSetSize`),
    /// for the owner to report; 0 for other codecs.
    public var oversizeParameterSets: Int {
        (video as? FrameAssembler<H264Depacketizer>)?.depacketizer.oversizeParameterSets ?? 0
    }

    /// One RTP packet of this stream's SSRC (media or RTX). `packet`'s payload is only read
    /// during the call; complete frames go to `onFrame` in order: in sequence order, and in
    /// RTP time order too. A frame older than the last one handed out (a confused or hostile
    /// sender) is dropped, as libwebrtc's frame buffer drops frames older than the last
    /// decoded: recorders and players need time to move forward. After a gap given up, the
    /// next frame may start over (a sender that restarted).
    public func receive(_ packet: RTPPacket, size: Int, arrival: Double, onFrame: (Frame) -> Void) {
        if packet.ssrc == configuration.ssrc {
            if let id = configuration.absCaptureTimeExtensionId, let element = packet.extensionElement(id),
               let capture = try? AbsoluteCaptureTime(parsing: element) {
                captureClock = (capture.captureSeconds, packet.timestamp)
            }
            statistics.packetReceived(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, size: size,
                                      arrival: arrival)
            store(packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker,
                  arrival: arrival)
        } else if let rtx = configuration.rtx, packet.ssrc == rtx.ssrc, packet.payloadType == rtx.payloadType {
            // RFC 4588 §4: the original sequence number leads the payload.
            guard packet.payload.count >= 2 else {
                counters.discarded += 1
                return
            }
            let start = packet.payload.startIndex
            let original = UInt16(packet.payload[start]) << 8 | UInt16(packet.payload[start + 1])
            counters.retransmissions += 1
            store(packet.payload.dropFirst(2), sequenceNumber: original, timestamp: packet.timestamp, marker: packet.marker,
                  arrival: arrival)
        } else {
            counters.discarded += 1
            return
        }
        drain(now: arrival, onFrame: onFrame)
    }

    private func store(_ payload: ArraySlice<UInt8>, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool, arrival: Double) {
        guard payload.count <= Self.slotSize else {
            counters.discarded += 1
            return
        }
        let block: Int
        if let free = freeBlocks.popLast() {
            block = free
        } else {
            let blocks = payloads.count / Self.slotSize
            guard blocks < maxBlocks else {
                counters.discarded += 1  // cannot happen while every block comes back
                return
            }
            // Growth reallocates: only when more packets than ever before wait behind a gap.
            payloads.append(contentsOf: repeatElement(0, count: Self.slotSize))
            block = blocks
        }
        guard jitter.insert(Stored(timestamp: timestamp, marker: marker, length: UInt16(payload.count), block: UInt32(block)),
                            sequenceNumber: sequenceNumber, arrival: arrival) != nil else {
            freeBlocks.append(block)
            return
        }
        let offset = block * Self.slotSize
        payloads.withUnsafeMutableBufferPointer { ring in
            payload.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress, let target = ring.baseAddress else { return }
                (target + offset).update(from: base, count: source.count)
            }
        }
    }

    /// Hands the packets that are ready, in order, to the depacketizer.
    private func drain(now: Double, onFrame: (Frame) -> Void) {
        jitter.pop(now: now) { output in
            if output.discontinuity { gapSinceDelivery = true }
            let start = Int(output.element.block) * Self.slotSize
            let payload = payloads[start..<(start + Int(output.element.length))]
            depacketize(payload, timestamp: output.element.timestamp, marker: output.element.marker,
                        discontinuity: output.discontinuity, arrival: now, onFrame: onFrame)
            freeBlocks.append(Int(output.element.block))
        }
    }

    private func depacketize(_ payload: ArraySlice<UInt8>, timestamp: UInt32, marker: Bool, discontinuity: Bool, arrival: Double,
                             onFrame: (Frame) -> Void) {
        if video != nil {
            if let frame = video?.addPacket(payload, timestamp: timestamp, marker: marker, discontinuity: discontinuity) {
                deliver(frame, arrival: arrival, onFrame: onFrame)
            }
        } else if configuration.codec == .opus {
            guard let followsGap = admit(timestamp) else { return }
            counters.frames += 1
            frameArrived(rtpTimestamp: timestamp, arrival: arrival)
            guard deliversAudio, !payload.isEmpty else { return }
            var frame = Frame(data: Array(payload), rtpTimestamp: timestamp, isKeyFrame: true)
            frame.followsGap = followsGap
            onFrame(frame)
        } else {
            counters.frames += 1  // a codec nacho does not know: counted, not reassembled
        }
    }

    /// A whole video frame, if it is not older than the last one (see `receive`).
    private func deliver(_ frame: Frame, arrival: Double, onFrame: (Frame) -> Void) {
        guard let followsGap = admit(frame.rtpTimestamp) else { return }
        var frame = frame
        frame.followsGap = followsGap
        counters.frames += 1
        frameArrived(rtpTimestamp: frame.rtpTimestamp, arrival: arrival)
        if frame.isKeyFrame { counters.keyFrames += 1 }
        onFrame(frame)
    }

    /// Whether a whole frame at this RTP time goes out (see `receive`): nil drops it, else
    /// whether it follows a gap given up.
    private func admit(_ timestamp: UInt32) -> Bool? {
        let followsGap = gapSinceDelivery
        if let last = lastDelivered, !followsGap, Int32(bitPattern: timestamp &- last) < 0 {
            counters.framesOutOfOrder += 1
            return nil
        }
        lastDelivered = timestamp
        gapSinceDelivery = false
        return followsGap
    }

    /// Per whole frame: freeze detection (video) and the end-to-end delay sample.
    private func frameArrived(rtpTimestamp: UInt32, arrival: Double) {
        guard arrival.isFinite else { return }  // what is flushed at the end did not arrive then
        if isVideo {
            freezeDetector.frame(at: arrival)
            counters.freezes = freezeDetector.freezes
            counters.freezeSeconds = freezeDetector.frozenSeconds
        }
        if let clock = captureClock, let offset = monotonicToNTP, delays.count < 4096 {
            let capture = clock.ntp + Double(Int32(bitPattern: rtpTimestamp &- clock.rtp)) / Double(configuration.clockRate)
            delays.append(arrival + offset - capture)
        }
    }

    /// The end-to-end delays (seconds) measured since the last call.
    public func takeDelays() -> [Double] {
        defer { delays.removeAll(keepingCapacity: true) }
        return delays
    }

    /// Periodic work (every ~20 ms): gives up gaps older than the wait, and says what to NACK
    /// and whether to ask for a key frame (at the start, after a gap retransmission did not
    /// fill, or when the gap was too wide to NACK; at most once a second unless the buffer gave
    /// up, never while paused).
    public func tick(now: Double, onFrame: (Frame) -> Void) -> Feedback {
        drain(now: now, onFrame: onFrame)
        var feedback = Feedback()
        if configuration.nack {
            feedback.nack = jitter.nackList(now: now)
            if !feedback.nack.isEmpty { counters.nacksSent += 1 }
        }
        let overflowed = jitter.takeKeyFrameRequest()
        if isVideo, !paused, overflowed || (waitingForKeyFrame && now - lastKeyFrameRequest > 1) {
            feedback.keyFrameRequest = true
            noteKeyFrameRequest(now: now)
        }
        return feedback
    }

    /// A key-frame request went out for this stream (at start, on resume).
    public func noteKeyFrameRequest(now: Double) {
        lastKeyFrameRequest = now
        counters.keyFrameRequests += 1
    }

    /// Delivers what is still buffered, gaps and all (the stream ends).
    public func finish(onFrame: (Frame) -> Void) {
        drain(now: .infinity, onFrame: onFrame)
        // Arrival infinity: what is flushed at the end did not arrive then (no freeze, no delay).
        if let frame = video?.flushFrame() { deliver(frame, arrival: .infinity, onFrame: onFrame) }
    }

    public func senderReport(_ report: SenderReport, arrival: Double) {
        statistics.senderReportReceived(ntpTimestamp: report.ntpTimestamp, arrival: arrival)
    }

    /// The report block for this stream, or nil before its first packet.
    public func makeReport(now: Double) -> ReceptionReport? {
        guard statistics.packetsReceived > 0 else { return nil }
        return statistics.makeReport(now: now)
    }
}
