@testable import Capture
import XCTest

final class ReplayScheduleTests: XCTestCase {
    /// A punctual pipeline thread: `due` called at every deadline up to `time`.
    private func run(_ schedule: inout ReplaySchedule, until time: Double) -> [ReplaySchedule.Due] {
        var out: [ReplaySchedule.Due] = []
        while let deadline = schedule.nextDeadline, deadline <= time { out += schedule.due(now: deadline) }
        return out
    }

    /// A 3 s clip at 15 fps with a key frame every 15 frames, like the ffmpeg one.
    private func video(keyFrameRequestInterval: Double = 0.25) -> ReplaySchedule {
        ReplaySchedule(durations: [Double](repeating: 1.0 / 15, count: 45), keyFrameIndices: [0, 15, 30],
                       keyFrameRequestInterval: keyFrameRequestInterval)
    }

    func testOffsetsAreKeyFramesSpreadRoundRobin() {
        var schedule = ReplaySchedule(durations: [Double](repeating: 1.0 / 15, count: 150), keyFrameIndices: Array(stride(from: 0, to: 150, by: 15)))
        let ids = (0..<25).map { _ in schedule.attach(now: 0) }
        XCTAssertEqual(ids, Array(0..<25), "ids in attach order")
        let starts = ids.map { schedule.publisher($0)!.startIndex }
        XCTAssertTrue(starts.allSatisfy { $0 % 15 == 0 }, "every publisher starts on a key frame: \(starts)")
        XCTAssertEqual(Set(starts.prefix(10)).count, 10, "the first ten use the ten key frames: \(starts)")
        XCTAssertEqual(Array(starts[10..<20]), Array(starts[0..<10]), "then round again")
        XCTAssertGreaterThanOrEqual(abs(starts[1] - starts[0]), 45, "the first two far apart in the clip: \(starts)")
        for id in ids { XCTAssertEqual(schedule.publisher(id)!.nextFrameIndex, schedule.publisher(id)!.startIndex) }
        // Their first frames, all due at once: key frames, one per publisher.
        let first = schedule.due(now: 0)
        XCTAssertEqual(first.map(\.publisher), ids)
        XCTAssertEqual(first.map(\.frameIndex), starts)
        XCTAssertTrue(first.allSatisfy { $0.captureTime == 0 })
    }

    func testAudioOffsetsSpreadOverTime() {
        var schedule = ReplaySchedule(durations: [Double](repeating: 0.02, count: 150), keyFrameIndices: nil)
        let starts = (0..<8).map { _ in
            let id = schedule.attach(now: 0)
            return schedule.publisher(id)!.startIndex
        }
        XCTAssertEqual(Set(starts).count, 8, "\(starts)")
        let sorted = starts.sorted()
        let gaps = zip(sorted.dropFirst(), sorted).map { $0 - $1 } + [sorted[0] + 150 - sorted[7]]
        XCTAssertLessThanOrEqual(gaps.max()!, 2 * 150 / 8, "spread over the whole clip: \(starts)")
        XCTAssertGreaterThanOrEqual(gaps.min()!, 4, "none within 80 ms of another: \(starts)")
        XCTAssertEqual(schedule.startIndices.count, 150, "audio may start anywhere")
    }

    func testSpreadingStrideVisitsEveryStartPoint() {
        for count in 1...60 {
            let stride = ReplaySchedule.spreadingStride(count)
            XCTAssertEqual(Set((0..<count).map { $0 * stride % count }).count, count, "count \(count), stride \(stride)")
        }
    }

    func testTimestampsContinueAcrossTheLoop() {
        var schedule = ReplaySchedule(durations: [0.1, 0.05, 0.2, 0.15], keyFrameIndices: [0, 2])
        let id = schedule.attach(now: 10)
        var sent: [ReplaySchedule.Due] = []
        var now = 10.0
        while now < 11.5 {
            sent += schedule.due(now: now)
            now += 0.01
        }
        XCTAssertEqual(Array(sent.prefix(6).map(\.frameIndex)), [0, 1, 2, 3, 0, 1], "loops")
        XCTAssertTrue(sent.allSatisfy { $0.publisher == id })
        let durations = [0.1, 0.05, 0.2, 0.15]
        for (a, b) in zip(sent, sent.dropFirst()) {
            XCTAssertEqual(b.captureTime - a.captureTime, durations[a.frameIndex], accuracy: 1e-9, "paced by the durations, never back")
        }
        XCTAssertEqual(sent.count, 12)
        XCTAssertEqual(sent.last!.captureTime, 11.35, accuracy: 1e-9)
        XCTAssertEqual(schedule.publisher(id)!.loops, 3)
        XCTAssertEqual(schedule.counters.framesDue, sent.count)
    }

    func testPacingByDurations() {
        var schedule = video()
        let a = schedule.attach(now: 100)
        XCTAssertEqual(schedule.nextDeadline, 100)
        XCTAssertEqual(schedule.due(now: 99.99), [])
        XCTAssertEqual(schedule.due(now: 100), [.init(publisher: a, frameIndex: 0, captureTime: 100)])
        XCTAssertEqual(schedule.nextDeadline!, 100 + 1.0 / 15, accuracy: 1e-12)
        XCTAssertEqual(schedule.due(now: 100.06), [], "not before its time")
        let b = schedule.attach(now: 100.06)
        let both = schedule.due(now: 100.07)
        XCTAssertEqual(both.map(\.publisher), [b, a], "earliest first")
        XCTAssertEqual(both.map(\.frameIndex), [schedule.publisher(b)!.startIndex, 1])
        // A frame of no duration goes out with the next one.
        var zero = ReplaySchedule(durations: [0.1, 0, 0.1], keyFrameIndices: [0])
        _ = zero.attach(now: 0)
        XCTAssertEqual(zero.due(now: 0).map(\.frameIndex), [0])
        XCTAssertEqual(zero.due(now: 0.1).map(\.frameIndex), [1, 2])
        XCTAssertEqual(zero.due(now: 0.1).map(\.frameIndex), [])
    }

    func testLateThreadIsReanchoredNotBurst() {
        var schedule = video()
        let id = schedule.attach(now: 0)
        // A little late: the backlog goes out, stamped as scheduled.
        XCTAssertEqual(schedule.due(now: 0.21).map(\.frameIndex), [0, 1, 2, 3])
        XCTAssertEqual(schedule.counters.resyncs, 0)
        // Stalled for 5 s: the next frame (none skipped) is stamped now, the rest paced from it.
        let late = schedule.due(now: 5.3)
        XCTAssertEqual(late, [.init(publisher: id, frameIndex: 4, captureTime: 5.3)])
        XCTAssertEqual(schedule.counters.resyncs, 1)
        XCTAssertEqual(schedule.nextDeadline!, 5.3 + 1.0 / 15, accuracy: 1e-12)
    }

    func testNoDriftOverLongRuns() {
        var schedule = ReplaySchedule(durations: [Double](repeating: 0.02, count: 151), keyFrameIndices: nil)
        let id = schedule.attach(now: 1000)
        var count = 0
        var last = 0.0
        while count < 151 * 200 {
            for due in schedule.due(now: schedule.nextDeadline!) {
                count += 1
                last = due.captureTime
            }
        }
        XCTAssertEqual(last, 1000 + Double(count - 1) * 0.02, accuracy: 1e-9)
        XCTAssertEqual(schedule.publisher(id)!.loops, 200)
    }

    func testKeyFrameRequestJumpsToTheNextKeyFrame() {
        var schedule = video()
        let id = schedule.attach(now: 0)
        let tick = 1.0 / 15
        XCTAssertEqual(run(&schedule, until: 4.5 * tick).map(\.frameIndex), [0, 1, 2, 3, 4])
        schedule.requestKeyFrame(id)
        XCTAssertTrue(schedule.publisher(id)!.keyFrameWanted)
        let jump = schedule.due(now: 5 * tick + 1e-9)
        XCTAssertEqual(jump.map(\.frameIndex), [15], "the clip's next key frame")
        XCTAssertEqual(jump[0].captureTime, 5 * tick, accuracy: 1e-12, "at the time frame 5 was due: timestamps continue")
        XCTAssertFalse(schedule.publisher(id)!.keyFrameWanted)
        XCTAssertEqual(schedule.counters.keyFrameJumps, 1)
        XCTAssertEqual(schedule.counters.framesSkipped, 10)
        XCTAssertEqual(schedule.due(now: 6 * tick + 1e-9).map(\.frameIndex), [16], "then on from there")
        XCTAssertEqual(schedule.publisher(id)!.nextCaptureTime, 7 * tick, accuracy: 1e-12)

        // Rate-limited: within 0.25 s of the last key frame a request waits (and coalesces).
        schedule.requestKeyFrame(id)
        schedule.requestKeyFrame(id)
        XCTAssertEqual(schedule.counters.keyFrameRequestsCoalesced, 1)
        XCTAssertEqual(schedule.due(now: 8 * tick + 1e-9).map(\.frameIndex), [17, 18], "0.2 s after the key frame: not yet")
        XCTAssertEqual(schedule.due(now: 9 * tick + 1e-9).map(\.frameIndex), [30], "0.27 s after it: jump")
        XCTAssertEqual(schedule.counters.keyFrameJumps, 2)
        XCTAssertEqual(schedule.counters.keyFrameRequests, 3)

        // From after the last key frame the next one is the clip's first: the jump loops.
        XCTAssertEqual(run(&schedule, until: 20 * tick + 1e-9).map(\.frameIndex), Array(31...41))
        schedule.requestKeyFrame(id)
        XCTAssertEqual(schedule.due(now: 21 * tick + 1e-9).map(\.frameIndex), [0])
        XCTAssertEqual(schedule.publisher(id)!.loops, 1)
        XCTAssertEqual(schedule.counters.framesSkipped, 10 + 11 + 3)
    }

    func testKeyFrameRequestsAnsweredByTheNaturalKeyFrame() {
        var schedule = video(keyFrameRequestInterval: 10)
        let id = schedule.attach(now: 0)
        let tick = 1.0 / 15
        XCTAssertEqual(run(&schedule, until: 13.5 * tick).count, 14)
        schedule.requestKeyFrame(id)
        XCTAssertEqual(schedule.due(now: 14 * tick + 1e-9).map(\.frameIndex), [14], "rate-limited, no jump")
        XCTAssertEqual(schedule.due(now: 15 * tick + 1e-9).map(\.frameIndex), [15])
        XCTAssertFalse(schedule.publisher(id)!.keyFrameWanted, "the natural key frame answered it")
        XCTAssertEqual(schedule.counters.keyFrameJumps, 0)
        // A request when the next frame is a key frame anyway skips nothing.
        var fresh = video()
        let other = fresh.attach(now: 0)
        fresh.requestKeyFrame(other)
        XCTAssertEqual(fresh.due(now: 0).map(\.frameIndex), [fresh.publisher(other)!.startIndex])
        XCTAssertEqual(fresh.counters.framesSkipped, 0)
    }

    func testAudioIgnoresKeyFrameRequests() {
        var schedule = ReplaySchedule(durations: [Double](repeating: 0.02, count: 50), keyFrameIndices: nil)
        let id = schedule.attach(now: 0)
        let start = schedule.publisher(id)!.startIndex
        schedule.requestKeyFrame(id)
        XCTAssertEqual(schedule.due(now: 0.05).map(\.frameIndex), [start, start + 1, start + 2].map { $0 % 50 })
        XCTAssertEqual(schedule.counters, ReplaySchedule.Counters(framesDue: 3))
    }

    func testDetach() {
        var schedule = video()
        let a = schedule.attach(now: 0), b = schedule.attach(now: 0.01), c = schedule.attach(now: 0.02)
        XCTAssertEqual(schedule.publisherCount, 3)
        schedule.detach(a)
        XCTAssertNil(schedule.publisher(a))
        XCTAssertEqual(schedule.nextDeadline, 0.01, "the detached one's deadline is gone")
        XCTAssertEqual(Set(schedule.due(now: 1).map(\.publisher)), [b, c])
        schedule.requestKeyFrame(a)  // no longer there: nothing happens
        schedule.detach(a)
        XCTAssertEqual(schedule.counters.keyFrameRequests, 0)
        schedule.detach(b)
        schedule.detach(c)
        XCTAssertNil(schedule.nextDeadline)
        XCTAssertEqual(schedule.due(now: 2), [])
        let d = schedule.attach(now: 3)
        XCTAssertEqual(d, 3, "ids are not reused")
        XCTAssertEqual(schedule.publisher(d)!.startIndex, schedule.startIndices[(3 * ReplaySchedule.spreadingStride(3)) % 3],
                       "and the round-robin goes on")
    }

    func testScheduleOfARealClip() throws {
        let clip = try ReplayClip.shared(contentsOf: ReplayFixtures.clip("vp8.ivf"))
        var schedule = ReplaySchedule(clip: clip)
        let ids = (0..<3).map { _ in schedule.attach(now: 0) }
        XCTAssertEqual(Set(ids.map { schedule.publisher($0)!.startIndex }), Set(clip.keyFrameIndices))
        let due = run(&schedule, until: 3.5)
        XCTAssertEqual(due.count, 3 * 53, "3.5 s at 15 fps, from 0 s on: 53 frames each")
        for id in ids {
            let mine = due.filter { $0.publisher == id }
            XCTAssertTrue(clip.frames[mine[0].frameIndex].isKeyFrame)
            XCTAssertEqual(mine.last!.captureTime, 52.0 / 15, accuracy: 1e-9)
        }
    }
}
