import Foundation
import Logging
@testable import Recording
import XCTest

/// A remote member as the receive session sees it: Opus every 20 ms (48 kHz) and VP8 at 15 fps
/// (90 kHz) captured on one sender clock, sender reports every second, each stream arriving
/// with its own delay. Times are seconds on the test's manual clock.
final class FakeMember {
    var audio: String?
    var video: String?
    var audioDelay = 0.02
    var videoDelay = 0.05
    var audioReports = true
    var videoReports = true
    var keyFrameInterval = 1.0
    var videoSize = 40
    /// Capture time of the next video frame that must be a key frame (a new stream starts with one).
    private var nextKeyFrame: Double?
    /// The sender's NTP clock reads the capture time plus this.
    let ntpEpoch = 3_900_000_000.0
    var audioRtpBase: UInt32 = 0x1234_5678
    var videoRtpBase: UInt32 = 0xFFF0_0000  // wraps within the first minute
    private var nextAudio: Double?
    private var nextVideo: Double?
    private var nextAudioReport: Double?
    private var nextVideoReport: Double?

    init(audio: String? = nil, video: String? = nil) {
        self.audio = audio
        self.video = video
    }

    func audioRtp(_ capture: Double) -> UInt32 { audioRtpBase &+ UInt32(truncatingIfNeeded: Int64((capture * 48000).rounded())) }
    func videoRtp(_ capture: Double) -> UInt32 { videoRtpBase &+ UInt32(truncatingIfNeeded: Int64((capture * 90000).rounded())) }

    func ntp(_ capture: Double) -> UInt64 {
        let seconds = ntpEpoch + capture
        return UInt64(seconds) << 32 | UInt64((seconds - seconds.rounded(.down)) * 4_294_967_296)
    }

    /// Video (re)starts at this capture time with a key frame.
    func startVideo(at capture: Double) {
        nextVideo = capture
        nextKeyFrame = capture
    }

    func startAudio(at capture: Double) { nextAudio = capture }

    func stopVideo() { nextVideo = nil }
    func stopAudio() { nextAudio = nil }

    /// Delivers everything that arrives up to `end` (local time), moving the clock to each
    /// arrival and ticking the recorder every 100 ms.
    func feed(_ recorder: MemberRecorder, _ clock: ManualClock, until end: Double) {
        if nextAudio == nil, audio != nil, nextAudioReport == nil { nextAudio = clock.now }
        if nextVideo == nil, video != nil, nextVideoReport == nil { startVideo(at: clock.now) }
        nextAudioReport = nextAudioReport ?? clock.now
        nextVideoReport = nextVideoReport ?? clock.now
        var nextTick = clock.now + 0.1
        while true {
            var events: [(Double, () -> Void)] = []
            if let audio, let capture = nextAudio {
                events.append((capture + audioDelay, {
                    recorder.frame(track: audio, rtpTimestamp: self.audioRtp(capture), keyFrame: true, data: SyntheticMedia.opus,
                                   arrival: capture + self.audioDelay)
                    self.nextAudio = capture + 0.02
                }))
            }
            if let video, let capture = nextVideo {
                let key = nextKeyFrame.map { capture >= $0 - 0.001 } ?? false
                events.append((capture + videoDelay, {
                    recorder.frame(track: video, rtpTimestamp: self.videoRtp(capture), keyFrame: key,
                                   data: SyntheticMedia.vp8(key: key, size: self.videoSize), arrival: capture + self.videoDelay,
                                   width: key ? 160 : nil, height: key ? 120 : nil)
                    if key { self.nextKeyFrame = capture + self.keyFrameInterval }
                    self.nextVideo = capture + 1.0 / 15
                }))
            }
            if let audio, audioReports, nextAudio != nil, let capture = nextAudioReport {
                events.append((capture + audioDelay, {
                    recorder.senderReport(track: audio, ntp: self.ntp(capture), rtpTimestamp: self.audioRtp(capture))
                    self.nextAudioReport = capture + 1
                }))
            }
            if let video, videoReports, nextVideo != nil, let capture = nextVideoReport {
                events.append((capture + videoDelay, {
                    recorder.senderReport(track: video, ntp: self.ntp(capture), rtpTimestamp: self.videoRtp(capture))
                    self.nextVideoReport = capture + 1
                }))
            }
            events.append((nextTick, { recorder.tick() }))
            let (time, action) = events.min { $0.0 < $1.0 }!
            guard time <= end else { break }
            clock.now = max(clock.now, time)
            if time == nextTick { nextTick += 0.1 }
            action()
        }
        clock.now = end
        recorder.tick()
    }
}

final class MemberRecorderTests: XCTestCase {
    private let logger = Logger(label: "test")

    private func recorder(_ dir: URL, _ clock: ManualClock, member: String = "m") -> MemberRecorder {
        MemberRecorder(member: member, room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
    }

    /// Every track of every file has blocks (no ghost), times never go backwards per track,
    /// video entries come first.
    private func assertWellFormed(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let mkv = try MKVFile(path: path)
        for track in mkv.tracks {
            let times = mkv.blocks(track: track.number).map(\.timeMs)
            XCTAssertFalse(times.isEmpty, "\(path): track \(track.number) (\(track.codec)) has no blocks", file: file, line: line)
            XCTAssertEqual(times, times.sorted(), "\(path): track \(track.number) goes backwards", file: file, line: line)
        }
        let kinds = mkv.tracks.map(\.type)
        XCTAssertEqual(kinds, kinds.sorted(), "\(path): video entries first", file: file, line: line)
    }

    /// Camera off (a video consumer that sends nothing), no sender reports: the audio is on
    /// disk 3 s after its first frame, not held until a key frame that never comes.
    func testAudioOnlyMemberIsOnDiskWithinThreeSeconds() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        let member = FakeMember(audio: "a")
        member.audioReports = false
        member.feed(recorder, clock, until: 1002.5)
        XCTAssertEqual(try webmFiles(in: dir), [], "still waiting for sender reports")
        member.feed(recorder, clock, until: 1004.2)
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1, "audio-only file started within 3 s")
        let early = try MKVFile(path: try XCTUnwrap(files.first))
        XCTAssertEqual(early.tracks.map(\.codec), ["A_OPUS"], "a track without frames is not listed")
        XCTAssertGreaterThanOrEqual(early.blocks.count, 150, "the first 3 s are on disk before finish")
        XCTAssertEqual(early.blocks.first?.timeMs, 0)
        member.feed(recorder, clock, until: 1010)
        XCTAssertGreaterThanOrEqual(try MKVFile(path: try XCTUnwrap(files.first)).blocks.count, 400, "and it keeps growing")
        recorder.finish()
        try assertWellFormed(try XCTUnwrap(files.first))
        XCTAssertEqual(try ExternalReaders.packets(try XCTUnwrap(files.first)).times(of: "audio").count, 500)
        XCTAssertNil(recorder.status.error)
    }

    /// The camera comes on 5 s later: its track joins the same file, its first block at 5 s.
    func testLateVideoJoinsTheSameFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        let member = FakeMember(audio: "a")
        member.feed(recorder, clock, until: 1004)
        XCTAssertEqual(try webmFiles(in: dir).count, 1, "audio is written before the camera comes on")
        member.video = "v"
        member.startVideo(at: 1005)
        member.feed(recorder, clock, until: 1009)
        recorder.finish()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1, "\(files)")
        let path = try XCTUnwrap(files.first)
        try assertWellFormed(path)
        let mkv = try MKVFile(path: path)
        XCTAssertEqual(mkv.tracks.map(\.codec), ["V_VP8", "A_OPUS"])
        let videoTrack = try XCTUnwrap(mkv.tracks.first).number
        XCTAssertEqual(Double(try XCTUnwrap(mkv.blocks(track: videoTrack).first).timeMs), 5000, accuracy: 40)
        let packets = try ExternalReaders.packets(path)
        XCTAssertEqual(packets.streams, ["video", "audio"])
        XCTAssertEqual(packets.times(of: "video").first ?? -1, 5.0, accuracy: 0.04)
        XCTAssertEqual(packets.times(of: "audio").first ?? -1, 0, accuracy: 0.01, "(ffprobe takes the Opus codec delay off)")
        XCTAssertEqual(packets.times(of: "video").count, 60)
        let info = try ExternalReaders.mkvinfo(path)
        XCTAssertTrue(info.contains("V_VP8") && info.contains("A_OPUS"))
    }

    /// Audio and video of one member line up on the sender's clock even when video arrives
    /// 250 ms later than audio.
    func testAudioAndVideoAlignOnTheSendersClock() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        let member = FakeMember(audio: "a", video: "v")
        member.videoDelay = 0.25
        member.feed(recorder, clock, until: 1006)
        recorder.finish()
        let path = try XCTUnwrap(try webmFiles(in: dir).first)
        try assertWellFormed(path)
        let mkv = try MKVFile(path: path)
        let videoTrack = try XCTUnwrap(mkv.tracks.first { $0.codec == "V_VP8" }).number
        let audioTrack = try XCTUnwrap(mkv.tracks.first { $0.codec == "A_OPUS" }).number
        let video = mkv.blocks(track: videoTrack).map(\.timeMs), audio = Set(mkv.blocks(track: audioTrack).map(\.timeMs))
        // Frames captured at the same instant (every 200 ms both have one) share a time, once
        // the video's first sender report came (its first frame came before it).
        XCTAssertGreaterThan(video.count, 80)
        let shared = video.filter { $0 >= 1000 && $0 % 200 < 10 }
        XCTAssertGreaterThan(shared.count, 20)
        XCTAssertTrue(shared.allSatisfy { t in audio.contains { abs($0 - t) <= 1 } }, "\(shared.prefix(5)) vs \(audio.sorted().prefix(5))")
    }

    /// A signaling reconnect: every consumer of the member closes, new ones come. The first file
    /// is finished; the second lists exactly the new tracks (1 video + 1 audio), video first.
    func testReconnectFinishesTheFileAndTheNextListsOnlyTheNewTracks() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a1", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v1", kind: .video, clockRate: 90000)
        let first = FakeMember(audio: "a1", video: "v1")
        first.feed(recorder, clock, until: 1003)
        recorder.removeTrack(id: "a1")
        recorder.removeTrack(id: "v1")
        recorder.tick()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1)
        let finished = try MKVFile(path: try XCTUnwrap(files.first))
        XCTAssertTrue(finished.segmentSizeKnown && finished.hasCues, "the member's last track ended: the file is finished")
        // New consumer ids: the audio one sorts first.
        recorder.addTrack(id: "0-audio", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "f-video", kind: .video, clockRate: 90000)
        clock.now = 1004
        let second = FakeMember(audio: "0-audio", video: "f-video")
        second.feed(recorder, clock, until: 1008)
        recorder.finish()
        let all = try webmFiles(in: dir)
        XCTAssertEqual(all.count, 2, "\(all)")
        let next = try XCTUnwrap(all.first { $0.hasSuffix("-2.webm") })
        try assertWellFormed(next)
        XCTAssertEqual(try MKVFile(path: next).tracks.map(\.codec), ["V_VP8", "A_OPUS"])
        XCTAssertEqual(try ExternalReaders.packets(next).streams, ["video", "audio"])
        XCTAssertEqual(recorder.allPaths.count, 2)
        XCTAssertEqual(recorder.status.files, 2)
    }

    /// New consumers that arrive before the old ones close: no file ever lists a track that
    /// has nothing in it.
    func testNoFileListsATrackThatHasNoFrames() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a1", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v1", kind: .video, clockRate: 90000)
        let first = FakeMember(audio: "a1", video: "v1")
        first.feed(recorder, clock, until: 1003)
        recorder.addTrack(id: "a2", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v2", kind: .video, clockRate: 90000)
        let second = FakeMember(audio: "a2", video: "v2")
        second.feed(recorder, clock, until: 1006)
        recorder.removeTrack(id: "a1")
        recorder.removeTrack(id: "v1")
        second.feed(recorder, clock, until: 1008)
        recorder.finish()
        let files = try webmFiles(in: dir)
        XCTAssertFalse(files.isEmpty)
        for path in files { try assertWellFormed(path) }
    }

    /// A consumer whose producer paused is not waited for (neither its key frame nor its sender
    /// report), and its silence is not an error.
    func testPausedTrackIsNotWaitedFor() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        let member = FakeMember(audio: "a", video: "v")
        member.videoReports = false
        member.audioDelay = 0.1  // the video's first frame comes before the audio is ready
        member.feed(recorder, clock, until: 1000.5)
        XCTAssertEqual(try webmFiles(in: dir), [], "waiting for the video's sender report")
        recorder.setPaused(track: "v", true)
        member.stopVideo()
        member.feed(recorder, clock, until: 1001)
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1, "paused: not waited for")
        let path = try XCTUnwrap(files.first)
        XCTAssertEqual(try MKVFile(path: path).tracks.map(\.codec), ["V_VP8", "A_OPUS"], "what it sent before is kept")
        member.feed(recorder, clock, until: 1005)
        recorder.setPaused(track: "v", false)
        member.startVideo(at: 1005.5)
        member.feed(recorder, clock, until: 1007)
        recorder.finish()
        try assertWellFormed(path)
        XCTAssertNil(recorder.status.error)
        let times = try ExternalReaders.packets(path).times(of: "video")
        XCTAssertEqual(times.filter { $0 > 0.6 && $0 < 5.4 }, [], "nothing while paused")
        XCTAssertEqual(times.last ?? 0, 6.9, accuracy: 0.1, "resumed in the same file")
    }

    /// A paused track that has sent nothing at all: the file starts as soon as the others are ready.
    func testPausedTrackWithoutFramesDoesNotDelayTheFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        recorder.setPaused(track: "v", true)
        FakeMember(audio: "a").feed(recorder, clock, until: 1000.5)
        XCTAssertEqual(try webmFiles(in: dir).count, 1)
        recorder.finish()
    }

    /// The member's camera is re-produced (old consumer closed, new one added): the new video
    /// takes the old track's number in the same file, its timeline continuing.
    func testFreedSlotIsReusedInTheSameFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.addTrack(id: "v1", kind: .video, clockRate: 90000)
        let member = FakeMember(audio: "a", video: "v1")
        member.feed(recorder, clock, until: 1003)
        recorder.removeTrack(id: "v1")
        recorder.addTrack(id: "v2", kind: .video, clockRate: 90000)
        member.stopVideo()
        member.feed(recorder, clock, until: 1003.5)
        member.video = "v2"
        member.videoRtpBase = 777  // a new stream: its own RTP clock
        member.startVideo(at: 1003.5)
        member.feed(recorder, clock, until: 1006)
        recorder.finish()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1, "\(files)")
        try assertWellFormed(try XCTUnwrap(files.first))
        let mkv = try MKVFile(path: try XCTUnwrap(files.first))
        XCTAssertEqual(mkv.tracks.map(\.codec), ["V_VP8", "A_OPUS"], "the slot was reused, no new entry")
        let video = mkv.blocks(track: mkv.tracks[0].number).map(\.timeMs)
        XCTAssertTrue(video.contains { $0 > 2800 && $0 < 3000 } && video.contains { $0 >= 3500 && $0 < 3600 }, "\(video)")
        XCTAssertEqual(video.filter { $0 > 3000 && $0 < 3480 }, [])
    }

    /// A second producer of the same kind while the file is open gets its own entry.
    func testAnotherTrackJoiningGetsItsOwnEntry() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        let member = FakeMember(audio: "a")
        member.feed(recorder, clock, until: 1002)
        recorder.addTrack(id: "screen", kind: .video, clockRate: 90000)
        recorder.addTrack(id: "cam", kind: .video, clockRate: 90000)
        let screen = FakeMember(video: "screen"), cam = FakeMember(video: "cam")
        screen.feed(recorder, clock, until: 1003)
        cam.feed(recorder, clock, until: 1003)
        for _ in 0..<20 {
            let until = clock.now + 0.1
            member.feed(recorder, clock, until: until)
            screen.feed(recorder, clock, until: until)
            cam.feed(recorder, clock, until: until)
        }
        recorder.finish()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1)
        try assertWellFormed(try XCTUnwrap(files.first))
        XCTAssertEqual(try MKVFile(path: try XCTUnwrap(files.first)).tracks.map(\.codec), ["V_VP8", "V_VP8", "A_OPUS"])
    }

    /// Big frames and no sender reports: the held frames stay under the byte bound (the file
    /// starts early rather than holding more).
    func testHeldFramesAreBoundedInBytes() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "v", kind: .video, clockRate: 90000)
        let member = FakeMember(video: "v")
        member.videoReports = false
        member.videoSize = 700_000
        for step in 1...12 {
            member.feed(recorder, clock, until: 1000 + Double(step) * 0.1)
            XCTAssertLessThanOrEqual(recorder.bufferedBytes.held, 8 << 20)
            XCTAssertLessThanOrEqual(recorder.bufferedBytes.queued, 8 << 20)
        }
        XCTAssertEqual(try webmFiles(in: dir).count, 1, "about 10 MB held: started before the 3 s")
        recorder.finish()
        XCTAssertEqual(try MKVFile(path: try XCTUnwrap(try webmFiles(in: dir).first)).blocks.count, 18)
    }

    /// A member who speaks for 1.5 s and leaves before its file started: what it said is written.
    func testMemberWhoLeavesBeforeTheFileStartedIsWritten() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        let member = FakeMember(audio: "a")
        member.audioReports = false
        member.feed(recorder, clock, until: 1001.5)
        recorder.removeTrack(id: "a")
        recorder.tick()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1)
        let mkv = try MKVFile(path: try XCTUnwrap(files.first))
        XCTAssertTrue(mkv.segmentSizeKnown, "finished: the member's last track ended")
        XCTAssertEqual(mkv.blocks.count, 75, "1.5 s of 20 ms packets")
    }

    /// No room left in the file's track list: the file is finished and a new one lists both.
    func testTrackThatDoesNotFitStartsANewFile() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorderWithoutTrackRoom(dir, clock)
        let member = FakeMember(audio: "a")
        member.feed(recorder, clock, until: 1002)
        member.video = "v"
        member.startVideo(at: 1002)
        member.feed(recorder, clock, until: 1006)
        recorder.finish()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 2, "\(files)")
        let first = try MKVFile(path: try XCTUnwrap(files.first { !$0.hasSuffix("-2.webm") }))
        XCTAssertEqual(first.tracks.map(\.codec), ["A_OPUS"])
        XCTAssertTrue(first.segmentSizeKnown)
        let second = try XCTUnwrap(files.first { $0.hasSuffix("-2.webm") })
        try assertWellFormed(second)
        XCTAssertEqual(try MKVFile(path: second).tracks.map(\.codec), ["V_VP8", "A_OPUS"])
        // Nothing lost in between: audio is continuous across the two files.
        XCTAssertEqual(first.blocks.count + (try MKVFile(path: second).blocks(track: 2).count), 300)
    }

    /// A file that cannot be created is reported and tried again later, not given up.
    func testFileThatCannotBeCreatedIsTriedAgain() throws {
        let dir = try temporaryDirectory().appendingPathComponent("later")
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        let member = FakeMember(audio: "a")
        member.feed(recorder, clock, until: 1002)
        XCTAssertNotNil(recorder.status.error)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        member.feed(recorder, clock, until: 1008)
        recorder.finish()
        XCTAssertEqual(try webmFiles(in: dir).count, 1)
        XCTAssertGreaterThan(try MKVFile(path: try XCTUnwrap(try webmFiles(in: dir).first)).blocks.count, 50)
    }

    /// `a.b` and `a_b` are different members: different files, both recorded.
    func testMembersWhoseNamesSanitizeAlikeGetTheirOwnFiles() throws {
        XCTAssertNotEqual(MemberRecorder.safe("a.b"), MemberRecorder.safe("a_b"))
        let long = String(repeating: "x", count: 64)
        XCTAssertNotEqual(MemberRecorder.safe(long + "1"), MemberRecorder.safe(long + "2"))
        XCTAssertTrue(MemberRecorder.safe("a.b").hasPrefix("a_b"), "still readable")
        XCTAssertEqual(MemberRecorder.safe("1001"), "1001", "plain ids unchanged")
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let one = recorder(dir, clock, member: "a.b"), other = recorder(dir, clock, member: "a_b")
        for recorder in [one, other] { recorder.addTrack(id: "a", kind: .audio, clockRate: 48000) }
        let first = FakeMember(audio: "a"), second = FakeMember(audio: "a")
        for _ in 0..<20 {
            let until = clock.now + 0.1
            first.feed(one, clock, until: until)
            second.feed(other, clock, until: until)
        }
        one.finish()
        other.finish()
        XCTAssertNil(one.status.error)
        XCTAssertNil(other.status.error)
        XCTAssertEqual(try webmFiles(in: dir).count, 2)
    }
}
