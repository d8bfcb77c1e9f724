import Capture
import Foundation
import Logging
import Codecs
import Media
import Synchronization

/// Capture → encode on a thread of its own (never the cooperative pool, never the event
/// loop), handing each encoded frame to every attached stream. One pipeline can feed many
/// streams (the producers of several bots share one encode); key-frame requests from any of
/// them coalesce into one key frame, and bitrate changes take the latest. The video codec is
/// the one the router makes us use (`use(videoCodec:)`), chosen before producing.
public final class SendPipeline: Sendable {
    public enum Kind: Sendable, Equatable { case audio, video }

    /// One encoded frame, ready to packetize.
    public struct EncodedFrame: Sendable {
        public var payload: [UInt8]
        public var captureTime: Double
        public var isKeyFrame: Bool
        public var audioLevel: Double?
        /// Video: the picture size (VP9 key frames carry it in their descriptor).
        public var width = 0
        public var height = 0
    }

    public struct Counters: Sendable, Equatable {
        public var framesCaptured = 0
        public var framesEncoded = 0
        public var keyFrames = 0
        public var bytesEncoded = 0
        public var targetBitrate = 0
        /// Key-frame requests that asked for one already on its way.
        public var keyFrameRequestsCoalesced = 0
    }

    public typealias Sink = @Sendable (EncodedFrame) -> Void

    private struct Shared {
        var sinks: [Int: Sink] = [:]
        var nextSink = 0
        var keyFrameRequested = true
        var lastForcedKeyFrame = -Double.infinity
        var requestedBitrate: Int?
        var counters = Counters()
        var stopped = false
        var failure: String?
    }

    /// What the capture thread owns: sources and encoders are not thread-safe.
    private final class Machinery: @unchecked Sendable {
        let videoSource: (any VideoSource)?
        let audioSource: (any AudioSource)?
        let audioEncoder: OpusEncoder?
        let videoSettings: VideoEncoderSettings?
        /// Replaced only by `use(videoCodec:)` before the thread starts encoding with it,
        /// under the pipeline's lock; read by the capture thread under it.
        var videoEncoder: (any VideoEncoding)?

        init(videoSource: (any VideoSource)?, audioSource: (any AudioSource)?, audioEncoder: OpusEncoder?,
             videoSettings: VideoEncoderSettings?, videoEncoder: (any VideoEncoding)?) {
            self.videoSource = videoSource
            self.audioSource = audioSource
            self.audioEncoder = audioEncoder
            self.videoSettings = videoSettings
            self.videoEncoder = videoEncoder
        }
    }

    /// Forced key frames come at most this often, however many streams ask.
    public static let keyFrameRequestInterval = 0.2

    public let kind: Kind
    public let sourceSummary: String
    private let machinery: Machinery
    private let logger: Logger
    private let shared = Mutex(Shared())

    /// A video pipeline; its encoder starts as VP8 and changes with `use(videoCodec:)`.
    public init(video source: any VideoSource, settings: VideoEncoderSettings, logger: Logger) throws {
        kind = .video
        sourceSummary = source.summary
        self.logger = logger
        let encoder = try settings.makeEncoder(mimeType: "video/VP8")
        machinery = Machinery(videoSource: source, audioSource: nil, audioEncoder: nil, videoSettings: settings, videoEncoder: encoder)
        shared.withLock { $0.counters.targetBitrate = settings.bitrate }
    }

    public init(audio source: any AudioSource, encoder: OpusEncoder, bitrate: Int, logger: Logger) {
        kind = .audio
        sourceSummary = source.summary
        self.logger = logger
        machinery = Machinery(videoSource: nil, audioSource: source, audioEncoder: encoder, videoSettings: nil, videoEncoder: nil)
        shared.withLock { $0.counters.targetBitrate = bitrate }
    }

    /// The video codec the router takes (video/VP8, video/VP9); a new encoder when it changes.
    public func use(videoCodec mimeType: String) throws {
        guard kind == .video, let settings = machinery.videoSettings else { return }
        try shared.withLock { _ in
            guard machinery.videoEncoder?.mimeType.lowercased() != mimeType.lowercased() else { return }
            machinery.videoEncoder = try settings.makeEncoder(mimeType: mimeType)
        }
    }

    /// Where encoded frames go, until `detach`; a new receiver gets a key frame first.
    public func attach(_ sink: @escaping Sink) -> Int {
        shared.withLock { shared in
            let id = shared.nextSink
            shared.nextSink += 1
            shared.sinks[id] = sink
            shared.keyFrameRequested = true
            shared.lastForcedKeyFrame = -Double.infinity
            return id
        }
    }

    public func detach(_ id: Int) {
        shared.withLock { _ = $0.sinks.removeValue(forKey: id) }
    }

    public func requestKeyFrame() {
        shared.withLock { shared in
            if shared.keyFrameRequested { shared.counters.keyFrameRequestsCoalesced += 1 }
            shared.keyFrameRequested = true
        }
    }

    public func setTargetBitrate(_ bitsPerSecond: Int) { shared.withLock { $0.requestedBitrate = bitsPerSecond } }

    public var snapshot: Counters { shared.withLock { $0.counters } }

    /// Why capture ended, if it failed.
    public var error: String? { shared.withLock { $0.failure } }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = kind == .video ? "nacho-video" : "nacho-audio"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    public func stop() {
        shared.withLock { $0.stopped = true }
    }

    private func run() {
        do {
            while !shared.withLock({ $0.stopped }) {
                if let source = machinery.videoSource {
                    guard let frame = try source.nextFrame() else { break }
                    let now = MediaClock.now
                    let (forceKey, bitrate, encoder) = shared.withLock { shared -> (Bool, Int?, (any VideoEncoding)?) in
                        shared.counters.framesCaptured += 1
                        let bitrate = shared.requestedBitrate
                        shared.requestedBitrate = nil
                        var force = false
                        if shared.keyFrameRequested, now - shared.lastForcedKeyFrame >= Self.keyFrameRequestInterval {
                            force = true
                            shared.keyFrameRequested = false
                            shared.lastForcedKeyFrame = now
                        }
                        return (force, bitrate, machinery.videoEncoder)
                    }
                    guard let encoder else { continue }
                    if let bitrate { encoder.setBitrate(bitrate) }
                    for encoded in try encoder.encodeFrames(frame, forceKeyFrame: forceKey) {
                        deliver(EncodedFrame(payload: encoded.data, captureTime: frame.captureTime, isKeyFrame: encoded.isKeyFrame,
                                             audioLevel: nil, width: encoder.width, height: encoder.height),
                                bitrate: encoder.bitrate)
                    }
                } else if let source = machinery.audioSource, let encoder = machinery.audioEncoder {
                    guard let frame = try source.nextFrame() else { break }
                    let bitrate = shared.withLock { shared -> Int? in
                        shared.counters.framesCaptured += 1
                        defer { shared.requestedBitrate = nil }
                        return shared.requestedBitrate
                    }
                    if let bitrate { encoder.setBitrate(bitrate) }
                    let payload = try encoder.encode(frame)
                    deliver(EncodedFrame(payload: payload, captureTime: frame.captureTime, isKeyFrame: false, audioLevel: frame.level),
                            bitrate: bitrate)
                } else {
                    break
                }
            }
        } catch {
            logger.error("\(kind) capture stopped: \(error)")
            shared.withLock { $0.failure = "\(error)" }
        }
        machinery.videoSource?.stop()
        machinery.audioSource?.stop()
    }

    private func deliver(_ frame: EncodedFrame, bitrate: Int?) {
        let sinks = shared.withLock { shared -> Dictionary<Int, Sink>.Values in
            shared.counters.framesEncoded += 1
            shared.counters.bytesEncoded += frame.payload.count
            if frame.isKeyFrame { shared.counters.keyFrames += 1 }
            if let bitrate { shared.counters.targetBitrate = bitrate }
            return shared.sinks.values
        }
        for sink in sinks { sink(frame) }
    }
}
