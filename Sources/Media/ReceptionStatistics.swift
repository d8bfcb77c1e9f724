import RTP

/// What a receiver knows about one incoming RTP stream (RFC 3550 §6.4.1, appendix A.1, A.3,
/// A.8): extended highest sequence number, loss, interarrival jitter, and the last sender
/// report, so it can fill the report block of its receiver reports.
public struct ReceptionStatistics: Sendable {
    public let ssrc: UInt32
    public let clockRate: Int
    public private(set) var packetsReceived: Int = 0
    public private(set) var bytesReceived: Int = 0
    public private(set) var senderReportsReceived: Int = 0
    private var baseSequence: UInt32 = 0
    private var maxSequence: UInt16 = 0
    private var cycles: UInt32 = 0
    private var started = false
    private var expectedPrior: UInt32 = 0
    private var receivedPrior: UInt32 = 0
    /// In timestamp units, scaled by 16 as in RFC 3550 A.8.
    private var jitterQ4: Double = 0
    private var lastTransit: Double?
    private var lastSenderReport: UInt32 = 0
    private var lastSenderReportArrival: Double?

    public init(ssrc: UInt32, clockRate: Int) {
        self.ssrc = ssrc
        self.clockRate = clockRate
    }

    /// - Parameter arrival: seconds on any monotonic clock.
    public mutating func packetReceived(sequenceNumber: UInt16, timestamp: UInt32, size: Int, arrival: Double) {
        packetsReceived += 1
        bytesReceived += size
        if !started {
            started = true
            baseSequence = UInt32(sequenceNumber)
            maxSequence = sequenceNumber
        } else {
            let delta = sequenceNumber &- maxSequence
            if delta > 0 && delta < 0x8000 {
                if sequenceNumber < maxSequence { cycles &+= 1 << 16 }
                maxSequence = sequenceNumber
            }
        }
        let arrivalUnits = arrival * Double(clockRate)
        let transit = arrivalUnits - Double(timestamp)
        if let lastTransit {
            var d = transit - lastTransit
            if d < 0 { d = -d }
            // Timestamps wrap: a huge jump is a wrap or a new stream, not jitter.
            if d < Double(clockRate) * 10 { jitterQ4 += d - jitterQ4 / 16 }
        }
        lastTransit = transit
    }

    public mutating func senderReportReceived(ntpTimestamp: UInt64, arrival: Double) {
        senderReportsReceived += 1
        lastSenderReport = UInt32(truncatingIfNeeded: ntpTimestamp >> 16)
        lastSenderReportArrival = arrival
    }

    public var extendedHighestSequence: UInt32 { cycles &+ UInt32(maxSequence) }

    public var expected: Int { started ? Int(extendedHighestSequence &- baseSequence &+ 1) : 0 }

    public var cumulativeLost: Int { max(expected - packetsReceived, -0x800000) }

    /// Jitter in timestamp units (saturating: the clock rate comes from the server).
    public var jitter: UInt32 { Self.saturatingUInt32(jitterQ4 / 16) }

    /// `value` rounded down into 0 ... UInt32.max; NaN is 0.
    static func saturatingUInt32(_ value: Double) -> UInt32 {
        guard value > 0 else { return 0 }  // also NaN
        return value >= Double(UInt32.max) ? .max : UInt32(value)
    }

    /// A report block; advances the "since last report" interval used for the fraction lost.
    public mutating func makeReport(now: Double) -> ReceptionReport {
        let expectedNow = UInt32(truncatingIfNeeded: expected)
        let expectedInterval = Int64(expectedNow) - Int64(expectedPrior)
        let receivedInterval = Int64(packetsReceived) - Int64(receivedPrior)
        expectedPrior = expectedNow
        receivedPrior = UInt32(truncatingIfNeeded: packetsReceived)
        let lostInterval = expectedInterval - receivedInterval
        let fraction: UInt8 = expectedInterval <= 0 || lostInterval <= 0 ? 0 : UInt8(min(255, (lostInterval << 8) / expectedInterval))
        var delay: UInt32 = 0
        if let arrival = lastSenderReportArrival {
            // DLSR is 32 bits of 1/65536 s: it saturates after 18.2 h (a producer paused that
            // long) rather than wrapping to a small, wrong round-trip time.
            delay = Self.saturatingUInt32((now - arrival) * 65536)
        }
        return ReceptionReport(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: Int32(clamping: min(cumulativeLost, 0x7FFFFF)),
            extendedHighestSequence: extendedHighestSequence, jitter: jitter,
            lastSenderReport: lastSenderReport, delaySinceLastSenderReport: lastSenderReportArrival == nil ? 0 : delay)
    }
}
