/// A burst the pacer sends at `bitrate` to learn whether the link carries it (libwebrtc's
/// `ProbeClusterConfig`): at least `minPackets` packets and `minBytes` bytes.
public struct ProbeCluster: Sendable, Equatable {
    public var id: Int
    public var bitrate: Int
    public var minPackets: Int
    public var minBytes: Int

    public init(id: Int, bitrate: Int, minPackets: Int, minBytes: Int) {
        self.id = id
        self.bitrate = bitrate
        self.minPackets = minPackets
        self.minBytes = minBytes
    }
}
