import MediaFormat
import RTP

/// One outgoing RTP stream as the producer side keeps it (RFC 3550, RFC 4588, RFC 7741,
/// RFC 9628): packetization of encoded frames, sequence numbers, the header extensions
/// mediasoup reads (mid, abs-send-time, transport-wide sequence, audio level), a history of
/// what was sent to answer NACKs with RTX (or a plain resend), and the counters and NTP ↔ RTP
/// mapping of sender reports.
///
/// Packets are written into one reused buffer and handed to `send` one at a time; the history
/// is a ring made once. VP8 and Opus packets cost no allocation here.
/// Not thread-safe: the transport's event loop owns it.
public final class OutboundStream {

    public struct Configuration: Sendable {
        public var ssrc: UInt32
        public var payloadType: UInt8
        public var clockRate: Int
        /// Opus, VP8 or VP9 (nacho has no H264 encoder, so no H264 packetizer).
        public var codec: MediaCodec
        public var rtx: (ssrc: UInt32, payloadType: UInt8)?
        public var mid: String?
        public var midExtensionId: UInt8?
        public var absSendTimeExtensionId: UInt8?
        public var transportSequenceExtensionId: UInt8?
        public var audioLevelExtensionId: UInt8?
        /// abs-capture-time: written into the first packet of each frame.
        public var absCaptureTimeExtensionId: UInt8?
        /// Packets kept for retransmission (must stay below the SRTP replay window, 1024).
        public var historySize: Int
        /// RTP payload budget per packet: stays under a 1200-byte datagram after SRTP.
        public var maxPayloadSize = 1100
        /// VP8: TL0PICIDX and TID in every descriptor (simulcast layers).
        public var vp8LayerFields = false

        public init(ssrc: UInt32, payloadType: UInt8, clockRate: Int, codec: MediaCodec) {
            self.ssrc = ssrc
            self.payloadType = payloadType
            self.clockRate = clockRate
            self.codec = codec
            historySize = codec == .opus ? 64 : 512
        }
    }

    public let configuration: Configuration
    public private(set) var packetsSent: UInt32 = 0
    public private(set) var octetsSent: UInt32 = 0
    public private(set) var retransmissions = 0
    /// NACKed packets not resent because they went out less than a round trip before.
    public private(set) var retransmissionsSuppressed = 0
    private var sequenceNumber: UInt16
    private var rtxSequenceNumber: UInt16
    private var lastTimestamp: UInt32?
    private var lastCaptureTime: Double = 0
    private var vp8: VP8Packetizer
    private var vp9: VP9Packetizer?
    /// The packet being built, reused.
    private var scratch: [UInt8] = []
    /// Sent packets, whole (header included), one slot each, by sequence number.
    private var history: [UInt8]
    private var historyLength: [Int]
    private var historyHeaderLength: [Int]
    private var historySequence: [UInt16]
    /// When each slot's packet last went out (first sent or resent), on the caller's clock.
    private var historySentAt: [Double]
    private let slotSize: Int

    public init(configuration: Configuration) {
        self.configuration = configuration
        sequenceNumber = UInt16.random(in: 0...UInt16.max)
        rtxSequenceNumber = UInt16.random(in: 0...UInt16.max)
        vp8 = VP8Packetizer(layerFields: configuration.vp8LayerFields)
        if configuration.codec == .vp9 { vp9 = VP9Packetizer() }
        slotSize = 12 + 32 + 2 + configuration.maxPayloadSize + 64
        let slots = max(configuration.historySize, 1)
        history = [UInt8](repeating: 0, count: slots * slotSize)
        historyLength = [Int](repeating: 0, count: slots)
        historyHeaderLength = [Int](repeating: 0, count: slots)
        historySequence = [UInt16](repeating: 0, count: slots)
        historySentAt = [Double](repeating: -.infinity, count: slots)
        scratch.reserveCapacity(slotSize)
    }

    /// Packetizes one encoded frame and hands each RTP packet to `send` (the bytes are valid
    /// during the call only).
    /// - Parameter captureNTP: the capture time as NTP (Q32.32), for abs-capture-time; nil
    ///   sends none.
    public func send(frame: [UInt8], timestamp: UInt32, captureTime: Double, captureNTP: UInt64? = nil, isKeyFrame: Bool,
                     audioLevel: Double? = nil, width: Int = 0, height: Int = 0, transportSequence: inout UInt16, now: Double,
                     _ send: (UnsafeRawBufferPointer) -> Void) {
        lastTimestamp = timestamp
        lastCaptureTime = captureTime
        // Receivers map RTP time to capture time from any packet that carries it: once per
        // frame is enough (libwebrtc sends it less often still).
        var capture = configuration.absCaptureTimeExtensionId != nil ? captureNTP : nil
        switch configuration.codec {
        case .opus:
            emit(payload: frame[...], descriptor: nil, timestamp: timestamp, marker: false, audioLevel: audioLevel,
                 captureNTP: capture, transportSequence: &transportSequence, now: now, send)
        case .vp8:
            vp8.forEachPayload(frame, maxPayloadSize: configuration.maxPayloadSize) { descriptor, part, last in
                emit(payload: part, descriptor: descriptor, timestamp: timestamp, marker: last, audioLevel: nil,
                     captureNTP: capture, transportSequence: &transportSequence, now: now, send)
                capture = nil
            }
        case .vp9:
            let payloads = vp9!.packetize(frame, isKeyFrame: isKeyFrame, width: width, height: height,
                                          maxPayloadSize: configuration.maxPayloadSize)
            for (index, payload) in payloads.enumerated() {
                emit(payload: payload[...], descriptor: nil, timestamp: timestamp, marker: index == payloads.count - 1,
                     audioLevel: nil, captureNTP: index == 0 ? capture : nil, transportSequence: &transportSequence, now: now, send)
            }
        case .h264:
            break  // never configured: SendEngine sends only what nacho encodes
        }
    }

    private func emit(payload: ArraySlice<UInt8>, descriptor: VP8Packetizer.Descriptor?, timestamp: UInt32, marker: Bool,
                      audioLevel: Double?, captureNTP: UInt64?, transportSequence: inout UInt16, now: Double,
                      _ send: (UnsafeRawBufferPointer) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        writeHeader(payloadType: configuration.payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
                    ssrc: configuration.ssrc, marker: marker, audioLevel: audioLevel, captureNTP: captureNTP,
                    transportSequence: &transportSequence, now: now)
        let headerLength = scratch.count
        if let descriptor {
            let bytes = descriptor.bytes
            scratch.append(bytes.0)
            scratch.append(bytes.1)
            scratch.append(bytes.2)
            scratch.append(bytes.3)
            if descriptor.count == 6 {
                scratch.append(bytes.4)
                scratch.append(bytes.5)
            }
        }
        scratch.append(contentsOf: payload)
        remember(sequenceNumber, headerLength: headerLength, now: now)
        packetsSent &+= 1
        octetsSent &+= UInt32(truncatingIfNeeded: scratch.count - headerLength)
        sequenceNumber &+= 1
        scratch.withUnsafeBytes(send)
    }

    /// RTP header (RFC 3550 §5.1) and a one-byte-header extension block (RFC 8285) with the
    /// elements configured, written straight into the scratch buffer.
    private func writeHeader(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool,
                             audioLevel: Double?, captureNTP: UInt64?, transportSequence: inout UInt16, now: Double) {
        let mid = configuration.midExtensionId != nil ? configuration.mid?.utf8.prefix(16) : nil
        let capture = configuration.absCaptureTimeExtensionId.flatMap { id in captureNTP.map { (id, $0) } }
        let hasExtensions = (mid?.isEmpty == false) || configuration.absSendTimeExtensionId != nil
            || configuration.transportSequenceExtensionId != nil || (configuration.audioLevelExtensionId != nil && audioLevel != nil)
            || capture != nil
        scratch.append(hasExtensions ? 0x90 : 0x80)
        scratch.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        append16(sequenceNumber)
        append32(timestamp)
        append32(ssrc)
        guard hasExtensions else { return }
        scratch.append(0xBE)
        scratch.append(0xDE)
        let lengthAt = scratch.count
        append16(0)
        let start = scratch.count
        if let id = configuration.midExtensionId, let mid, !mid.isEmpty {
            scratch.append(id << 4 | UInt8(mid.count - 1))
            scratch.append(contentsOf: mid)
        }
        if let id = configuration.absSendTimeExtensionId {
            // 6.18 fixed-point seconds, 24 bits.
            let value = UInt32(truncatingIfNeeded: Int64(now * 262_144)) & 0x00FF_FFFF
            scratch.append(id << 4 | 2)
            scratch.append(UInt8(value >> 16))
            scratch.append(UInt8(truncatingIfNeeded: value >> 8))
            scratch.append(UInt8(truncatingIfNeeded: value))
        }
        if let id = configuration.transportSequenceExtensionId {
            scratch.append(id << 4 | 1)
            append16(transportSequence)
            transportSequence &+= 1
        }
        if let id = configuration.audioLevelExtensionId, let audioLevel {
            // RFC 6464: voice flag, then the level as -dBov (0...127).
            let level = UInt8(max(0, min(127, -audioLevel.rounded())))
            scratch.append(id << 4)
            scratch.append((audioLevel > -50 ? 0x80 : 0) | level)
        }
        if let (id, ntp) = capture {
            scratch.append(id << 4 | 7)
            append32(UInt32(truncatingIfNeeded: ntp >> 32))
            append32(UInt32(truncatingIfNeeded: ntp))
        }
        while (scratch.count - start) % 4 != 0 { scratch.append(0) }
        let words = UInt16((scratch.count - start) / 4)
        scratch[lengthAt] = UInt8(words >> 8)
        scratch[lengthAt + 1] = UInt8(truncatingIfNeeded: words)
    }

    @inline(__always) private func append16(_ value: UInt16) {
        scratch.append(UInt8(value >> 8))
        scratch.append(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always) private func append32(_ value: UInt32) {
        scratch.append(UInt8(value >> 24))
        scratch.append(UInt8(truncatingIfNeeded: value >> 16))
        scratch.append(UInt8(truncatingIfNeeded: value >> 8))
        scratch.append(UInt8(truncatingIfNeeded: value))
    }

    private func remember(_ sequence: UInt16, headerLength: Int, now: Double) {
        guard configuration.historySize > 0, scratch.count <= slotSize else { return }
        let slot = Int(sequence) % historyLength.count
        let offset = slot * slotSize
        history.withUnsafeMutableBufferPointer { ring in
            scratch.withUnsafeBufferPointer { packet in
                (ring.baseAddress! + offset).update(from: packet.baseAddress!, count: packet.count)
            }
        }
        historyLength[slot] = scratch.count
        historyHeaderLength[slot] = headerLength
        historySequence[slot] = sequence
        historySentAt[slot] = now
    }

    /// Answers a NACK: the packets still in the history, as RTX when negotiated (original
    /// sequence number first in the payload) or as they were; each to `send`.
    ///
    /// A packet that went out (first or again) less than `minInterval` ago (a round trip) is
    /// not resent: it may still be on its way, and a receiver that NACKs it again and again,
    /// or a NACK storm, must not multiply what the link carries (libwebrtc's packet history
    /// does the same).
    public func retransmit(_ lost: [UInt16], transportSequence: inout UInt16, now: Double, minInterval: Double = 0,
                           _ send: (UnsafeRawBufferPointer) -> Void) {
        for sequence in lost {
            let slot = Int(sequence) % historyLength.count
            guard historyLength[slot] > 0, historySequence[slot] == sequence else { continue }
            guard minInterval <= 0 || !(now - historySentAt[slot] < minInterval) else {
                retransmissionsSuppressed += 1
                continue
            }
            historySentAt[slot] = now
            retransmissions += 1
            let offset = slot * slotSize
            let length = historyLength[slot]
            guard let rtx = configuration.rtx else {
                history.withUnsafeBytes { ring in send(UnsafeRawBufferPointer(rebasing: ring[offset..<(offset + length)])) }
                continue
            }
            let headerLength = historyHeaderLength[slot]
            let marker = history[offset + 1] & 0x80 != 0
            let timestamp = UInt32(history[offset + 4]) << 24 | UInt32(history[offset + 5]) << 16
                | UInt32(history[offset + 6]) << 8 | UInt32(history[offset + 7])
            scratch.removeAll(keepingCapacity: true)
            writeHeader(payloadType: rtx.payloadType, sequenceNumber: rtxSequenceNumber, timestamp: timestamp, ssrc: rtx.ssrc,
                        marker: marker, audioLevel: nil, captureNTP: nil, transportSequence: &transportSequence, now: now)
            append16(sequence)
            scratch.append(contentsOf: history[(offset + headerLength)..<(offset + length)])
            rtxSequenceNumber &+= 1
            scratch.withUnsafeBytes(send)
        }
    }

    /// A sender report: the RTP time that corresponds to `ntp`, extrapolated from the last
    /// frame's capture time, so receivers can line audio up with video.
    public func senderReport(now: Double, ntp: UInt64) -> SenderReport? {
        guard let lastTimestamp else { return nil }
        let elapsed = min(max(0, now - lastCaptureTime), 3600)
        let rtpNow = lastTimestamp &+ UInt32(truncatingIfNeeded: Int64(elapsed * Double(configuration.clockRate)))
        return SenderReport(ssrc: configuration.ssrc, ntpTimestamp: ntp, rtpTimestamp: rtpNow,
                            packetCount: packetsSent, octetCount: octetsSent)
    }
}

/// NTP time (RFC 5905): seconds since 1900 in the high 32 bits.
public enum NTPTime {
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let seconds = UInt64(ts.tv_sec) + 2_208_988_800
        let fraction = (UInt64(ts.tv_nsec) << 32) / 1_000_000_000
        return seconds << 32 | fraction
    }

    /// Q32.32 as seconds since 1900.
    public static func seconds(_ ntp: UInt64) -> Double {
        Double(ntp >> 32) + Double(ntp & 0xFFFF_FFFF) / 4_294_967_296
    }

    /// Seconds since 1900 as Q32.32; nil for what is not a time NTP can hold (before 1900,
    /// past 2036's wrap, not finite), so no made-up time goes on the wire.
    public static func fixedPoint(seconds: Double) -> UInt64? {
        guard seconds.isFinite, seconds >= 0, seconds < 4_294_967_296 else { return nil }
        let whole = seconds.rounded(.down)
        return UInt64(whole) << 32 | UInt64((seconds - whole) * 4_294_967_296) & 0xFFFF_FFFF
    }

    /// Wall-clock NTP seconds minus a monotonic clock's reading taken now: added to a time on
    /// that clock, gives its NTP time (capture times for abs-capture-time, arrival times for
    /// end-to-end delay).
    public static func offset(fromClockReading clockNow: Double) -> Double {
        seconds(now()) - clockNow
    }
}

#if canImport(Glibc)
import Glibc
#endif
