import Bytes

/// The abs-capture-time RTP header extension element
/// (`http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time`, libwebrtc and mediasoup):
/// the NTP time (Q32.32, RFC 5905) at which the frame was captured, on the capturer's clock,
/// and optionally the capturer's estimate of its clock's offset from the sender's (Q32.32,
/// signed). SFUs forward it untouched while rewriting sender reports, so a receiver can measure
/// end-to-end delay from capture, which sender reports no longer give behind an SFU.
public struct AbsoluteCaptureTime: Sendable, Equatable {
    public static let uri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"

    public var captureTimestamp: UInt64
    public var estimatedCaptureClockOffset: Int64?

    public init(captureTimestamp: UInt64, estimatedCaptureClockOffset: Int64? = nil) {
        self.captureTimestamp = captureTimestamp
        self.estimatedCaptureClockOffset = estimatedCaptureClockOffset
    }

    /// An element's data: 8 bytes, or 16 with the clock offset.
    public init(parsing data: ArraySlice<UInt8>) throws {
        guard data.count == 8 || data.count == 16 else {
            throw MalformedPacket("abs-capture-time: \(data.count) bytes (8 or 16)")
        }
        var reader = ByteReader(data, what: "abs-capture-time")
        captureTimestamp = try reader.u64("the capture timestamp")
        estimatedCaptureClockOffset = data.count == 16 ? Int64(bitPattern: try reader.u64("the clock offset")) : nil
    }

    public func serialize() -> [UInt8] {
        var writer = ByteWriter(capacity: 16)
        writer.u64(captureTimestamp)
        if let estimatedCaptureClockOffset { writer.u64(UInt64(bitPattern: estimatedCaptureClockOffset)) }
        return writer.bytes
    }

    /// The capture time in seconds since 1900.
    public var captureSeconds: Double {
        Double(captureTimestamp >> 32) + Double(captureTimestamp & 0xFFFF_FFFF) / 4_294_967_296
    }
}
