/// Where a member's recording stands with its file (`MemberRecording`): frames are held until
/// a file starts, written while it is open, and dropped for a while after a file could not
/// be created.
///
///     idle ──a frame──> holding ──ready, or waited 3 s──> open ──the file ends──> idle
///                          │                           (last track gone, finish, no room
///                    cannot create                      for a track, a new H264 format)
///                          v
///                   waitingToReopen ──a frame after retryOpenDelay──> idle
enum FileLifecycle {
    /// No file, and no frame since the last one ended.
    case idle
    /// No file yet: frames are held since the first came at `since` (the recorder's clock).
    case holding(since: Double)
    /// A file is being written.
    case open(OpenFile)
    /// A file could not be created: frames are dropped until `at`.
    case waitingToReopen(at: Double)

    var file: OpenFile? {
        if case .open(let file) = self { return file }
        return nil
    }

    /// The state without what it carries (tests).
    enum Phase: Equatable {
        case idle, holding, open, writesFailing, waitingToReopen
    }

    var phase: Phase {
        switch self {
        case .idle: return .idle
        case .holding: return .holding
        case .open(let file): return file.writes == .succeeding ? .open : .writesFailing
        case .waitingToReopen: return .waitingToReopen
        }
    }
}

/// The file being written: its writer, what its track numbers carry, and whether writing works.
struct OpenFile {
    /// A track number of the file, and the live track writing to it (nil: free).
    struct Slot {
        var number: UInt8
        var codec: WebMWriter.Codec
        var track: String?
    }

    /// A write error is logged once; recording goes on, and "writing again" is logged once a
    /// cluster reached the disk after it.
    enum Writes: Equatable {
        case succeeding
        /// Since a write failed when the file had this size.
        case failing(sizeAtFailure: Int64)
    }

    var writer: WebMWriter
    /// When the file started (the recorder's clock).
    var openedAt: Double
    var slots: [Slot]
    var writes = Writes.succeeding
    /// A new H264 format went on in this file (logged once per file).
    var formatChangeDeferred = false
}
