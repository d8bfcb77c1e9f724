import MediaFormat
import RTP

/// One outgoing RTP stream as the producer side keeps it (RFC 3550, RFC 4588, RFC 7741,
/// RFC 9628): packetization of encoded frames, sequence numbers, the header extensions
/// mediasoup reads (mid, abs-send-time, transport-wide sequence, audio level), a history of
/// the packets to send and sent (to pace them, and to answer NACKs with RTX or a plain
/// resend), and the counters and NTP ↔ RTP mapping of sender reports.
///
/// Sending is in two steps, so a pacer can sit between them: `packetize` writes a frame's
/// packets into the history (nothing goes out), `emit` sends one of them later with its
/// transport-wide sequence number and abs-send-time written at that moment (libwebrtc assigns
/// both at send time, in the pacer). A packet the history overwrites before it was sent is
/// lost and counted (`packetsEvicted`). The history is a ring made once: VP8 and Opus cost no
/// allocation here. Not thread-safe: the transport's event loop owns it.
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
        /// Packets kept for pacing and retransmission (must stay below the SRTP replay window, 1024).
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

    /// What a slot of the history holds.
    private enum SlotState: UInt8 {
        case empty, queued, sent
    }

    public let configuration: Configuration
    public private(set) var packetsSent: UInt32 = 0
    public private(set) var octetsSent: UInt32 = 0
    public private(set) var retransmissions = 0
    /// NACKed packets not resent because they went out less than a round trip before.
    public private(set) var retransmissionsSuppressed = 0
    /// Packets the history overwrote before they were sent (a pacer queue longer than it).
    public private(set) var packetsEvicted = 0
    /// Padding sent to probe the link: RTX copies of sent packets and padding-only packets.
    public private(set) var paddingPackets = 0
    public private(set) var paddingBytes = 0
    private var sequenceNumber: UInt16
    private var rtxSequenceNumber: UInt16
    private var lastTimestamp: UInt32?
    private var lastCaptureTime: Double = 0
    private var vp8: VP8Packetizer
    private var vp9: VP9Packetizer?
    /// The packet being built, reused.
    private var scratch: [UInt8] = []
    /// Where the abs-send-time and transport-wide sequence values sit in every packet this
    /// stream writes (their elements come first after mid, so the place never changes).
    private var absSendTimeOffset: Int?
    private var transportSequenceOffset: Int?
    /// Packets, whole (header included), one slot each, by sequence number.
    private var history: [UInt8]
    private var historyLength: [Int]
    private var historyHeaderLength: [Int]
    private var historySequence: [UInt16]
    private var historyState: [SlotState]
    /// When each slot's packet last went out (first sent, or resent or queued to be), on the
    /// caller's clock.
    private var historySentAt: [Double]
    /// The slot of the packet sent last (padding copies it).
    private var lastSentSlot: Int?
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
        historyState = [SlotState](repeating: .empty, count: slots)
        historySentAt = [Double](repeating: -.infinity, count: slots)
        scratch.reserveCapacity(slotSize)
    }

    /// Packetizes one encoded frame and sends each RTP packet to `send` at once (the bytes
    /// are valid during the call only): `packetize` and `emit` in one.
    /// - Parameter captureNTP: the capture time as NTP (Q32.32), for abs-capture-time; nil
    ///   sends none.
    public func send(frame: [UInt8], timestamp: UInt32, captureTime: Double, captureNTP: UInt64? = nil, isKeyFrame: Bool,
                     audioLevel: Double? = nil, width: Int = 0, height: Int = 0, transportSequence: inout UInt16, now: Double,
                     _ send: (UnsafeRawBufferPointer) -> Void) {
        packetize(frame: frame, timestamp: timestamp, captureTime: captureTime, captureNTP: captureNTP, isKeyFrame: isKeyFrame,
                  audioLevel: audioLevel, width: width, height: height, now: now) { sequence, _ in
            _ = emit(sequenceNumber: sequence, transportSequence: &transportSequence, now: now, send)
        }
    }

    /// Packetizes one encoded frame into the history without sending it; `stored` gets each
    /// packet's sequence number and size, in order, to queue them for `emit`.
    public func packetize(frame: [UInt8], timestamp: UInt32, captureTime: Double, captureNTP: UInt64? = nil, isKeyFrame: Bool,
                          audioLevel: Double? = nil, width: Int = 0, height: Int = 0, now: Double,
                          _ stored: (_ sequenceNumber: UInt16, _ size: Int) -> Void) {
        lastTimestamp = timestamp
        lastCaptureTime = captureTime
        // Receivers map RTP time to capture time from any packet that carries it: once per
        // frame is enough (libwebrtc sends it less often still).
        var capture = configuration.absCaptureTimeExtensionId != nil ? captureNTP : nil
        switch configuration.codec {
        case .opus:
            store(payload: frame[...], descriptor: nil, timestamp: timestamp, marker: false, audioLevel: audioLevel,
                  captureNTP: capture, stored)
        case .vp8:
            vp8.forEachPayload(frame, maxPayloadSize: configuration.maxPayloadSize) { descriptor, part, last in
                store(payload: part, descriptor: descriptor, timestamp: timestamp, marker: last, audioLevel: nil,
                      captureNTP: capture, stored)
                capture = nil
            }
        case .vp9:
            guard vp9 != nil else { return }
            let payloads = vp9!.packetize(frame, isKeyFrame: isKeyFrame, width: width, height: height,
                                         maxPayloadSize: configuration.maxPayloadSize)
            for (index, payload) in payloads.enumerated() {
                store(payload: payload[...], descriptor: nil, timestamp: timestamp, marker: index == payloads.count - 1,
                      audioLevel: nil, captureNTP: index == 0 ? capture : nil, stored)
            }
        case .h264:
            break  // never configured: SendEngine sends only what nacho encodes
        }
    }

    private func store(payload: ArraySlice<UInt8>, descriptor: VP8Packetizer.Descriptor?, timestamp: UInt32, marker: Bool,
                       audioLevel: Double?, captureNTP: UInt64?, _ stored: (UInt16, Int) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        writeHeader(payloadType: configuration.payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
                    ssrc: configuration.ssrc, marker: marker, audioLevel: audioLevel, captureNTP: captureNTP)
        let headerLength = scratch.count
        descriptor?.append(to: &scratch)
        scratch.append(contentsOf: payload)
        let sequence = sequenceNumber
        sequenceNumber &+= 1
        guard remember(sequence, headerLength: headerLength) else { return }
        stored(sequence, scratch.count)
    }

    /// Sends a packet `packetize` stored, with the transport-wide sequence number (then
    /// incremented) and abs-send-time of now; its size, or nil when the history no longer
    /// holds it or it was sent already.
    @discardableResult
    public func emit(sequenceNumber sequence: UInt16, transportSequence: inout UInt16, now: Double,
                     _ send: (UnsafeRawBufferPointer) -> Void) -> Int? {
        let slot = Int(sequence) % historyLength.count
        guard historyState[slot] == .queued, historySequence[slot] == sequence else { return nil }
        historyState[slot] = .sent
        historySentAt[slot] = now
        lastSentSlot = slot
        let offset = slot * slotSize
        let length = historyLength[slot]
        stampSendTime(at: offset, transportSequence: &transportSequence, now: now)
        packetsSent &+= 1
        octetsSent &+= UInt32(truncatingIfNeeded: length - historyHeaderLength[slot])
        history.withUnsafeBytes { ring in send(UnsafeRawBufferPointer(rebasing: ring[offset..<(offset + length)])) }
        return length
    }

    /// Writes the send-time elements of the packet at `offset` in the history.
    private func stampSendTime(at offset: Int, transportSequence: inout UInt16, now: Double) {
        if let at = absSendTimeOffset {
            let value = Self.absSendTime(now)
            history[offset + at] = UInt8(value >> 16)
            history[offset + at + 1] = UInt8(truncatingIfNeeded: value >> 8)
            history[offset + at + 2] = UInt8(truncatingIfNeeded: value)
        }
        if let at = transportSequenceOffset {
            history[offset + at] = UInt8(transportSequence >> 8)
            history[offset + at + 1] = UInt8(truncatingIfNeeded: transportSequence)
            transportSequence &+= 1
        }
    }

    /// abs-send-time: 6.18 fixed-point seconds, 24 bits (the clock is the caller's; receivers
    /// use differences only).
    private static func absSendTime(_ now: Double) -> UInt32 {
        let scaled = now * 262_144
        guard scaled.isFinite, abs(scaled) < 9e18 else { return 0 }
        return UInt32(truncatingIfNeeded: Int64(scaled)) & 0x00FF_FFFF
    }

    /// RTP header (RFC 3550 §5.1) and a one-byte-header extension block (RFC 8285) with the
    /// elements configured, written straight into the scratch buffer. abs-send-time and the
    /// transport-wide sequence are left zero: `emit` writes them at send time.
    private func writeHeader(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, marker: Bool,
                             padding: Bool = false, audioLevel: Double?, captureNTP: UInt64?) {
        let mid = configuration.midExtensionId != nil ? configuration.mid?.utf8.prefix(16) : nil
        let capture = configuration.absCaptureTimeExtensionId.flatMap { id in captureNTP.map { (id, $0) } }
        let hasExtensions = (mid?.isEmpty == false) || configuration.absSendTimeExtensionId != nil
            || configuration.transportSequenceExtensionId != nil || (configuration.audioLevelExtensionId != nil && audioLevel != nil)
            || capture != nil
        scratch.append((hasExtensions ? 0x90 : 0x80) | (padding ? 0x20 : 0))
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
            scratch.append(id << 4 | 2)
            absSendTimeOffset = scratch.count
            append16(0)
            scratch.append(0)
        }
        if let id = configuration.transportSequenceExtensionId {
            scratch.append(id << 4 | 1)
            transportSequenceOffset = scratch.count
            append16(0)
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

    /// The scratch packet's send-time elements (RTX and padding are built there and sent at once).
    private func stampScratch(transportSequence: inout UInt16, now: Double) {
        if let at = absSendTimeOffset {
            let value = Self.absSendTime(now)
            scratch[at] = UInt8(value >> 16)
            scratch[at + 1] = UInt8(truncatingIfNeeded: value >> 8)
            scratch[at + 2] = UInt8(truncatingIfNeeded: value)
        }
        if let at = transportSequenceOffset {
            scratch[at] = UInt8(transportSequence >> 8)
            scratch[at + 1] = UInt8(truncatingIfNeeded: transportSequence)
            transportSequence &+= 1
        }
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

    /// Copies the scratch packet into its slot, queued to be sent; false when it cannot be kept.
    private func remember(_ sequence: UInt16, headerLength: Int) -> Bool {
        guard scratch.count <= slotSize else { return false }
        let slot = Int(sequence) % historyLength.count
        if historyState[slot] == .queued { packetsEvicted += 1 }
        if lastSentSlot == slot { lastSentSlot = nil }
        let offset = slot * slotSize
        history.withUnsafeMutableBufferPointer { ring in
            scratch.withUnsafeBufferPointer { packet in
                guard let to = ring.baseAddress, let from = packet.baseAddress else { return }
                (to + offset).update(from: from, count: packet.count)
            }
        }
        historyLength[slot] = scratch.count
        historyHeaderLength[slot] = headerLength
        historySequence[slot] = sequence
        historyState[slot] = .queued
        historySentAt[slot] = -.infinity
        return true
    }

    /// A NACKed packet, if it may be resent now: the size its retransmission will have, once
    /// `allow` (a budget) agreed to it; then it counts as sent now, so a NACK repeated within
    /// `minInterval` does not queue it twice. Nil for what the history no longer holds, what
    /// was never sent, what went out less than `minInterval` ago (counted: a round trip, as
    /// libwebrtc's packet history waits; the packet may still be on its way, and a receiver
    /// that NACKs it again and again, or a NACK storm, must not multiply what the link
    /// carries), and what `allow` refused.
    public func requestRetransmission(_ sequence: UInt16, now: Double, minInterval: Double = 0,
                                      allow: (_ size: Int) -> Bool = { _ in true }) -> Int? {
        let slot = Int(sequence) % historyLength.count
        guard historyState[slot] == .sent, historySequence[slot] == sequence else { return nil }
        guard minInterval <= 0 || !(now - historySentAt[slot] < minInterval) else {
            retransmissionsSuppressed += 1
            return nil
        }
        let size = historyLength[slot] + (configuration.rtx != nil ? 2 : 0)
        guard allow(size) else { return nil }
        historySentAt[slot] = now
        return size
    }

    /// Resends a packet from the history, as RTX when negotiated (original sequence number
    /// first in the payload) or as it was, with a new transport-wide sequence number; its size,
    /// or nil when the history no longer holds it.
    @discardableResult
    public func emitRetransmission(sequenceNumber sequence: UInt16, transportSequence: inout UInt16, now: Double,
                                   _ send: (UnsafeRawBufferPointer) -> Void) -> Int? {
        let slot = Int(sequence) % historyLength.count
        guard historyState[slot] == .sent, historySequence[slot] == sequence else { return nil }
        historySentAt[slot] = now
        retransmissions += 1
        return resend(slot: slot, transportSequence: &transportSequence, now: now, send)
    }

    private func resend(slot: Int, transportSequence: inout UInt16, now: Double, _ send: (UnsafeRawBufferPointer) -> Void) -> Int {
        let offset = slot * slotSize
        let length = historyLength[slot]
        guard let rtx = configuration.rtx else {
            stampSendTime(at: offset, transportSequence: &transportSequence, now: now)
            history.withUnsafeBytes { ring in send(UnsafeRawBufferPointer(rebasing: ring[offset..<(offset + length)])) }
            return length
        }
        let headerLength = historyHeaderLength[slot]
        let marker = history[offset + 1] & 0x80 != 0
        let timestamp = UInt32(history[offset + 4]) << 24 | UInt32(history[offset + 5]) << 16
            | UInt32(history[offset + 6]) << 8 | UInt32(history[offset + 7])
        scratch.removeAll(keepingCapacity: true)
        writeHeader(payloadType: rtx.payloadType, sequenceNumber: rtxSequenceNumber, timestamp: timestamp, ssrc: rtx.ssrc,
                    marker: marker, audioLevel: nil, captureNTP: nil)
        stampScratch(transportSequence: &transportSequence, now: now)
        append16(historySequence[slot])
        scratch.append(contentsOf: history[(offset + headerLength)..<(offset + length)])
        rtxSequenceNumber &+= 1
        scratch.withUnsafeBytes(send)
        return scratch.count
    }

    /// Answers a NACK at once: `requestRetransmission` then `emitRetransmission` for each.
    public func retransmit(_ lost: [UInt16], transportSequence: inout UInt16, now: Double, minInterval: Double = 0,
                           _ send: (UnsafeRawBufferPointer) -> Void) {
        for sequence in lost where requestRetransmission(sequence, now: now, minInterval: minInterval) != nil {
            emitRetransmission(sequenceNumber: sequence, transportSequence: &transportSequence, now: now, send)
        }
    }

    /// Padding of about `bytes` on the RTX stream, to probe the link (RFC 4588 §4 allows RTX
    /// of any sent packet): the packet sent last, again, when it is no more than twice what was
    /// asked, else a packet of padding only (RFC 3550 P bit, at most 255 bytes of it). Returns
    /// what it sent: 0 without RTX or before anything was sent.
    public func emitPadding(bytes: Int, transportSequence: inout UInt16, now: Double, _ send: (UnsafeRawBufferPointer) -> Void) -> Int {
        guard let rtx = configuration.rtx, let lastTimestamp else { return 0 }
        let size: Int
        if let slot = lastSentSlot, historyState[slot] == .sent, historyLength[slot] + 2 <= 2 * bytes {
            size = resend(slot: slot, transportSequence: &transportSequence, now: now, send)
        } else {
            scratch.removeAll(keepingCapacity: true)
            writeHeader(payloadType: rtx.payloadType, sequenceNumber: rtxSequenceNumber, timestamp: lastTimestamp, ssrc: rtx.ssrc,
                        marker: false, padding: true, audioLevel: nil, captureNTP: nil)
            stampScratch(transportSequence: &transportSequence, now: now)
            let count = min(max(bytes - scratch.count, 1), 255)
            for _ in 1..<count { scratch.append(0) }
            scratch.append(UInt8(count))
            rtxSequenceNumber &+= 1
            scratch.withUnsafeBytes(send)
            size = scratch.count
        }
        paddingPackets += 1
        paddingBytes += size
        return size
    }

    /// A sender report: the RTP time that corresponds to `ntp`, extrapolated from the last
    /// frame's capture time, so receivers can line audio up with video.
    public func senderReport(now: Double, ntp: UInt64) -> SenderReport? {
        guard let lastTimestamp, packetsSent > 0 else { return nil }
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
