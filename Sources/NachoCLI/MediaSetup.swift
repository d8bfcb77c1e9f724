import Capture
import Logging
import Codecs
import Media
import ORTC
import Participant

/// Opens the sources and encoders `join` sends from, reporting every missing device.
enum MediaSetup {
    static func producers(media: MediaOptions, settings: ResolvedSettings, logger: Logger) throws -> [OriginSender.Producer] {
        var producers: [OriginSender.Producer] = []
        var problems: [String] = []
        var usageOnly = true
        if !media.noAudio {
            do {
                producers.append(try audio(uri: media.audioSource ?? settings.audio.source ?? "alsa:default", settings: settings, logger: logger))
            } catch {
                problems.append("\(error)")
                if (error as? NachoFailure)?.code != .usage { usageOnly = false }
            }
        }
        if !media.noVideo {
            do {
                let codec = try (media.videoCodec ?? settings.video.codec).map(Self.videoCodec)
                producers.append(try video(uri: media.videoSource ?? settings.video.source ?? "v4l2:/dev/video0", settings: settings,
                                           codec: codec, simulcast: media.simulcast || settings.video.simulcast == true, logger: logger))
            } catch {
                problems.append("\(error)")
                if (error as? NachoFailure)?.code != .usage { usageOnly = false }
            }
        }
        if !problems.isEmpty {
            throw NachoFailure(usageOnly ? .usage : .mediaFailure, problems.joined(separator: "\n"))
        }
        return producers
    }

    /// Opens a source; a file the user named (file:, replay:) that is missing or malformed is a
    /// usage error, like a bad flag, where a device that fails is a media failure.
    static func opening<Source>(_ uri: SourceURI, _ open: () throws -> Source) throws -> Source {
        do {
            return try open()
        } catch let error as MediaError {
            switch uri {
            case .file, .replay: throw NachoFailure(.usage, error.description)
            case .synthetic, .alsa, .v4l2: throw error
            }
        }
    }

    /// An audio producer from a source URI, encoder settings from the config's `audio`.
    static func audio(uri: String, settings: ResolvedSettings, logger: Logger) throws -> OriginSender.Producer {
        let audio = settings.audio
        let source = try SourceURI(parsing: uri)
        if case .replay(let path) = source {
            let clip = try opening(source) { try ReplayClip.shared(contentsOf: path) }
            guard clip.kind == .audio else { throw MediaError.source("audio source \(uri): \(clip.summary) is not audio") }
            return .init(kind: .audio, pipeline: SendPipeline(replay: clip, logger: logger), maxBitrate: audio.bitrate ?? 32_000,
                         appData: "mic")
        }
        let channels = audio.channels ?? 1
        guard (1...2).contains(channels) else { throw MediaError.source("audio channels must be 1 or 2") }
        let bitrate = audio.bitrate ?? 32_000
        let audioSource = try opening(source) { try SourceFactory.audio(source, channels: channels) }
        try audioSource.start()
        let encoder = try OpusEncoder(channels: audioSource.channels, bitrate: bitrate, inbandFEC: audio.fec ?? true, dtx: audio.dtx ?? false)
        return .init(kind: .audio, pipeline: SendPipeline(audio: audioSource, encoder: encoder, bitrate: bitrate, logger: logger),
                     maxBitrate: bitrate, appData: "mic")
    }

    /// A video producer from a source URI, encoder settings from the config's `video`.
    static func video(uri: String, settings: ResolvedSettings, codec: String?, simulcast: Bool, logger: Logger) throws -> OriginSender.Producer {
        let video = settings.video
        let width = video.width ?? 640, height = video.height ?? 480, fps = video.fps ?? 30
        guard width >= 16, height >= 16, width <= 4096, height <= 4096, (1...120).contains(fps) else {
            throw MediaError.source("video size \(width)x\(height) at \(fps) fps is out of range")
        }
        let bitrate = video.bitrate ?? 800_000
        let sourceURI = try SourceURI(parsing: uri)
        if case .replay(let path) = sourceURI {
            let clip = try opening(sourceURI) { try ReplayClip.shared(contentsOf: path) }
            guard clip.kind == .video else { throw MediaError.source("video source \(uri): \(clip.summary) is not video") }
            return .init(kind: .video, pipeline: SendPipeline(replay: clip, logger: logger), maxBitrate: bitrate, appData: "camera",
                         codec: codec ?? clip.codec.mimeType)
        }
        let source = try opening(sourceURI) { try SourceFactory.video(sourceURI, width: width, height: height, fps: fps) }
        try source.start()
        let encoderSettings = VideoEncoderSettings(width: source.width, height: source.height, fps: source.fps, bitrate: bitrate,
                                                   keyFrameInterval: video.keyframeInterval ?? source.fps * 4)
        logger.info("video source", metadata: ["source": "\(source.summary)"])
        let pipeline = try SendPipeline(video: source, settings: encoderSettings, simulcast: simulcast ? [4, 2, 1] : [1], logger: logger)
        return .init(kind: .video, pipeline: pipeline, maxBitrate: bitrate, appData: "camera", codec: codec)
    }

    /// `vp8`, `vp9` (or `video/VP9`) as a MIME type.
    static func videoCodec(_ name: String) throws -> String {
        switch name.lowercased() {
        case "vp8", "video/vp8": return MimeType.vp8
        case "vp9", "video/vp9": return MimeType.vp9
        default: throw MediaError.codec("video codec \(name.debugDescription): nacho sends vp8 or vp9")
        }
    }
}
