import Capture

/// A clip from fuzzed bytes (`ReplayClip`, IVF or Ogg Opus) scheduled over fuzzed time
/// (`ReplaySchedule`, a fake clock): publishers attach, detach and ask for key frames while
/// time advances in steps.
///
/// Input: a mode byte (bit 0: recompute Ogg page CRCs), the clip as a length-prefixed chunk,
/// then operations until the end, each an op byte and its argument: 0 attach; 1 detach
/// publisher (u8); 2 key-frame request for publisher (u8); 3 advance u16 ms; 4 advance u8
/// tenths of a millisecond. After every operation the frames due are taken.
/// Invariants: a bad clip throws `ReplayFormatError`; a clip read has 1 to
/// `ReplayLimits.maxFrameCount` frames lasting at least `minFrameDuration` (video) or 2.5 ms
/// (audio), and holds no more than its input plus 32 bytes a frame, at most a frame per 2
/// bytes of input. Each publisher starts at a start point and gets its frames in order (the
/// next one, or a key frame it jumped to), with capture times rising, and no more in one call
/// than its lateness allows (`maxLateness` over the shortest frame, plus two).
public enum ReplayHarness {
    // Enough to exercise every path; more only multiplies the frames due per input (up to
    // maxLateness / 2.5 ms per publisher per step).
    static let maxPublishers = 8
    static let maxOperations = 200

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let mode = input.u8()
        let bytes = mode & 1 != 0 ? ReplaySeedFiles.fixingOggCRCs(input.chunk()) : input.chunk()
        guard let clip = parsedOrRefused(refusing: ReplayFormatError.self, { try ReplayClip(parsing: bytes, path: "fuzz") }) else { return }
        let frames = clip.frames
        require(!frames.isEmpty && frames.count <= ReplayLimits.maxFrameCount, "\(frames.count) frames")
        require(frames.count * 2 <= bytes.count, "\(frames.count) frames from \(bytes.count) bytes")
        require(frames.memoryFootprint <= bytes.count + frames.count * 32,
                "a clip of \(bytes.count) bytes and \(frames.count) frames holds \(frames.memoryFootprint) bytes")
        let shortest = frames.durations.min() ?? 0
        require(shortest >= (clip.kind == .video ? ReplayLimits.minFrameDuration : 0.0025) && clip.duration.isFinite,
                "shortest frame \(shortest) s, clip \(clip.duration) s")
        require(clip.kind == .audio || (clip.keyFrameIndices.first == 0 && frames.isKeyFrame(at: 0)), "a video clip starts with a key frame")

        var schedule = ReplaySchedule(clip: clip)
        let perCall = Int(schedule.maxLateness / shortest) + 2
        var now = 0.0
        var attached: [Int] = []
        var last: [Int: (index: Int, time: Double)] = [:]
        var operations = 0
        while !input.isAtEnd, operations < maxOperations {
            operations += 1
            switch input.u8() % 5 {
            case 0:
                if attached.count < maxPublishers { attached.append(schedule.attach(now: now)) }
            case 1:
                let pick = Int(input.u8())
                if !attached.isEmpty {
                    let id = attached.remove(at: pick % attached.count)
                    schedule.detach(id)
                    last[id] = nil
                }
            case 2:
                let pick = Int(input.u8())
                if !attached.isEmpty { schedule.requestKeyFrame(attached[pick % attached.count]) }
            case 3: now += Double(input.u16()) / 1000
            default: now += Double(input.u8()) / 10000
            }
            var counts: [Int: Int] = [:]
            for due in schedule.due(now: now) {
                let id = due.publisher
                require(attached.contains(id), "a frame for publisher \(id), which is not attached")
                require(frames.indices.contains(due.frameIndex), "frame \(due.frameIndex) of \(frames.count)")
                require(due.captureTime <= now, "frame due at \(due.captureTime), now \(now)")
                if let previous = last[id] {
                    let next = (previous.index + 1) % frames.count
                    require(due.frameIndex == next || (clip.kind == .video && frames.isKeyFrame(at: due.frameIndex)),
                            "publisher \(id): frame \(due.frameIndex) after \(previous.index)")
                    require(due.captureTime > previous.time, "publisher \(id): capture time \(due.captureTime) after \(previous.time)")
                } else {
                    require(schedule.startIndices.contains(due.frameIndex), "publisher \(id) starts at frame \(due.frameIndex)")
                }
                last[id] = (due.frameIndex, due.captureTime)
                counts[id, default: 0] += 1
            }
            for (id, count) in counts {
                require(count <= perCall, "publisher \(id): \(count) frames in one call (at most \(perCall))")
            }
            if let deadline = schedule.nextDeadline { require(deadline > now, "a deadline \(deadline) left behind at \(now)") }
        }
    }

    /// An input for `run`: the clip, then the operations (op, argument bytes).
    public static func input(clip: [UInt8], fixOggCRCs: Bool = false, operations: [[UInt8]]) -> [UInt8] {
        var writer = FuzzInputWriter()
        writer.u8(fixOggCRCs ? 1 : 0)
        writer.chunk(clip)
        for operation in operations { writer.raw(operation) }
        return writer.bytes
    }

    static let script: [[UInt8]] = [[0], [3, 0, 40], [0], [2, 1], [3, 0, 20], [4, 9], [3, 3, 0], [1, 0], [3, 0, 100], [0], [3, 0x10, 0]]

    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let key = ReplaySeedFiles.vp8KeyFrame(width: 64, height: 48), inter = ReplaySeedFiles.vp8InterFrame()
        return [
            input(clip: ReplaySeedFiles.ivf([(0, key), (1, inter), (1, inter), (2, inter), (3, key), (4, inter)]), operations: script),
            input(clip: ReplaySeedFiles.oggOpus(ReplaySeedFiles.opusPackets), fixOggCRCs: true, operations: script),
        ]
    }
}
