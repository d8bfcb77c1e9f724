import Foundation
import Logging

/// The recorders of one run: one per remote member, made on first use, all writing in one
/// directory. No two of them ever get the same file (also across a member's later files),
/// and an existing file is never replaced unless `overwrite`: a taken name gets the next
/// free `-n` suffix (logged) instead of failing the member.
///
/// Unchecked because `recorders` is a var; sound because it is read and written only under
/// `lock` (an NSLock: event loop threads contend for it, and ThreadSanitizer sees it), and
/// everything else is an immutable `let` of a Sendable type.
public final class RecorderRegistry: @unchecked Sendable {
    public let directory: URL
    private let lock = NSLock()
    private var recorders: [String: MemberRecorder] = [:]
    private let room: String
    private let names: RecordingPaths
    private let logger: Logger
    private let clock: @Sendable () -> Double

    /// Creates the directory if needed; throws `.cannotCreate` or `.notWritable` for it.
    /// - Parameter clock: monotonic seconds, the clock of the receive path's arrival times.
    public init(directory: URL, room: String, overwrite: Bool, logger: Logger,
                clock: @escaping @Sendable () -> Double = WebMWriter.uptime) throws {
        self.directory = directory
        self.room = room
        self.logger = logger
        self.clock = clock
        names = RecordingPaths(directory: directory, overwrite: overwrite)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RecordingError.cannotCreate(directory.path, (error as NSError).localizedDescription)
        }
        guard access(directory.path, W_OK) == 0 else {
            throw RecordingError.notWritable(directory.path, String(cString: strerror(errno)).lowercased())
        }
    }

    /// The member's recorder (always one; optional to fit `MediaReceiver`'s callback).
    public func recorder(for member: String) -> MemberRecorder? {
        lock.withLock {
            if let existing = recorders[member] { return existing }
            let recorder = MemberRecorder(member: member, room: room, names: names, logger: logger, clock: clock)
            recorders[member] = recorder
            return recorder
        }
    }

    /// Every recorder so far, by member.
    public var all: [MemberRecorder] { lock.withLock { recorders.values.sorted { $0.member < $1.member } } }

    /// Finishes every recorder's file (blocks until written).
    public func finishAll() {
        for recorder in all { recorder.finish() }
    }
}
