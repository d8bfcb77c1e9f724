import Capture
import Foundation
import Logging
import Media

/// Capture → encode on a thread of its own (never the cooperative pool, never the event
/// loop), handing each encoded frame to the attached stream in one hop. Key-frame requests and
/// bitrate changes come in from the event loop through a small locked box read once a frame.
public final class SendPipeline: @unchecked Sendable {
    public enum Kind: Sendable, Equatable { case audio, video }

    /// One encoded frame, ready to packetize.
    public struct EncodedFrame: Sendable {
        public var payload: [UInt8]
        public var captureTime: Double
        public var isKeyFrame: Bool
        public var audioLevel: Double?
    }

    public struct Counters: Sendable, Equatable {
        public var framesCaptured = 0
        public var framesEncoded = 0
        public var keyFrames = 0
        public var bytesEncoded = 0
        public var targetBitrate = 0
    }

    public let kind: Kind
    public let sourceSummary: String
    private let videoSource: (any VideoSource)?
    private let audioSource: (any AudioSource)?
    private let videoEncoder: VP8Encoder?
    private let audioEncoder: OpusEncoder?
    private let logger: Logger
    private let lock = NSLock()
    private var sink: (@Sendable (EncodedFrame) -> Void)?
    private var keyFrameRequested = true
    private var requestedBitrate: Int?
    private var counters = Counters()
    private var stopped = false
    private var thread: Thread?
    private var failure: (any Error)?

    public init(video source: any VideoSource, encoder: VP8Encoder, logger: Logger) {
        kind = .video
        videoSource = source
        videoEncoder = encoder
        audioSource = nil
        audioEncoder = nil
        sourceSummary = source.summary
        self.logger = logger
        counters.targetBitrate = encoder.bitrate
    }

    public init(audio source: any AudioSource, encoder: OpusEncoder, bitrate: Int, logger: Logger) {
        kind = .audio
        audioSource = source
        audioEncoder = encoder
        videoSource = nil
        videoEncoder = nil
        sourceSummary = source.summary
        self.logger = logger
        counters.targetBitrate = bitrate
    }

    /// Where encoded frames go; nil drops them (between signaling sessions).
    public func attach(_ sink: (@Sendable (EncodedFrame) -> Void)?) {
        lock.withLock {
            self.sink = sink
            keyFrameRequested = true  // a new receiver needs a key frame
        }
    }

    public func requestKeyFrame() { lock.withLock { keyFrameRequested = true } }

    public func setTargetBitrate(_ bitsPerSecond: Int) { lock.withLock { requestedBitrate = bitsPerSecond } }

    public var snapshot: Counters { lock.withLock { counters } }

    /// The error that ended capture, if any.
    public var error: (any Error)? { lock.withLock { failure } }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = kind == .video ? "nacho-video" : "nacho-audio"
        thread.qualityOfService = .userInteractive
        self.thread = thread
        thread.start()
    }

    public func stop() {
        lock.withLock { stopped = true }
    }

    private func run() {
        do {
            while !lock.withLock({ stopped }) {
                if let source = videoSource, let encoder = videoEncoder {
                    guard let frame = try source.nextFrame() else { break }
                    let (forceKey, bitrate) = lock.withLock { () -> (Bool, Int?) in
                        defer {
                            keyFrameRequested = false
                            requestedBitrate = nil
                        }
                        counters.framesCaptured += 1
                        return (keyFrameRequested, requestedBitrate)
                    }
                    if let bitrate { encoder.setBitrate(bitrate) }
                    for encoded in try encoder.encode(frame, forceKeyFrame: forceKey) {
                        deliver(EncodedFrame(payload: encoded.data, captureTime: frame.captureTime, isKeyFrame: encoded.isKeyFrame, audioLevel: nil),
                                bitrate: encoder.bitrate)
                    }
                } else if let source = audioSource, let encoder = audioEncoder {
                    guard let frame = try source.nextFrame() else { break }
                    let bitrate = lock.withLock { () -> Int? in
                        defer { requestedBitrate = nil }
                        counters.framesCaptured += 1
                        return requestedBitrate
                    }
                    if let bitrate { encoder.setBitrate(bitrate) }
                    let payload = try encoder.encode(frame)
                    deliver(EncodedFrame(payload: payload, captureTime: frame.captureTime, isKeyFrame: false, audioLevel: frame.level),
                            bitrate: bitrate)
                }
            }
        } catch {
            logger.error("\(kind) capture stopped: \(error)")
            lock.withLock { failure = error }
        }
        videoSource?.stop()
        audioSource?.stop()
    }

    private func deliver(_ frame: EncodedFrame, bitrate: Int?) {
        let sink = lock.withLock { () -> (@Sendable (EncodedFrame) -> Void)? in
            counters.framesEncoded += 1
            counters.bytesEncoded += frame.payload.count
            if frame.isKeyFrame { counters.keyFrames += 1 }
            if let bitrate { counters.targetBitrate = bitrate }
            return self.sink
        }
        sink?(frame)
    }
}
