import Media

/// A producer of raw video frames. `nextFrame` blocks until the next frame is due (sources
/// pace themselves at their frame rate) and returns nil at the end of a finite source.
/// Runs on the capture thread of its pipeline, never on the cooperative pool.
public protocol VideoSource: AnyObject {
    var width: Int { get }
    var height: Int { get }
    var fps: Int { get }
    /// A line for logs: what was asked and what the device granted.
    var summary: String { get }
    func start() throws
    func nextFrame() throws -> VideoFrame?
    func stop()
}

/// A producer of 20 ms audio frames at 48 kHz; same threading and pacing rules.
public protocol AudioSource: AnyObject {
    var channels: Int { get }
    var summary: String { get }
    func start() throws
    func nextFrame() throws -> AudioFrame?
    func stop()
}

/// Where media comes from, as `--audio-source` / `--video-source` say it.
public enum SourceURI: Sendable, Equatable, CustomStringConvertible {
    case synthetic(variant: String?)
    case file(String)
    case alsa(String)
    case v4l2(String)
    /// A pre-encoded clip (IVF VP8/VP9, Ogg Opus) sent as it is, looped: for `nacho bots`.
    case replay(String)

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let scheme = parts.first ?? ""
        let rest = parts.count > 1 ? parts[1] : nil
        switch scheme {
        case "synthetic": self = .synthetic(variant: rest)
        case "file":
            guard let rest, !rest.isEmpty else { throw MediaError.source("file: needs a path, e.g. file:clip.y4m") }
            self = .file(rest)
        case "alsa": self = .alsa(rest.flatMap { $0.isEmpty ? nil : $0 } ?? "default")
        case "v4l2": self = .v4l2(rest.flatMap { $0.isEmpty ? nil : $0 } ?? "/dev/video0")
        case "replay":
            guard let rest, !rest.isEmpty else { throw MediaError.source("replay: needs a path, e.g. replay:clip.ivf or replay:clip.ogg") }
            self = .replay(rest)
        default:
            throw MediaError.source("unknown source \(text.debugDescription): use alsa:DEVICE, v4l2:PATH, synthetic, file:PATH or replay:PATH")
        }
    }

    public var description: String {
        switch self {
        case .synthetic(let variant): return variant.map { "synthetic:\($0)" } ?? "synthetic"
        case .file(let path): return "file:\(path)"
        case .alsa(let device): return "alsa:\(device)"
        case .v4l2(let path): return "v4l2:\(path)"
        case .replay(let path): return "replay:\(path)"
        }
    }
}

/// Sleeps until a monotonic time (the pacing of synthetic, file and replay sources).
public enum Pacer {
    public static func sleep(until deadline: Double) {
        let delay = deadline - MediaClock.now
        guard delay > 0 else { return }
        var request = timespec(tv_sec: Int(delay), tv_nsec: Int((delay - Double(Int(delay))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}

#if canImport(Glibc)
import Glibc
#endif
