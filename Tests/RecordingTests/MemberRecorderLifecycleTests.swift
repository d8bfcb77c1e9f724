import Foundation
import Logging
@testable import Recording
import Synchronization
import XCTest

/// A disk that fills up and has room again: the system call behind a recorder's writes.
final class FillableDisk: Sendable {
    private let isFull = Atomic(false)

    var full: Bool {
        get { isFull.load(ordering: .acquiring) }
        set { isFull.store(newValue, ordering: .releasing) }
    }

    var write: @Sendable (Int32, UnsafeRawBufferPointer, Int64) -> Int {
        { fd, buffer, offset in self.full ? -Int(ENOSPC) : WebMWriter.positionedWrite(fd, buffer, offset) }
    }
}

/// What a logger was given, for tests that count messages. Unchecked because `entries` is a
/// var; sound because it is read and written only under `lock` (an NSLock: the recorder's
/// queue logs while the test reads, and ThreadSanitizer sees it).
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String)] = []

    var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }

    func count(_ level: Logger.Level, containing text: String) -> Int {
        lock.withLock { entries.filter { $0.level == level && $0.message.contains(text) }.count }
    }

    private func record(_ level: Logger.Level, _ message: String) {
        lock.withLock { entries.append((level, message)) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel = Logger.Level.trace
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.record(event.level, event.message.description)
        }
    }
}

/// The file lifecycle (`FileLifecycle`) through its transitions: holding frames, open, writes
/// failing and working again, rotation, a file that cannot be created.
final class MemberRecorderLifecycleTests: XCTestCase {
    private func recorder(_ dir: URL, _ clock: ManualClock, logger: Logger = Logger(label: "test")) -> MemberRecorder {
        MemberRecorder(member: "m", room: "r", directory: dir, overwrite: false, logger: logger, clock: clock.function)
    }

    /// A recorder in a new folder whose files are written through `disk` and that logs to `log`.
    private func recorderOnAFillableDisk() throws -> (dir: URL, clock: ManualClock, log: CapturedLog, disk: FillableDisk,
                                                      recorder: MemberRecorder) {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let log = CapturedLog()
        let disk = FillableDisk()
        let recorder = recorder(dir, clock, logger: log.logger)
        recorder.useSystemWrite(disk.write)
        return (dir, clock, log, disk, recorder)
    }

    /// Idle, holding (no sender report: the 3 s wait), open, writes failing on a full disk,
    /// open again once a cluster reached the disk; the error and the recovery are logged once,
    /// and the file is whole with the lost second as its only gap.
    func testFullDiskThenRoomAgain() throws {
        let (dir, clock, log, disk, recorder) = try recorderOnAFillableDisk()
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        XCTAssertEqual(recorder.phase, .idle)
        let member = FakeMember(audio: "a")
        member.audioReports = false
        member.feed(recorder, clock, until: 1001)
        XCTAssertEqual(recorder.phase, .holding)
        member.feed(recorder, clock, until: 1004)
        XCTAssertEqual(recorder.phase, .open)
        disk.full = true
        member.feed(recorder, clock, until: 1007)
        XCTAssertEqual(recorder.phase, .writesFailing)
        XCTAssertEqual(recorder.status.error?.contains("the disk is full"), true)
        disk.full = false
        member.feed(recorder, clock, until: 1010)
        XCTAssertEqual(recorder.phase, .open)
        recorder.finish()
        XCTAssertEqual(recorder.phase, .idle)
        XCTAssertEqual(log.count(.error, containing: "the disk is full"), 1)
        XCTAssertEqual(log.count(.notice, containing: "writing again"), 1)
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1)
        let mkv = try MKVFile(path: try XCTUnwrap(files.first))
        XCTAssertTrue(mkv.segmentSizeKnown)
        let times = mkv.blocks.map(\.timeMs)
        XCTAssertEqual(times, times.sorted())
        let gaps = zip(times, times.dropFirst()).filter { $1 - $0 > 20 }
        XCTAssertEqual(gaps.count, 1, "one gap: the clusters lost while the disk was full \(gaps)")
        XCTAssertLessThan(times.count, 450, "9 s of 20 ms packets, some of them lost")
        XCTAssertGreaterThan(times.last ?? 0, 8500, "written up to the end after the disk had room again")
    }

    /// Write failures belong to the file: a member's next file starts out writing, and its own
    /// failure is logged again.
    func testTheNextFileStartsWithoutTheFailuresOfTheLast() throws {
        let (_, clock, log, disk, recorder) = try recorderOnAFillableDisk()
        recorder.addTrack(id: "a1", kind: .audio, clockRate: 48000)
        let first = FakeMember(audio: "a1")
        first.feed(recorder, clock, until: 1001)
        disk.full = true
        first.feed(recorder, clock, until: 1004)
        XCTAssertEqual(recorder.phase, .writesFailing)
        recorder.removeTrack(id: "a1")
        XCTAssertEqual(recorder.phase, .idle, "the member left: the file is finished")
        recorder.addTrack(id: "a2", kind: .audio, clockRate: 48000)
        let second = FakeMember(audio: "a2")
        second.feed(recorder, clock, until: 1005)
        XCTAssertEqual(recorder.phase, .open, "a new file, whose writes have not failed")
        second.feed(recorder, clock, until: 1008)
        XCTAssertEqual(recorder.phase, .writesFailing)
        XCTAssertEqual(log.count(.error, containing: "the disk is full"), 2, "once per file")
        disk.full = false
        recorder.finish()
        XCTAssertEqual(recorder.status.files, 2)
    }

    /// A track that does not fit in the open file ends it; the next file holds frames until
    /// every track that was flowing is ready (here: the video, which has no sender report,
    /// for the 3 s wait), then opens.
    func testRotationHoldsForTheTracksThatWereFlowing() throws {
        let dir = try temporaryDirectory()
        let clock = ManualClock()
        let recorder = recorderWithoutTrackRoom(dir, clock)
        let member = FakeMember(audio: "a")
        member.videoReports = false
        member.feed(recorder, clock, until: 1002)
        XCTAssertEqual(recorder.phase, .open)
        XCTAssertEqual(recorder.status.files, 1)
        member.video = "v"
        member.startVideo(at: 1002)
        member.feed(recorder, clock, until: 1004)
        XCTAssertEqual(recorder.phase, .holding, "rotated, waiting for the video's sender report")
        XCTAssertEqual(recorder.status.files, 1)
        member.feed(recorder, clock, until: 1005.5)
        XCTAssertEqual(recorder.phase, .open)
        XCTAssertEqual(recorder.status.files, 2)
        recorder.finish()
        XCTAssertEqual(try webmFiles(in: dir).count, 2)
    }

    /// A file that cannot be created: frames are dropped for `retryOpenDelay`, then the next
    /// frame starts holding again and the file opens. Audio every 20 ms, each frame handled
    /// before the clock moves on (the failure's time decides when the delay ends).
    func testReopenAfterAFileCouldNotBeCreated() throws {
        let dir = try temporaryDirectory().appendingPathComponent("later")
        let clock = ManualClock()
        let recorder = recorder(dir, clock)
        recorder.addTrack(id: "a", kind: .audio, clockRate: 48000)
        recorder.senderReport(track: "a", ntp: 3_900_000_000 << 32, rtpTimestamp: 0)
        var rtp: UInt32 = 0
        func audio(until end: Double) {
            while clock.now < end - 0.001 {
                recorder.frame(track: "a", rtpTimestamp: rtp, keyFrame: true, data: SyntheticMedia.opus, arrival: clock.now)
                recorder.tick()
                rtp &+= 960
                clock.now += 0.02
            }
        }
        audio(until: 1001)
        XCTAssertEqual(recorder.phase, .waitingToReopen, "failed at 1000 s")
        XCTAssertNotNil(recorder.status.error)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        audio(until: 1004.9)
        XCTAssertEqual(recorder.phase, .waitingToReopen, "the delay is not over")
        XCTAssertEqual(recorder.bufferedBytes.held, 0, "frames meanwhile are dropped")
        audio(until: 1006)
        XCTAssertEqual(recorder.phase, .open)
        recorder.finish()
        let files = try webmFiles(in: dir)
        XCTAssertEqual(files.count, 1)
        let blocks = try MKVFile(path: try XCTUnwrap(files.first)).blocks.count
        XCTAssertEqual(Double(blocks), (1006 - 1005) / 0.02, accuracy: 1, "what came from 1005 s on")
    }
}
