import Codecs
import DTLS
import Foundation
import Media
import SRTP

/// A recorded media stream to run the packet paths on: `seconds` of VP8 video and 20 ms Opus
/// frames, in arrival order, as plain RTP and as SRTP (what arrives from the server), with the
/// header extensions the test room server's aiortc senders write (mid, abs-send-time). Made
/// once by the encoders nacho sends with; `nacho-bench` and the MediaPath benchmarks both run
/// on it.
public struct PacketSet: Sendable {
    public struct Frame: Sendable {
        public var video: Bool
        /// The encoded frame (VP8) or packet (Opus).
        public var data: [UInt8]
        public var timestamp: UInt32
        public var time: Double
    }

    public static let videoSSRC: UInt32 = 0x1111_1111
    public static let audioSSRC: UInt32 = 0x2222_2222
    public static let videoPayloadType: UInt8 = 101
    public static let audioPayloadType: UInt8 = 100
    public static let profile = SRTPProtectionProfile.aeadAES256GCM
    public static let keys = SRTPKeys(profile: profile, key: Array(repeating: 7, count: profile.keyLength),
                                      salt: Array(repeating: 9, count: profile.saltLength))

    public private(set) var frames: [Frame] = []
    public private(set) var plain: [[UInt8]] = []
    public private(set) var protected: [[UInt8]] = []
    public private(set) var isVideo: [Bool] = []

    public static func videoStream() -> OutboundStream {
        var configuration = OutboundStream.Configuration(ssrc: videoSSRC, payloadType: videoPayloadType, clockRate: 90000, codec: .vp8)
        configuration.mid = "1"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        return OutboundStream(configuration: configuration)
    }

    public static func audioStream() -> OutboundStream {
        var configuration = OutboundStream.Configuration(ssrc: audioSSRC, payloadType: audioPayloadType, clockRate: 48000, codec: .opus)
        configuration.mid = "0"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        configuration.audioLevelExtensionId = 10
        return OutboundStream(configuration: configuration)
    }

    /// The receiving side of the two streams, as a consumer's: VP8 reassembled into frames,
    /// Opus counted but not handed out.
    public static func inboundStreams() -> (video: InboundStream, audio: InboundStream) {
        (InboundStream(configuration: .init(ssrc: videoSSRC, payloadType: videoPayloadType, clockRate: 90000, codec: .vp8)),
         InboundStream(configuration: .init(ssrc: audioSSRC, payloadType: audioPayloadType, clockRate: 48000, codec: .opus),
                       deliversAudio: false))
    }

    /// Encodes `seconds` of a moving pattern and a tone.
    public init(seconds: Int, width: Int, height: Int, fps: Int, bitrate: Int) throws {
        let video = try VP8Encoder(width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: fps * 4, threads: 1)
        let audio = try OpusEncoder(channels: 1, bitrate: 32000, inbandFEC: true, dtx: false)
        var image = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width, height: height))
        for n in 0..<(seconds * fps) {
            for row in 0..<height { for column in 0..<width { image[row * width + column] = UInt8(truncatingIfNeeded: (column + row / 2 + n * 4) & 0xFF) / 2 + 40 } }
            for encoded in try video.encode(VideoFrame(width: width, height: height, data: image, captureTime: 0), forceKeyFrame: false) {
                frames.append(Frame(video: true, data: encoded.data, timestamp: UInt32(n * 90000 / fps), time: Double(n) / Double(fps)))
            }
        }
        let tone = (0..<960).map { Int16(10000 * sin(2 * Double.pi * 440 * Double($0) / 48000)) }
        for n in 0..<(seconds * 50) {
            let payload = try audio.encode(AudioFrame(channels: 1, samples: tone, captureTime: 0))
            frames.append(Frame(video: false, data: payload, timestamp: UInt32(n * 960), time: Double(n) / 50))
        }
        frames.sort { $0.time < $1.time }
        let videoStream = Self.videoStream(), audioStream = Self.audioStream()
        var twcc: UInt16 = 0
        let sender = try SRTPContext(keys: Self.keys, direction: .outbound)
        var made: [(bytes: [UInt8], video: Bool)] = []
        for frame in frames {
            let stream = frame.video ? videoStream : audioStream
            stream.send(frame: frame.data, timestamp: frame.timestamp, captureTime: frame.time, isKeyFrame: false,
                        audioLevel: frame.video ? nil : -10, transportSequence: &twcc, now: frame.time) { made.append((Array($0), frame.video)) }
        }
        for (bytes, video) in made {
            var wire = bytes
            try sender.protect(&wire)
            plain.append(bytes)
            protected.append(wire)
            isVideo.append(video)
        }
    }

    /// For Scripts/bench_peer.py: a JSON header line, then per packet a kind byte (1 video),
    /// the plain and the protected length (big-endian 16 bits) and both packets.
    public func write(to path: String) throws {
        let header = "{\"profile\":\"\(Self.profile.rawValue)\",\"key\":\"\(hex(Self.keys.key))\",\"salt\":\"\(hex(Self.keys.salt))\",\"count\":\(plain.count)}\n"
        var out = Array(header.utf8)
        for index in plain.indices {
            out.append(isVideo[index] ? 1 : 0)
            for count in [plain[index].count, protected[index].count] {
                out.append(UInt8(count >> 8))
                out.append(UInt8(truncatingIfNeeded: count))
            }
            out += plain[index]
            out += protected[index]
        }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
