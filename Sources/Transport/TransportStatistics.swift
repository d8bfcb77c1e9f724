/// Counters of one transport, read at any time (copied out on the event loop).
public struct TransportStatistics: Sendable, Equatable {
    public var rtpPacketsReceived = 0
    public var rtpBytesReceived = 0
    public var rtcpPacketsReceived = 0
    public var rtpPacketsSent = 0
    public var rtpBytesSent = 0
    public var rtcpPacketsSent = 0
    /// Probation packets (SSRC 1234, PT 127) mediasoup sends to probe bandwidth: dropped.
    public var probationPacketsDropped = 0
    /// Packets that failed SRTP authentication or replay checks, or did not parse.
    public var packetsDiscarded = 0

    public init() {}
}
