/// What a replay clip may hold. A clip is in memory for the life of the process, so its size
/// is bounded by what real clips need rather than by the file alone: tiny frames would
/// otherwise cost far more in bookkeeping than in bytes, and a burst of frames at one instant
/// would all come due at once.
public enum ReplayLimits {
    /// Files larger than this are refused rather than read into memory. Offsets into a clip's
    /// bytes fit in 32 bits.
    public static let maxFileSize = 1 << 30
    /// Frames (video) or packets (audio) per clip: two hours of 20 ms Opus packets, an hour of
    /// 100 fps video (a 10-minute 30 fps clip has 18,000 frames, a 10-minute Opus clip 30,000
    /// packets). Each costs about 32 bytes of bookkeeping besides its bytes.
    public static let maxFrameCount = 360_000
    /// The shortest a video frame may last (1000 frames a second): a punctual sender then has at
    /// most one frame per millisecond per publisher, and a late one at most what its lateness
    /// allows. (Opus packets last at least 2.5 ms.)
    public static let minFrameDuration = 0.001
}
