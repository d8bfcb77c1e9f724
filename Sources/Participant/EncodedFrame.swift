/// One encoded frame of one layer, as a `SendPipeline` hands it to the `SendEngine` to
/// packetize and send.
public struct EncodedFrame: Sendable {
    public var payload: [UInt8]
    /// Seconds on `MediaClock` when the frame was captured.
    public var captureTime: Double
    public var isKeyFrame: Bool
    /// Audio: the level in dBov (0 the loudest, -127 silence), for the ssrc-audio-level
    /// header extension (RFC 6464).
    public var audioLevel: Double?
    /// Video: the picture size (VP9 key frames carry it in their descriptor).
    public var width = 0
    public var height = 0
    /// Simulcast: the layer, 0 the smallest; the pipeline's last layer is full size.
    public var layer = 0

}
