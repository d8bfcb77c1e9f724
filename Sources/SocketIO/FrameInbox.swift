import Foundation

/// The frames between the socket's event loop and the client actor. Bounded, and never
/// silently lossy: a signaling frame cannot be dropped without breaking the protocol, so when
/// the consumer falls `maxFrames` frames or `maxBytes` of text behind, the inbox queues one
/// `.failed` and takes nothing more; the client then ends the link.
/// Unchecked because of its counters; sound because every one of them is read and written
/// under `lock` only (the stream and its continuation are Sendable themselves).
final class FrameInbox: @unchecked Sendable {
    enum Frame: Sendable, Equatable {
        case text(String)
        case binary
        /// The link broke (a limit, TLS, I/O); the socket is closing.
        case failed(SocketIOError)
        case closed

        var isData: Bool {
            switch self {
            case .text, .binary: return true
            case .failed, .closed: return false
            }
        }
    }

    /// The actor handles a frame in microseconds: a thousand waiting, or 8 MiB, means a
    /// flooding server or a stuck process, not a burst.
    static let maxFrames = 1000
    static let maxBytes = 8 << 20

    let frames: AsyncStream<Frame>
    private let continuation: AsyncStream<Frame>.Continuation
    private let lock = NSLock()
    private var pendingFrames = 0
    private var pendingBytes = 0
    private var overflowed = false
    private let maxFrames: Int
    private let maxBytes: Int

    init(maxFrames: Int = FrameInbox.maxFrames, maxBytes: Int = FrameInbox.maxBytes) {
        self.maxFrames = maxFrames
        self.maxBytes = maxBytes
        // The counting below keeps the stream within maxFrames + 2 (the frames, one .failed,
        // one .closed): the policy is a second fence that never drops in practice.
        (frames, continuation) = AsyncStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingOldest(maxFrames + 2))
    }

    /// Queues a frame from the socket; false once the inbox has overflowed (the caller should
    /// stop reading and close the socket).
    @discardableResult
    func yield(_ frame: Frame) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !overflowed else { return false }
        let size = Self.size(of: frame)
        if frame.isData, pendingFrames >= maxFrames || pendingBytes + size > maxBytes {
            overflowed = true
            continuation.yield(.failed(.malformedPacket(
                "the server sent frames faster than they could be handled (more than \(maxFrames) frames or \(maxBytes >> 20) MiB waiting)")))
            return false
        }
        pendingFrames += 1
        pendingBytes += size
        continuation.yield(frame)
        return true
    }

    /// The consumer took `frame` off the stream.
    func consumed(_ frame: Frame) {
        lock.lock()
        pendingFrames -= 1
        pendingBytes -= Self.size(of: frame)
        lock.unlock()
    }

    func finish() {
        continuation.finish()
    }

    private static func size(of frame: Frame) -> Int {
        if case .text(let text) = frame { return text.utf8.count }
        return 0
    }
}
