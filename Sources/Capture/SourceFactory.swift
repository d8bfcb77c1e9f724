import Media

/// Opens the source a URI names, or says in one line why it cannot.
public enum SourceFactory {
    public static func video(_ uri: SourceURI, width: Int, height: Int, fps: Int) throws -> any VideoSource {
        switch uri {
        case .synthetic:
            return SyntheticVideoSource(width: width, height: height, fps: fps)
        case .file(let path):
            return try Y4MFileSource(path: path)
        case .v4l2(let path):
            return try V4L2CaptureSource(path: path, width: width, height: height, fps: fps)
        case .alsa:
            throw MediaError.source("video source \(uri): ALSA is an audio source; use v4l2:PATH, synthetic or file:PATH.y4m")
        case .replay:
            throw replayIsNotRaw("video source \(uri)")
        }
    }

    public static func audio(_ uri: SourceURI, channels: Int) throws -> any AudioSource {
        switch uri {
        case .synthetic(let variant):
            return SyntheticAudioSource(channels: channels, speechLike: variant == "speech")
        case .file(let path):
            return try WAVFileSource(path: path)
        case .alsa(let device):
            return try ALSACaptureSource(device: device, channels: channels)
        case .v4l2:
            throw MediaError.source("audio source \(uri): V4L2 is a video source; use alsa:DEVICE, synthetic or file:PATH.wav")
        case .replay:
            throw replayIsNotRaw("audio source \(uri)")
        }
    }

    /// Replay clips are already encoded: they feed a send pipeline directly (ReplayClip,
    /// ReplaySchedule), never an encoder through a raw-frame source.
    private static func replayIsNotRaw(_ what: String) -> MediaError {
        MediaError.source("\(what): a replay clip is already encoded and goes to a send pipeline (SendPipeline(replay:)), not through an encoder")
    }
}
