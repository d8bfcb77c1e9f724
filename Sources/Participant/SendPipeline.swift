import Capture
import Foundation
import Logging
import Codecs
import Media
import MediaFormat
import Synchronization

/// Capture → encode on a thread of its own (never the cooperative pool, never the event
/// loop), handing each encoded frame to every attached stream. One pipeline can feed many
/// streams (the producers of several bots share one encode); key-frame requests from any of
/// them coalesce into one key frame, and bitrate changes take the latest. The video codec is
/// the one the router makes us use (`use(videoCodec:)`), chosen before producing.
public final class SendPipeline: Sendable {

    public struct Counters: Sendable, Equatable {
        public var framesCaptured = 0
        public var framesEncoded = 0
        public var keyFrames = 0
        public var bytesEncoded = 0
        public var targetBitrate = 0
        /// Key-frame requests that asked for one already on its way.
        public var keyFrameRequestsCoalesced = 0
        /// Frames of layers not encoded because every stream paused them.
        public var framesSkippedPaused = 0
    }

    public typealias Sink = @Sendable (EncodedFrame) -> Void

    private struct Shared {
        var sinks: [Int: Sink] = [:]
        /// Replay: which clip publisher each sink is, and the schedule of all of them.
        var schedule: ReplaySchedule?
        var publisherOfSink: [Int: Int] = [:]
        var sinkOfPublisher: [Int: Int] = [:]
        var nextSink = 0
        /// Per layer.
        var keyFrameRequested: [Bool]
        var lastForcedKeyFrame: [Double]
        var requestedBitrate: [Int?]
        /// Per sink, the layers it paused (the congestion controller's allocation): a layer
        /// every sink paused is not encoded.
        var pausedLayers: [Int: [Bool]] = [:]
        var counters = Counters()
        var stopped = false
        var failure: String?
        /// Per layer. Replaced by `use(videoCodec:)`; the capture thread takes them from here
        /// for each frame (it alone calls them: the old ones finish the frame they have).
        var videoEncoders: [any VideoEncoding] = []

        init(layers: Int) {
            keyFrameRequested = Array(repeating: true, count: layers)
            lastForcedKeyFrame = Array(repeating: -.infinity, count: layers)
            requestedBitrate = Array(repeating: nil, count: layers)
        }
    }

    /// What the capture thread uses: sources, scalers and encoders are not thread-safe.
    /// Unchecked because they are not `Sendable`; sound because after `init` only the capture
    /// thread (`run`) touches the sources and scalers, and the encoders live in `Shared`.
    private final class Machinery: @unchecked Sendable {
        let videoSource: (any VideoSource)?
        let audioSource: (any AudioSource)?
        let audioEncoder: OpusEncoder?
        /// Per layer, smallest first.
        let videoSettings: [VideoEncoderSettings]
        /// Per layer: the downscaler from the source size (nil: full size); it keeps its
        /// output buffer, so the capture thread mutates it.
        var scalers: [I420Downscaler?]
        /// A pre-encoded clip instead of a source and encoder.
        let clip: ReplayClip?

        init(videoSource: (any VideoSource)?, audioSource: (any AudioSource)?, audioEncoder: OpusEncoder?,
             videoSettings: [VideoEncoderSettings], scalers: [I420Downscaler?], clip: ReplayClip? = nil) {
            self.videoSource = videoSource
            self.audioSource = audioSource
            self.audioEncoder = audioEncoder
            self.videoSettings = videoSettings
            self.scalers = scalers
            self.clip = clip
        }
    }

    /// Forced key frames come at most this often, however many streams ask.
    public static let keyFrameRequestInterval = 0.2

    public let kind: MediaKind
    public let sourceSummary: String
    private let machinery: Machinery
    private let logger: Logger
    private let shared: Mutex<Shared>
    /// Encodings made of each frame (simulcast: several sizes, smallest first).
    public let layerCount: Int
    /// Each layer's scale-down factor, smallest picture first ([1] without simulcast).
    public let simulcastFactors: [Int]

    /// A video pipeline; its encoders start as VP8 and change with `use(videoCodec:)`.
    /// - Parameter simulcast: scale-down factors of the layers, smallest picture first (e.g.
    ///   [4, 2, 1]); each layer gets its share of the bitrate (libwebrtc's 200/700/2500 split).
    public init(video source: any VideoSource, settings: VideoEncoderSettings, simulcast: [Int] = [1], logger: Logger) throws {
        kind = .video
        sourceSummary = source.summary
        self.logger = logger
        let factors = simulcast.isEmpty ? [1] : simulcast
        simulcastFactors = factors
        let weights = factors.count == 1 ? [1.0] : factors.map { 1 / Double($0 * $0) }
        var layers: [VideoEncoderSettings] = []
        var scalers: [I420Downscaler?] = []
        for (factor, weight) in zip(factors, weights) {
            let scaler = factor > 1 ? I420Downscaler(sourceWidth: settings.width, sourceHeight: settings.height, factor: factor) : nil
            var layer = settings
            layer.width = scaler?.width ?? settings.width
            layer.height = scaler?.height ?? settings.height
            layer.bitrate = max(50_000, Int(Double(settings.bitrate) * weight / weights.reduce(0, +)))
            layers.append(layer)
            scalers.append(scaler)
        }
        let encoders = try layers.map { try $0.makeEncoder(mimeType: MimeType.vp8) }
        layerCount = layers.count
        machinery = Machinery(videoSource: source, audioSource: nil, audioEncoder: nil, videoSettings: layers, scalers: scalers)
        var shared = Shared(layers: layers.count)
        shared.counters.targetBitrate = settings.bitrate
        shared.videoEncoders = encoders
        self.shared = Mutex(shared)
    }

    /// A pre-encoded clip (`replay:clip.ivf`, `replay:clip.ogg`), looped: no capture, no
    /// encoder. Every attached stream gets the clip from its own start (a key frame) at its own
    /// pace; a key-frame request makes that stream skip to the clip's next key frame.
    public init(replay clip: ReplayClip, logger: Logger) {
        kind = clip.kind
        sourceSummary = clip.summary
        self.logger = logger
        layerCount = 1
        simulcastFactors = [1]
        machinery = Machinery(videoSource: nil, audioSource: nil, audioEncoder: nil, videoSettings: [], scalers: [], clip: clip)
        var shared = Shared(layers: 1)
        shared.schedule = ReplaySchedule(clip: clip, keyFrameRequestInterval: Self.keyFrameRequestInterval)
        self.shared = Mutex(shared)
    }

    /// The codec a replay clip is in (its producer must use it); nil for live sources.
    public var fixedCodec: String? { machinery.clip?.codec.mimeType }

    public init(audio source: any AudioSource, encoder: OpusEncoder, bitrate: Int, logger: Logger) {
        kind = .audio
        sourceSummary = source.summary
        self.logger = logger
        layerCount = 1
        simulcastFactors = [1]
        machinery = Machinery(videoSource: nil, audioSource: source, audioEncoder: encoder, videoSettings: [], scalers: [])
        shared = Mutex(Shared(layers: 1))
        shared.withLock { $0.counters.targetBitrate = bitrate }
    }

    /// The maximum bitrate of each layer, smallest first.
    public var layerBitrates: [Int] { machinery.videoSettings.map(\.bitrate) }

    /// The video codec the router takes (video/VP8, video/VP9); new encoders when it changes.
    public func use(videoCodec mimeType: String) throws {
        guard kind == .video else { return }
        if let clip = machinery.clip {
            guard clip.codec == MediaCodec(mimeType: mimeType) else {
                throw MediaError.codec("\(clip.summary) is \(clip.codec.mimeType), the router takes \(mimeType)")
            }
            return
        }
        let settings = machinery.videoSettings
        try shared.withLock { shared in
            guard shared.videoEncoders.first?.mimeType.lowercased() != mimeType.lowercased() else { return }
            shared.videoEncoders = try settings.map { try $0.makeEncoder(mimeType: mimeType) }
        }
    }

    /// Where encoded frames go, until `detach`; a new receiver gets a key frame first.
    public func attach(_ sink: @escaping Sink) -> Int {
        shared.withLock { shared in
            let id = shared.nextSink
            shared.nextSink += 1
            shared.sinks[id] = sink
            if shared.schedule != nil, let publisher = shared.schedule?.attach(now: MediaClock.now) {
                shared.publisherOfSink[id] = publisher
                shared.sinkOfPublisher[publisher] = id
            }
            for layer in shared.keyFrameRequested.indices {
                shared.keyFrameRequested[layer] = true
                shared.lastForcedKeyFrame[layer] = -Double.infinity
            }
            return id
        }
    }

    public func detach(_ id: Int) {
        shared.withLock { shared in
            shared.sinks.removeValue(forKey: id)
            shared.pausedLayers.removeValue(forKey: id)
            if let publisher = shared.publisherOfSink.removeValue(forKey: id) {
                shared.schedule?.detach(publisher)
                shared.sinkOfPublisher.removeValue(forKey: publisher)
            }
        }
    }

    /// A key frame of one layer (simulcast: each layer answers its own PLI), or of all. A
    /// replay answers the one stream (`sink`) that asked.
    public func requestKeyFrame(layer: Int? = nil, sink: Int? = nil) {
        shared.withLock { shared in
            if shared.schedule != nil {
                if let sink, let publisher = shared.publisherOfSink[sink] { shared.schedule?.requestKeyFrame(publisher) }
                return
            }
            for index in shared.keyFrameRequested.indices where layer == nil || layer == index {
                if shared.keyFrameRequested[index] { shared.counters.keyFrameRequestsCoalesced += 1 }
                shared.keyFrameRequested[index] = true
            }
        }
    }

    /// A stream (`sink`) stops taking a layer (false) or takes it again (true: with a key
    /// frame at once, since its receivers start from one). A layer is encoded while any
    /// stream takes it.
    public func setLayer(_ layer: Int, active: Bool, sink: Int?) {
        guard let sink else { return }
        shared.withLock { shared in
            guard shared.keyFrameRequested.indices.contains(layer) else { return }
            var paused = shared.pausedLayers[sink] ?? Array(repeating: false, count: shared.keyFrameRequested.count)
            guard paused[layer] == active else { return }
            paused[layer] = !active
            shared.pausedLayers[sink] = paused
            if active {
                shared.keyFrameRequested[layer] = true
                shared.lastForcedKeyFrame[layer] = -Double.infinity
            }
        }
    }

    public func setTargetBitrate(_ bitsPerSecond: Int, layer: Int? = nil) {
        shared.withLock { shared in
            shared.requestedBitrate[min(layer ?? shared.requestedBitrate.count - 1, shared.requestedBitrate.count - 1)] = bitsPerSecond
        }
    }

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
        if let clip = machinery.clip { return replay(clip) }
        do {
            while !shared.withLock({ $0.stopped }) {
                if let source = machinery.videoSource {
                    guard let frame = try source.nextFrame() else { break }
                    let now = MediaClock.now
                    let (forceKeys, bitrates, encoders, encoded) = shared.withLock {
                        shared -> ([Bool], [Int?], [any VideoEncoding], [Bool]) in
                        shared.counters.framesCaptured += 1
                        var encoded = Array(repeating: true, count: shared.requestedBitrate.count)
                        if !shared.sinks.isEmpty {
                            for layer in encoded.indices {
                                encoded[layer] = shared.sinks.keys.contains { shared.pausedLayers[$0]?[layer] != true }
                                if !encoded[layer] { shared.counters.framesSkippedPaused += 1 }
                            }
                        }
                        let bitrates = shared.requestedBitrate
                        shared.requestedBitrate = Array(repeating: nil, count: bitrates.count)
                        var forced = Array(repeating: false, count: bitrates.count)
                        for layer in forced.indices where shared.keyFrameRequested[layer]
                            && now - shared.lastForcedKeyFrame[layer] >= Self.keyFrameRequestInterval {
                            forced[layer] = true
                            shared.keyFrameRequested[layer] = false
                            shared.lastForcedKeyFrame[layer] = now
                        }
                        return (forced, bitrates, shared.videoEncoders, encoded)
                    }
                    for (layer, encoder) in encoders.enumerated() {
                        if let bitrate = bitrates[layer] { encoder.setBitrate(bitrate) }
                        guard encoded.indices.contains(layer), encoded[layer] else { continue }
                        let input = machinery.scalers[layer] != nil ? machinery.scalers[layer]!.scale(frame) : frame
                        for encoded in try encoder.encodeFrames(input, forceKeyFrame: forceKeys[layer]) {
                            deliver(EncodedFrame(payload: encoded.data, captureTime: frame.captureTime, isKeyFrame: encoded.isKeyFrame,
                                                 audioLevel: nil, width: encoder.width, height: encoder.height, layer: layer),
                                    bitrate: layer == encoders.count - 1 ? encoder.bitrate : nil)
                        }
                    }
                } else if let source = machinery.audioSource, let encoder = machinery.audioEncoder {
                    guard let frame = try source.nextFrame() else { break }
                    let bitrate = shared.withLock { shared -> Int? in
                        shared.counters.framesCaptured += 1
                        defer { shared.requestedBitrate[0] = nil }
                        return shared.requestedBitrate[0]
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

    /// Replay: each attached stream's due frames, to that stream; sleeps until the next one
    /// (in short slices, so a stream attached meanwhile starts at once).
    private func replay(_ clip: ReplayClip) {
        while true {
            let now = MediaClock.now
            let (due, next, stopped) = shared.withLock { shared -> ([(Sink, ReplaySchedule.Due)], Double?, Bool) in
                let due = shared.schedule?.due(now: now) ?? []
                let routed = due.compactMap { item in
                    shared.sinkOfPublisher[item.publisher].flatMap { shared.sinks[$0] }.map { ($0, item) }
                }
                // Counted without copying the frame (`frames[i]` copies its bytes out of the clip).
                for (_, item) in routed where item.frameIndex < clip.frames.count {
                    shared.counters.framesEncoded += 1
                    shared.counters.bytesEncoded += clip.frames.data(at: item.frameIndex).count
                    if clip.frames.isKeyFrame(at: item.frameIndex) { shared.counters.keyFrames += 1 }
                }
                return (routed, shared.schedule?.nextDeadline, shared.stopped)
            }
            if stopped { return }
            for (sink, item) in due where item.frameIndex < clip.frames.count {
                let frame = clip.frames[item.frameIndex]
                sink(EncodedFrame(payload: frame.data, captureTime: item.captureTime, isKeyFrame: frame.isKeyFrame, audioLevel: nil,
                                  width: frame.width, height: frame.height))
            }
            Pacer.sleep(until: min(next ?? now + 0.01, MediaClock.now + 0.01))
        }
    }

    private func deliver(_ frame: EncodedFrame, bitrate: Int?) {
        let sinks = shared.withLock { shared -> Dictionary<Int, Sink>.Values in
            // Counted for the full-size layer (what a single-layer producer sends).
            if frame.layer == layerCount - 1 {
                shared.counters.framesEncoded += 1
                shared.counters.bytesEncoded += frame.payload.count
                if frame.isKeyFrame { shared.counters.keyFrames += 1 }
            }
            if let bitrate { shared.counters.targetBitrate = bitrate }
            return shared.sinks.values
        }
        for sink in sinks { sink(frame) }
    }
}
