/// A whole video frame reassembled from RTP packets (`FrameAssembler`), whatever the codec:
/// what one decoder call or one Matroska block takes.
public struct DepacketizedFrame<Details: FrameDetails>: Sendable, Equatable {
    /// The codec's frame data (H264: AVC samples; VP9: a frame or a superframe).
    public var data: [UInt8]
    public var timestamp: UInt32
    public var isKeyFrame: Bool
    /// The picture size when the codec's headers tell it (key frames: always, if known).
    public var width: Int?
    public var height: Int?
    public var details: Details
}

/// What a frame of one codec says beyond the common fields, and what a recorder needs of it.
public protocol FrameDetails: Sendable, Equatable {
    /// The Matroska CodecPrivate of a key frame (H264: the avcC record); nil when the codec has none.
    var codecPrivate: [UInt8]? { get }
    /// Key frames: the codec parameters differ from the previous key frame's (a recorder starts
    /// a new file: a Matroska track has one CodecPrivate).
    var parametersChanged: Bool { get }
}

extension FrameDetails {
    public var codecPrivate: [UInt8]? { nil }
    public var parametersChanged: Bool { false }
}
