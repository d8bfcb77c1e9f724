/// Which frame of a looped clip each attached publisher sends, and when. Pure: the caller
/// passes the time (seconds on `MediaClock`), calls `due(now:)` and sleeps until
/// `nextDeadline`. One schedule serves every publisher of a clip.
///
/// - Offsets: publisher n (the n-th attach) starts at a start point of the clip: a key frame
///   for video (the stream must start decodable), any packet for audio. The start points are
///   handed out round-robin, in an order that spreads the first publishers over the whole clip
///   (a stride near count/φ, coprime with the count), so every start point is used once before
///   any is used twice.
/// - Time: a publisher's first frame is due at its attach time; each next frame when the one
///   before has lasted its duration. Capture times keep advancing across the loop (never back),
///   so RTP timestamps run on; they are computed from the clip's prefix sums, so they do not
///   drift however long the loop runs.
/// - Late: a publisher more than `maxLateness` behind (the calling thread stalled) is re-anchored
///   at `now` instead of bursting out its backlog: its capture times jump forward, none is
///   skipped, so its decoder state stays intact.
/// - Key-frame requests (video): answered by jumping to the clip's next key frame for that
///   publisher, skipping the delta frames before it (a key frame resets every reference in VP8
///   and VP9, so the stream stays decodable and its timestamps stay continuous). libwebrtc
///   receivers sit frozen after a PLI until a key frame comes, and mediasoup asks for one each
///   time a consumer starts, so waiting for the clip's next key frame (up to a whole GOP, the
///   whole clip for a long-GOP file) would measure the clip's GOP rather than the room.
///   Requests are rate-limited per publisher: no jump within `keyFrameRequestInterval` of the
///   last key frame it sent; a request made meanwhile waits (and one key frame, natural or not,
///   answers every request made before it). Audio ignores them.
public struct ReplaySchedule: Sendable {
    /// One frame to send: clip frame `frameIndex`, stamped `captureTime`, for `publisher`.
    public struct Due: Sendable, Equatable {
        public var publisher: Int
        public var frameIndex: Int
        public var captureTime: Double

        public init(publisher: Int, frameIndex: Int, captureTime: Double) {
            self.publisher = publisher
            self.frameIndex = frameIndex
            self.captureTime = captureTime
        }
    }

    /// Where a publisher stands.
    public struct Publisher: Sendable, Equatable {
        /// The frame it started with.
        public var startIndex: Int
        /// The frame it sends next, and when.
        public var nextFrameIndex: Int
        public var nextCaptureTime: Double
        /// Times it went past the end of the clip.
        public var loops: Int
        public var framesSent: Int
        /// A key-frame request not answered yet.
        public var keyFrameWanted: Bool
        /// The capture time of the last key frame it sent.
        public var lastKeyFrameTime: Double
        /// nextCaptureTime = base + prefix[nextFrameIndex]
        fileprivate var base: Double
    }

    public struct Counters: Sendable, Equatable {
        public var framesDue = 0
        public var keyFrameRequests = 0
        /// Requests that found one already waiting.
        public var keyFrameRequestsCoalesced = 0
        /// Requests answered by jumping to a key frame, and the frames those jumps skipped.
        public var keyFrameJumps = 0
        public var framesSkipped = 0
        /// Publishers re-anchored because they fell more than `maxLateness` behind.
        public var resyncs = 0
    }

    public static let defaultKeyFrameRequestInterval = 0.2
    public static let defaultMaxLateness = 0.5

    public let durations: [Double]
    public let isKeyFrame: [Bool]
    /// Where publishers may start: the key frames (video) or every frame (audio).
    public let startIndices: [Int]
    /// Video answers key-frame requests; audio has nothing to answer them with.
    public let answersKeyFrameRequests: Bool
    public let keyFrameRequestInterval: Double
    public let maxLateness: Double
    /// One loop, in seconds.
    public let loopDuration: Double
    public private(set) var counters = Counters()

    /// prefix[i]: the time from the clip's start to frame i; prefix[count] = loopDuration.
    private let prefix: [Double]
    private let stride: Int
    private var publishers: [Int: Publisher] = [:]
    private var attaches = 0
    /// Deadlines, earliest first; entries of detached publishers are dropped when they come up,
    /// and the top is always a live one.
    private var heap = DeadlineHeap()

    /// - Parameters:
    ///   - durations: each frame's duration in seconds (≥ 0, their sum > 0).
    ///   - keyFrameIndices: video: the key frames (ascending, at least one), where publishers
    ///     start and key-frame requests jump to. nil for audio: start anywhere, no requests.
    public init(durations: [Double], keyFrameIndices: [Int]?,
                keyFrameRequestInterval: Double = Self.defaultKeyFrameRequestInterval,
                maxLateness: Double = Self.defaultMaxLateness) {
        precondition(!durations.isEmpty && durations.allSatisfy { $0 >= 0 && $0.isFinite }, "frame durations are finite and not negative")
        var prefix = [0.0]
        prefix.reserveCapacity(durations.count + 1)
        for duration in durations { prefix.append(prefix[prefix.count - 1] + duration) }
        precondition(prefix[durations.count] > 0, "a clip lasts more than 0 s")
        self.durations = durations
        self.prefix = prefix
        loopDuration = prefix[durations.count]
        if let keyFrameIndices {
            let keys = keyFrameIndices.filter { durations.indices.contains($0) }
            precondition(!keys.isEmpty, "a video clip has a key frame")
            var isKeyFrame = [Bool](repeating: false, count: durations.count)
            for key in keys { isKeyFrame[key] = true }
            self.isKeyFrame = isKeyFrame
            startIndices = isKeyFrame.indices.filter { isKeyFrame[$0] }
            answersKeyFrameRequests = true
        } else {
            isKeyFrame = [Bool](repeating: false, count: durations.count)
            startIndices = Array(durations.indices)
            answersKeyFrameRequests = false
        }
        stride = Self.spreadingStride(startIndices.count)
        self.keyFrameRequestInterval = keyFrameRequestInterval
        self.maxLateness = maxLateness
    }

    /// The schedule of a clip: its durations, and its key frames for video.
    public init(clip: ReplayClip, keyFrameRequestInterval: Double = Self.defaultKeyFrameRequestInterval,
                maxLateness: Double = Self.defaultMaxLateness) {
        self.init(durations: clip.frames.durations, keyFrameIndices: clip.kind == .video ? clip.keyFrameIndices : nil,
                  keyFrameRequestInterval: keyFrameRequestInterval, maxLateness: maxLateness)
    }

    /// A new publisher, its first frame (a start point) due at `now`. Ids are never reused.
    public mutating func attach(now: Double) -> Int {
        let id = attaches
        let start = startIndices[(attaches % startIndices.count) * stride % startIndices.count]
        attaches += 1
        publishers[id] = Publisher(startIndex: start, nextFrameIndex: start, nextCaptureTime: now, loops: 0, framesSent: 0,
                                   keyFrameWanted: false, lastKeyFrameTime: -.infinity, base: now - prefix[start])
        heap.push(now, id)
        return id
    }

    public mutating func detach(_ id: Int) {
        publishers[id] = nil
        dropDetachedTop()
    }

    /// Asks for a key frame on this publisher (a PLI or FIR from its consumer's side).
    public mutating func requestKeyFrame(_ id: Int) {
        guard answersKeyFrameRequests, publishers[id] != nil else { return }
        counters.keyFrameRequests += 1
        if publishers[id]!.keyFrameWanted { counters.keyFrameRequestsCoalesced += 1 }
        publishers[id]!.keyFrameWanted = true
    }

    /// The frames whose time has come (deadline at or before `now`), earliest first, each
    /// publisher's in sequence.
    public mutating func due(now: Double) -> [Due] {
        var out: [Due] = []
        while let top = heap.top, top.deadline <= now {
            heap.pop()
            let id = top.id
            guard var p = publishers[id] else { continue }
            if now - p.nextCaptureTime > maxLateness {
                p.base = now - prefix[p.nextFrameIndex]
                p.nextCaptureTime = now
                counters.resyncs += 1
            }
            if p.keyFrameWanted, p.nextCaptureTime - p.lastKeyFrameTime >= keyFrameRequestInterval {
                jumpToNextKeyFrame(&p)
            }
            let index = p.nextFrameIndex
            out.append(Due(publisher: id, frameIndex: index, captureTime: p.nextCaptureTime))
            counters.framesDue += 1
            p.framesSent += 1
            if isKeyFrame[index] {
                p.lastKeyFrameTime = p.nextCaptureTime
                p.keyFrameWanted = false
            }
            p.nextFrameIndex += 1
            if p.nextFrameIndex == durations.count {
                p.nextFrameIndex = 0
                p.base += loopDuration
                p.loops += 1
            }
            p.nextCaptureTime = p.base + prefix[p.nextFrameIndex]
            publishers[id] = p
            heap.push(p.nextCaptureTime, id)
        }
        dropDetachedTop()
        return out
    }

    /// When the next frame is due; nil without publishers.
    public var nextDeadline: Double? { heap.top?.deadline }

    public var publisherCount: Int { publishers.count }

    public func publisher(_ id: Int) -> Publisher? { publishers[id] }

    /// The next key frame at or after the publisher's position (wrapping past the end); the
    /// capture time does not move, the frames in between are skipped.
    private mutating func jumpToNextKeyFrame(_ p: inout Publisher) {
        guard !isKeyFrame[p.nextFrameIndex] else { return }
        var index = p.nextFrameIndex
        var skipped = 0
        repeat {
            index += 1
            skipped += 1
            if index == durations.count {
                index = 0
                p.loops += 1
            }
        } while !isKeyFrame[index]
        p.base = p.nextCaptureTime - prefix[index]
        p.nextFrameIndex = index
        counters.keyFrameJumps += 1
        counters.framesSkipped += skipped
    }

    private mutating func dropDetachedTop() {
        while let top = heap.top, publishers[top.id] == nil { heap.pop() }
    }

    /// A stride coprime with `count`, near count/φ: n * stride mod count visits every start
    /// point once per round, the first ones far apart.
    static func spreadingStride(_ count: Int) -> Int {
        guard count > 2 else { return 1 }
        let target = Int((Double(count) / 1.618_033_988_75).rounded())
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        for distance in 0..<count {
            for candidate in [target - distance, target + distance] where candidate > 0 && candidate < count && gcd(candidate, count) == 1 {
                return candidate
            }
        }
        return 1
    }
}

/// A binary min-heap of (deadline, publisher id), ties broken by id.
private struct DeadlineHeap: Sendable {
    private var items: [(deadline: Double, id: Int)] = []

    var top: (deadline: Double, id: Int)? { items.first }

    mutating func push(_ deadline: Double, _ id: Int) {
        items.append((deadline, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, Self.less(items[left], items[smallest]) { smallest = left }
            if right < items.count, Self.less(items[right], items[smallest]) { smallest = right }
            guard smallest != parent else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }

    private static func less(_ a: (deadline: Double, id: Int), _ b: (deadline: Double, id: Int)) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id)
    }
}
