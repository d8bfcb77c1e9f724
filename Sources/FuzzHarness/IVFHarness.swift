import Capture

/// A whole IVF file into `IVFReader`.
///
/// Input: the file's bytes.
/// Invariants: malformed input throws `ReplayFormatError`; a file read has 1 to
/// `ReplayLimits.maxFrameCount` frames, each non-empty and within `maxFrameSize`, pts never
/// going back, key frames (and only they) with a picture size; the frames are ranges of the
/// input (no more bytes than it has), so memory follows the input's size.
public enum IVFHarness {
    public static func run(_ data: [UInt8]) {
        guard let ivf = parsedOrRefused(refusing: ReplayFormatError.self, { try IVFReader(parsing: data) }) else { return }
        check(ivf, inputSize: data.count)
    }

    static func check(_ ivf: IVFReader, inputSize: Int) {
        let frames = ivf.frames
        require(frames.count <= inputSize / 13, "\(frames.count) frames from \(inputSize) bytes (12-byte header and a byte each at least)")
        var previous: UInt64 = 0
        frames.checkRanges(of: "frame", maxSize: IVFReader.maxFrameSize, inputSize: inputSize) { index, _ in
            let frame = frames[index]
            require(frame.pts >= previous, "frame \(index): pts \(frame.pts) after \(previous)")
            previous = frame.pts
            if frame.isKeyFrame {
                require((frame.width ?? 0) > 0 && (frame.height ?? 0) > 0, "key frame \(index) without a size")
            } else {
                require(frame.width == nil && frame.height == nil, "delta frame \(index) with a size")
            }
        }
        require(ivf.timebaseRate > 0 && ivf.timebaseScale > 0 && ivf.secondsPerTick.isFinite, "timebase \(ivf.timebaseScale)/\(ivf.timebaseRate)")
    }

    /// Small IVF files built here: VP8 key and delta frames with equal, rising and jumping pts.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        [
            ReplaySeedFiles.ivf([(0, ReplaySeedFiles.vp8KeyFrame(width: 64, height: 48)), (1, ReplaySeedFiles.vp8InterFrame()),
                                 (1, ReplaySeedFiles.vp8InterFrame()), (3, ReplaySeedFiles.vp8KeyFrame(width: 32, height: 32))]),
            ReplaySeedFiles.ivf([(0, ReplaySeedFiles.vp8InterFrame()), (9, ReplaySeedFiles.vp8KeyFrame(width: 16, height: 16))], rate: 1000),
        ]
    }
}
