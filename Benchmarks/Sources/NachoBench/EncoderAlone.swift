import Capture
import Codecs
import Foundation
import Media
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `nacho-bench encode --video FILE.y4m --audio FILE.wav [--warmup S] [--window S]`: the
/// encoder-alone side of `Scripts/bench send`. The same frames `nacho join --video-source
/// file:FILE.y4m --audio-source file:FILE.wav` sends, read by the same file sources at their
/// own pace (30 fps, 20 ms), encoded by the encoders `nacho join` makes (VP8Encoder with its
/// default threads and speed, CBR at the bitrate given, a key frame every 4 s and first;
/// Opus mono, FEC on, DTX off) on one thread per kind as SendPipeline does; nothing else.
///
/// Prints JSON lines (`emit`), figures over the window after the warm-up:
/// - "encoder alone" video / audio: CPU seconds spent inside the encode calls (this thread's
///   clock around `encode`) per second of media: the encoder's cost, the goal's denominator;
/// - "source read": CPU seconds inside the sources' `nextFrame` (file reads, copies) per second;
/// - "process": the whole process's CPU seconds per second (getrusage), for the load check;
/// - kb/s and frames the encoders produced.
func runEncoderAlone(_ arguments: [String]) throws {
    func value(_ flag: String) -> String? {
        arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }
    guard let videoPath = value("--video"), let audioPath = value("--audio") else {
        throw EncoderAloneError.usage
    }
    let warmup = Double(value("--warmup") ?? "") ?? 5
    let window = Double(value("--window") ?? "") ?? 20
    let videoBitrate = Int(value("--video-bitrate") ?? "") ?? 800_000
    let audioBitrate = Int(value("--audio-bitrate") ?? "") ?? 32_000

    let videoSource = try Y4MFileSource(path: videoPath)
    let audioSource = try WAVFileSource(path: audioPath)
    // As MediaSetup does for `nacho join`.
    let video = try VP8Encoder(width: videoSource.width, height: videoSource.height, fps: videoSource.fps, bitrate: videoBitrate,
                               keyFrameInterval: videoSource.fps * 4)
    let audio = try OpusEncoder(channels: audioSource.channels, bitrate: audioBitrate, inbandFEC: true, dtx: false)

    let start = MediaClock.now
    let windowStart = start + warmup, windowEnd = windowStart + window
    var firstVideo = true
    let videoLoop = EncodingLoop(name: "encode-video", window: windowStart..<windowEnd) {
        let read = threadCPUTime()
        guard let frame = try videoSource.nextFrame() else { return nil }
        let encodeStart = threadCPUTime()
        let packets = try video.encode(frame, forceKeyFrame: firstVideo)
        let done = threadCPUTime()
        firstVideo = false
        return EncodingLoop.Step(bytes: packets.reduce(0) { $0 + $1.data.count }, isKeyFrame: packets.contains { $0.isKeyFrame },
                                 sourceSeconds: encodeStart - read, encodeSeconds: done - encodeStart, due: frame.captureTime)
    }
    let audioLoop = EncodingLoop(name: "encode-audio", window: windowStart..<windowEnd) {
        let read = threadCPUTime()
        guard let frame = try audioSource.nextFrame() else { return nil }
        let encodeStart = threadCPUTime()
        let payload = try audio.encode(frame)
        let done = threadCPUTime()
        return EncodingLoop.Step(bytes: payload.count, isKeyFrame: false, sourceSeconds: encodeStart - read,
                                 encodeSeconds: done - encodeStart, due: frame.captureTime)
    }
    try videoSource.start()
    try audioSource.start()
    let kinds = DispatchGroup()
    videoLoop.start(kinds)
    audioLoop.start(kinds)

    Pacer.sleep(until: windowStart)
    let processBefore = processCPUTime()
    Pacer.sleep(until: windowEnd)
    let processAfter = processCPUTime()
    kinds.wait()

    for (kind, figures) in [("video", videoLoop.figures.withLock { $0 }), ("audio", audioLoop.figures.withLock { $0 })] {
        if let failure = figures.failure { throw EncoderAloneError.failed(failure) }
        emit("encoder alone, \(kind)", "encoder", figures.encodeSeconds / window, "CPU s per s")
        emit("source read, \(kind)", "encoder", figures.sourceSeconds / window, "CPU s per s")
        emit("encoded, \(kind)", "encoder", Double(figures.bytes) * 8 / window / 1000, "kb/s")
        emit("encoded, \(kind)", "encoder", Double(figures.frames), "frames")
        emit("encoded, \(kind)", "encoder", Double(figures.keyFrames), "key frames")
    }
    emit("process", "encoder", (processAfter - processBefore) / window, "CPU s per s")
    emit("window", "encoder", window, "s")
}

/// One kind's source and encoder on a thread of its own, as a SendPipeline runs them; counts
/// the steps that start in the window. Unchecked Sendable: after `start` only its thread calls
/// `step` (the source and encoder are not thread-safe); the figures are behind a mutex.
final class EncodingLoop: @unchecked Sendable {
    struct Step {
        var bytes: Int
        var isKeyFrame: Bool
        var sourceSeconds: Double
        var encodeSeconds: Double
        /// When the source made the frame due (its capture time).
        var due: Double
    }

    let name: String
    let window: Range<Double>
    let step: () throws -> Step?
    let figures = Mutex(EncodeFigures())

    init(name: String, window: Range<Double>, step: @escaping () throws -> Step?) {
        self.name = name
        self.window = window
        self.step = step
    }

    func start(_ group: DispatchGroup) {
        group.enter()
        let thread = Thread { [self] in
            defer { group.leave() }
            do {
                while MediaClock.now < window.upperBound {
                    guard let result = try step() else { break }
                    guard window.contains(result.due) else { continue }
                    figures.withLock { figures in
                        figures.frames += 1
                        figures.bytes += result.bytes
                        figures.keyFrames += result.isKeyFrame ? 1 : 0
                        figures.sourceSeconds += result.sourceSeconds
                        figures.encodeSeconds += result.encodeSeconds
                    }
                }
            } catch {
                figures.withLock { $0.failure = "\(name): \(error)" }
            }
        }
        thread.name = name
        thread.start()
    }
}

struct EncodeFigures {
    var frames = 0
    var keyFrames = 0
    var bytes = 0
    var sourceSeconds = 0.0
    var encodeSeconds = 0.0
    var failure: String?
}

enum EncoderAloneError: Error, CustomStringConvertible {
    case usage
    case failed(String)

    var description: String {
        switch self {
        case .usage: return "usage: nacho-bench encode --video FILE.y4m --audio FILE.wav [--warmup S] [--window S]"
        case .failed(let why): return "encode failed: \(why)"
        }
    }
}

/// The process's CPU time (user + system, every thread) in seconds.
func processCPUTime() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
