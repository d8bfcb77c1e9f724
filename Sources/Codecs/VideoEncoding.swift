import Media
import MediaFormat

/// What a send pipeline needs of a video encoder (VP8, VP9).
public protocol VideoEncoding: AnyObject {
    var width: Int { get }
    var height: Int { get }
    var bitrate: Int { get }
    /// The MIME type it produces (`video/VP8`).
    var mimeType: String { get }
    func encodeFrames(_ frame: VideoFrame, forceKeyFrame: Bool) throws -> [(data: [UInt8], isKeyFrame: Bool)]
    func setBitrate(_ bitsPerSecond: Int)
}

extension LibvpxEncoder {
    public func encodeFrames(_ frame: VideoFrame, forceKeyFrame: Bool) throws -> [(data: [UInt8], isKeyFrame: Bool)] {
        try encode(frame, forceKeyFrame: forceKeyFrame).map { ($0.data, $0.isKeyFrame) }
    }
}

extension VP8Encoder: VideoEncoding {
    public var mimeType: String { MimeType.vp8 }
}

extension VP9Encoder: VideoEncoding {
    public var mimeType: String { MimeType.vp9 }
}

/// How a video encoder is set up, whatever the codec the router makes us use.
public struct VideoEncoderSettings: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var fps: Int
    public var bitrate: Int
    public var keyFrameInterval: Int

    public init(width: Int, height: Int, fps: Int, bitrate: Int, keyFrameInterval: Int) {
        self.width = width
        self.height = height
        self.fps = fps
        self.bitrate = bitrate
        self.keyFrameInterval = keyFrameInterval
    }

    /// An encoder for `mimeType` (video/VP8 or video/VP9).
    public func makeEncoder(mimeType: String) throws -> any VideoEncoding {
        switch MediaCodec(mimeType: mimeType) {
        case .vp8:
            return try VP8Encoder(width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: keyFrameInterval)
        case .vp9:
            return try VP9Encoder(width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: keyFrameInterval)
        default:
            throw MediaError.codec("nacho cannot encode \(mimeType)")
        }
    }
}
