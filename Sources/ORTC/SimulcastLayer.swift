/// One encoding of a simulcast producer: its own SSRC (and RTX SSRC), how much smaller than
/// the source it is and its bitrate ceiling. mediasoup takes a producer's encodings from the
/// lowest layer to the highest (spatial layer = encoding index), as browsers send them.
public struct SimulcastLayer: Sendable, Hashable {
    public var ssrc: UInt32
    public var rtxSsrc: UInt32?
    public var scaleResolutionDownBy: Double
    /// Bits per second.
    public var maxBitrate: Int

    public init(ssrc: UInt32, rtxSsrc: UInt32?, scaleResolutionDownBy: Double, maxBitrate: Int) {
        self.ssrc = ssrc
        self.rtxSsrc = rtxSsrc
        self.scaleResolutionDownBy = scaleResolutionDownBy
        self.maxBitrate = maxBitrate
    }

    /// Three layers at 1/4, 1/2 and full size, their ceilings in libwebrtc's proportions for
    /// 320x180, 640x360 and 1280x720 (200, 700 and 2500 kb/s: `kSimulcastFormats`) scaled to
    /// `topMaxBitrate`. `ssrcs` and `rtxSsrcs` are given lowest layer first.
    public static func standard(ssrcs: [UInt32], rtxSsrcs: [UInt32]?, topMaxBitrate: Int) -> [SimulcastLayer] {
        let scales: [Double] = [4, 2, 1]
        let shares: [Double] = [200.0 / 2500, 700.0 / 2500, 1]
        return zip(ssrcs, scales.indices).map { ssrc, index in
            SimulcastLayer(ssrc: ssrc, rtxSsrc: rtxSsrcs.flatMap { index < $0.count ? $0[index] : nil },
                           scaleResolutionDownBy: scales[index],
                           maxBitrate: max(1, Int((Double(topMaxBitrate) * shares[index]).rounded())))
        }
    }
}
