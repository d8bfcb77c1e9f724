@testable import Recording
import XCTest

/// The recording timeline on its own: placing frames (sender reports, arrival, RTP wrap) and
/// the mux queue (order, delay, bounds).
final class RecordingTimelineTests: XCTestCase {
    /// 3 900 000 000 s: a plausible NTP time.
    private let ntpEpoch = 3_900_000_000.0

    func testArrivalAnchoringFollowsTheRtpClockAcrossTheWrap() {
        var timeline = RecordingTimeline()
        timeline.addTrack("v", clockRate: 90000)
        let base: UInt32 = 0xFFFF_0000
        var times: [Double] = []
        for k in 0..<60 {
            let jitter = [0.0, 0.02, -0.01, 0.015][k % 4]
            times.append(timeline.localTime(track: "v", rtpTimestamp: base &+ UInt32(k * 6000), arrival: 100 + Double(k) / 15 + jitter))
        }
        for (k, time) in times.enumerated() {
            XCTAssertEqual(time, 100 + Double(k) / 15, accuracy: 1e-9, "RTP time from the first arrival, across the 32-bit wrap")
        }
    }

    func testSenderReportsAlignTracksOnTheSendersClock() {
        var timeline = RecordingTimeline()
        timeline.addTrack("a", clockRate: 48000)
        timeline.addTrack("v", clockRate: 90000)
        // Sender reports at capture time 0: NTP epoch, RTP bases.
        timeline.senderReport(track: "a", ntpSeconds: ntpEpoch, rtpTimestamp: 1000)
        timeline.senderReport(track: "v", ntpSeconds: ntpEpoch, rtpTimestamp: 50_000)
        // Audio arrives 20 ms after capture, video 250 ms.
        let audio = timeline.localTime(track: "a", rtpTimestamp: 1000 + 48000, arrival: 10 + 1 + 0.02)
        let video = timeline.localTime(track: "v", rtpTimestamp: 50_000 + 90000, arrival: 10 + 1 + 0.25)
        XCTAssertEqual(audio, 11.02, accuracy: 1e-6, "the first placed frame ties the sender's clock to ours")
        XCTAssertEqual(video, audio, accuracy: 1e-6, "captured together, placed together")
        XCTAssertTrue(timeline.hasSenderReport("v"))
    }

    /// A track that joins later lands where it arrived on the shared time base, placed by
    /// arrival or by the sender's clock alike.
    func testLateTracksLandAtTheirPlace() {
        var timeline = RecordingTimeline()
        timeline.addTrack("a", clockRate: 48000)
        timeline.senderReport(track: "a", ntpSeconds: ntpEpoch, rtpTimestamp: 0)
        let first = timeline.localTime(track: "a", rtpTimestamp: 0, arrival: 50.02)
        timeline.enqueue(slot: 1, time: first, arrival: 50.02, keyFrame: true, data: [1])
        XCTAssertEqual(timeline.release(now: 51).map(\.timestampMs), [0])
        // Video without sender reports at 55 s.
        timeline.addTrack("v", clockRate: 90000)
        let video = timeline.localTime(track: "v", rtpTimestamp: 123, arrival: 55.02)
        timeline.enqueue(slot: 2, time: video, arrival: 55.02, keyFrame: true, data: [2])
        // A screen share with sender reports, captured at 6 s on the sender's clock.
        timeline.addTrack("s", clockRate: 90000)
        timeline.senderReport(track: "s", ntpSeconds: ntpEpoch + 6, rtpTimestamp: 777)
        let screen = timeline.localTime(track: "s", rtpTimestamp: 777, arrival: 56.3)
        timeline.enqueue(slot: 3, time: screen, arrival: 56.3, keyFrame: true, data: [3])
        XCTAssertEqual(timeline.releaseAll().map(\.timestampMs), [5000, 6000])
    }

    func testMuxQueueOrdersFramesAndHoldsThemTheMuxDelay() {
        var timeline = RecordingTimeline()
        timeline.enqueue(slot: 2, time: 0.10, arrival: 0.12, keyFrame: true, data: [0xA1])
        timeline.enqueue(slot: 1, time: 0.05, arrival: 0.35, keyFrame: true, data: [0xB1])
        timeline.enqueue(slot: 2, time: 0.20, arrival: 0.22, keyFrame: true, data: [0xA2])
        timeline.enqueue(slot: 1, time: 0.05, arrival: 0.36, keyFrame: false, data: [0xB2])
        XCTAssertEqual(timeline.release(now: 0.3).map(\.data), [])
        XCTAssertEqual(timeline.release(now: 0.36).map(\.data), [[0xB1], [0xB2]], "in time order; equal times keep their order")
        XCTAssertEqual(timeline.release(now: 0.45).map(\.data), [[0xA1]])
        XCTAssertEqual(timeline.release(now: 0.5).map(\.timestampMs), [150])
        XCTAssertEqual(timeline.queuedFrames, 0)
    }

    func testFrameIsWrittenAtMostMaxHoldAfterItsArrival() {
        var timeline = RecordingTimeline()
        timeline.enqueue(slot: 1, time: 0, arrival: 0, keyFrame: true, data: [1])
        XCTAssertEqual(timeline.release(now: 0.3).count, 1)
        timeline.enqueue(slot: 1, time: 4, arrival: 0.1, keyFrame: true, data: [2])  // placed in the future
        XCTAssertEqual(timeline.release(now: 1.0).count, 0)
        XCTAssertEqual(timeline.release(now: 1.1).map(\.timestampMs), [4000])
    }

    func testQueueIsBoundedInBytes() {
        var timeline = RecordingTimeline()
        timeline.maxQueuedBytes = 1000
        for k in 0..<10 { timeline.enqueue(slot: 1, time: 5 + Double(k) * 0.01, arrival: 5, keyFrame: true, data: [UInt8](repeating: 0, count: 300)) }
        let out = timeline.release(now: 5)
        XCTAssertEqual(out.count, 7, "the oldest go out")
        XCTAssertLessThanOrEqual(timeline.queuedBytes, 1000)
        XCTAssertEqual(out.map(\.timestampMs), [0, 10, 20, 30, 40, 50, 60])
    }

    /// The first sender report moves a track back in time: its frames keep their order
    /// (taking the previous time) rather than go backwards.
    func testTrackTimeNeverGoesBackwards() {
        var timeline = RecordingTimeline()
        timeline.addTrack("a", clockRate: 48000)
        timeline.senderReport(track: "a", ntpSeconds: ntpEpoch, rtpTimestamp: 0)
        _ = timeline.localTime(track: "a", rtpTimestamp: 0, arrival: 10)  // offset: arrival − capture = 10
        timeline.addTrack("v", clockRate: 90000)
        let first = timeline.localTime(track: "v", rtpTimestamp: 0, arrival: 10.3)  // no report yet: arrival
        timeline.senderReport(track: "v", ntpSeconds: ntpEpoch, rtpTimestamp: 0)
        let second = timeline.localTime(track: "v", rtpTimestamp: 6000, arrival: 10.35)  // captured at 1/15 s
        let later = timeline.localTime(track: "v", rtpTimestamp: 90000, arrival: 11.3)
        XCTAssertEqual(first, 10.3, accuracy: 1e-9)
        XCTAssertEqual(second, 10.3, accuracy: 1e-6, "not 10.067: that would put it before the frame it follows")
        XCTAssertEqual(later, 11.0, accuracy: 1e-6, "then on the sender's clock")
    }

    /// A slot that a new track takes over goes on from where the old one ended.
    func testSlotTimeNeverGoesBackwards() {
        var timeline = RecordingTimeline()
        timeline.enqueue(slot: 1, time: 0, arrival: 0, keyFrame: true, data: [1])
        timeline.enqueue(slot: 1, time: 2, arrival: 2, keyFrame: true, data: [2])
        _ = timeline.releaseAll()
        timeline.enqueue(slot: 1, time: 1.5, arrival: 3, keyFrame: true, data: [3])
        XCTAssertEqual(timeline.releaseAll().map(\.timestampMs), [2000])
    }

    func testImplausibleTimesFallBackToArrival() {
        var timeline = RecordingTimeline()
        timeline.addTrack("v", clockRate: 90000)
        XCTAssertEqual(timeline.localTime(track: "v", rtpTimestamp: 0, arrival: 20), 20)
        // The sender restarted its stream: RTP jumps by an hour.
        XCTAssertEqual(timeline.localTime(track: "v", rtpTimestamp: 90000 * 3600, arrival: 21), 21, accuracy: 1e-9)
        XCTAssertEqual(timeline.localTime(track: "v", rtpTimestamp: 90000 * 3601, arrival: 22.01), 22, accuracy: 1e-9, "re-anchored there")
    }

    func testNewFileStartsAtZero() {
        var timeline = RecordingTimeline()
        timeline.addTrack("a", clockRate: 48000)
        let t = timeline.localTime(track: "a", rtpTimestamp: 0, arrival: 5)
        timeline.enqueue(slot: 1, time: t, arrival: 5, keyFrame: true, data: [1])
        timeline.enqueue(slot: 1, time: t + 1, arrival: 6, keyFrame: true, data: [1])
        XCTAssertEqual(timeline.releaseAll().map(\.timestampMs), [0, 1000])
        timeline.startFile()
        let next = timeline.localTime(track: "a", rtpTimestamp: 48000 * 10, arrival: 30)
        XCTAssertEqual(next, 30, "anchors start over with the file")
        timeline.enqueue(slot: 1, time: next, arrival: 30, keyFrame: true, data: [1])
        XCTAssertEqual(timeline.releaseAll().map(\.timestampMs), [0])
    }
}
