import Bytes
import RTP

/// One outgoing RTP stream as the producer side keeps it (RFC 3550, RFC 4588): sequence
/// numbers, header extensions (mid, abs-send-time, transport-wide sequence, audio level), a
/// history of what was sent to answer NACKs with RTX (or a plain resend), and the counters and
/// NTP ↔ RTP mapping for sender reports. Confined to the transport's event loop.
public struct RTPStreamSender: Sendable {
    public struct Configuration: Sendable {
        public var ssrc: UInt32
        public var payloadType: UInt8
        public var clockRate: Int
        public var rtx: (ssrc: UInt32, payloadType: UInt8)?
        public var mid: String?
        public var midExtensionId: UInt8?
        public var absSendTimeExtensionId: UInt8?
        public var transportSequenceExtensionId: UInt8?
        public var audioLevelExtensionId: UInt8?
        /// Packets kept for retransmission (must stay below the SRTP replay window, 1024).
        public var historySize = 600

        public init(ssrc: UInt32, payloadType: UInt8, clockRate: Int) {
            self.ssrc = ssrc
            self.payloadType = payloadType
            self.clockRate = clockRate
        }
    }

    public let configuration: Configuration
    private var sequenceNumber: UInt16
    private var rtxSequenceNumber: UInt16
    private var history: [RTPPacket?]
    public private(set) var packetsSent: UInt32 = 0
    public private(set) var octetsSent: UInt32 = 0
    public private(set) var retransmissions = 0
    private var lastTimestamp: UInt32?
    private var lastCaptureTime: Double = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        sequenceNumber = UInt16.random(in: 0...UInt16.max)
        rtxSequenceNumber = UInt16.random(in: 0...UInt16.max)
        history = Array(repeating: nil, count: configuration.historySize)
    }

    /// RTP packets for one media frame: `payloads` in order, all with `timestamp`, the marker
    /// on the last one when `markLast`.
    public mutating func packets(for payloads: [[UInt8]], timestamp: UInt32, captureTime: Double, markLast: Bool,
                                 audioLevel: Double? = nil, transportSequence: inout UInt16, now: Double) -> [RTPPacket] {
        lastTimestamp = timestamp
        lastCaptureTime = captureTime
        var out: [RTPPacket] = []
        out.reserveCapacity(payloads.count)
        for (index, payload) in payloads.enumerated() {
            var packet = RTPPacket(payloadType: configuration.payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
                                   ssrc: configuration.ssrc, marker: markLast && index == payloads.count - 1, payload: payload[...])
            packet.headerExtension = extensions(now: now, transportSequence: &transportSequence, audioLevel: audioLevel)
            history[Int(sequenceNumber) % history.count] = packet
            sequenceNumber &+= 1
            packetsSent &+= 1
            octetsSent &+= UInt32(payload.count)
            out.append(packet)
        }
        return out
    }

    /// Answers a NACK: the packets still in the history, as RTX when negotiated (original
    /// sequence number first in the payload) or as they were.
    public mutating func retransmissions(for lost: [UInt16], transportSequence: inout UInt16, now: Double) -> [RTPPacket] {
        var out: [RTPPacket] = []
        for seq in lost {
            guard let original = history[Int(seq) % history.count], original.sequenceNumber == seq else { continue }
            retransmissions += 1
            guard let rtx = configuration.rtx else {
                out.append(original)
                continue
            }
            var payload = [UInt8(seq >> 8), UInt8(truncatingIfNeeded: seq)]
            payload.append(contentsOf: original.payload)
            var packet = RTPPacket(payloadType: rtx.payloadType, sequenceNumber: rtxSequenceNumber, timestamp: original.timestamp,
                                   ssrc: rtx.ssrc, marker: original.marker, payload: payload[...])
            packet.headerExtension = extensions(now: now, transportSequence: &transportSequence, audioLevel: nil)
            rtxSequenceNumber &+= 1
            out.append(packet)
        }
        return out
    }

    /// A sender report: the RTP time that corresponds to `wallClock` (NTP), extrapolated from
    /// the last frame's capture time, so receivers can line audio up with video.
    public func senderReport(now: Double, ntp: UInt64) -> SenderReport? {
        guard let lastTimestamp else { return nil }
        let elapsed = max(0, now - lastCaptureTime)
        let rtpNow = lastTimestamp &+ UInt32(truncatingIfNeeded: Int64(elapsed * Double(configuration.clockRate)))
        return SenderReport(ssrc: configuration.ssrc, ntpTimestamp: ntp, rtpTimestamp: rtpNow,
                            packetCount: packetsSent, octetCount: octetsSent)
    }

    private func extensions(now: Double, transportSequence: inout UInt16, audioLevel: Double?) -> RTPHeaderExtension? {
        var elements: [RTPHeaderExtension.Element] = []
        if let id = configuration.midExtensionId, let mid = configuration.mid {
            elements.append(.init(id: id, data: Array(mid.utf8)[...]))
        }
        if let id = configuration.absSendTimeExtensionId {
            // 6.18 fixed-point seconds, 24 bits.
            let value = UInt32(truncatingIfNeeded: Int64(now * 262_144)) & 0x00FF_FFFF
            elements.append(.init(id: id, data: [UInt8(value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]))
        }
        if let id = configuration.transportSequenceExtensionId {
            elements.append(.init(id: id, data: [UInt8(transportSequence >> 8), UInt8(truncatingIfNeeded: transportSequence)]))
            transportSequence &+= 1
        }
        if let id = configuration.audioLevelExtensionId, let audioLevel {
            // RFC 6464: voice flag, then the level as -dBov (0...127).
            let level = UInt8(max(0, min(127, -audioLevel.rounded())))
            elements.append(.init(id: id, data: [(audioLevel > -50 ? 0x80 : 0) | level]))
        }
        return elements.isEmpty ? nil : RTPHeaderExtension(elements: elements)
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
}

#if canImport(Glibc)
import Glibc
#endif
