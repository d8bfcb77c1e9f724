import Foundation
import Logging
import MediaFormat

/// The work of a `MemberRecorder` (see there for what it does), without its queue and timer:
/// the member's tracks, the frames held before a file starts, the timeline and the file
/// (`FileLifecycle`). Its owner calls it from one thread at a time.
struct MemberRecording {
    // What a track carries (`MediaCodec`): VP8, VP9 and Opus make WebM files; a member with
    // H264 gets a Matroska file (`.mkv`), as WebM takes no H264.
    private struct Track {
        var id: String
        var kind: MediaKind
        var format: MediaCodec
        var clockRate: Int
        var channels: Int
        var paused = false
        /// Waited for by the next file: sent a frame while no file was open, or was in the
        /// file that had no room for another track.
        var sentFrames = false
        var width = 0
        var height = 0
        /// H264: the avcC of its parameter sets (from its key frames).
        var avcC: [UInt8]?
        /// Its number in the open file.
        var slot: UInt8?

        var codec: WebMWriter.Codec {
            switch format {
            case .opus: return .opus(channels: 2)
            case .vp8: return .vp8(width: width, height: height)
            case .vp9: return .vp9(width: width, height: height)
            case .h264: return .h264(width: width, height: height, avcC: avcC ?? [])
            }
        }

        /// Video can be listed in a file once a key frame told its size (and H264 its avcC).
        var isDecodable: Bool { kind == .audio || (width > 0 && (format != .h264 || avcC != nil)) }
    }

    /// A frame that came while no file was open.
    private struct HeldFrame {
        var track: String
        var rtp: UInt32
        var frame: RecordingTimeline.Frame
    }

    let member: String
    private let room: String
    private let names: RecordingPaths
    private let logger: Logger
    private let clock: @Sendable () -> Double
    /// Bytes reserved in each file for tracks that join later.
    var tracksReserve = WebMWriter.defaultTracksReserve
    /// The system call behind the writes of the files opened from now on (tests fill the disk).
    var systemWrite: @Sendable (Int32, UnsafeRawBufferPointer, Int64) -> Int = WebMWriter.positionedWrite
    private(set) var lifecycle = FileLifecycle.idle
    private var tracks: [String: Track] = [:]
    private var held: [HeldFrame] = []
    private(set) var heldBytes = 0
    private(set) var timeline = RecordingTimeline()
    private var files = 0
    private var finishedBytes: Int64 = 0
    private var failure: String?
    private(set) var paths: [String] = []

    init(member: String, room: String, names: RecordingPaths, logger: Logger, clock: @escaping @Sendable () -> Double) {
        self.member = member
        self.room = room
        self.names = names
        self.logger = logger
        self.clock = clock
    }

    var status: MemberRecorder.Status {
        let writer = lifecycle.file?.writer
        return MemberRecorder.Status(member: member, path: writer?.path ?? paths.last, bytes: finishedBytes + (writer?.bytesWritten ?? 0),
                                     durationMs: writer?.durationMs ?? 0, files: files, error: failure)
    }

    mutating func addTrack(id: String, kind: MediaKind, format: MediaCodec, clockRate: Int, channels: Int) {
        guard tracks[id] == nil else { return }
        tracks[id] = Track(id: id, kind: kind, format: format, clockRate: clockRate, channels: channels)
        timeline.addTrack(id, clockRate: clockRate)
        service()
    }

    mutating func removeTrack(id: String) {
        guard tracks[id] != nil else { return }
        // What it sent before the file started is not lost.
        if lifecycle.file == nil, held.contains(where: { $0.track == id }) { openFile() }
        tracks[id] = nil
        timeline.removeTrack(id)
        held.removeAll { $0.track == id }
        heldBytes = held.reduce(0) { $0 + $1.frame.data.count }
        if case .open(var file) = lifecycle, let index = file.slots.firstIndex(where: { $0.track == id }) {
            file.slots[index].track = nil
            lifecycle = .open(file)
        }
        if tracks.isEmpty {
            endFile()
            held.removeAll()
            heldBytes = 0
            if case .holding = lifecycle { lifecycle = .idle }
        } else {
            service()
        }
    }

    mutating func setPaused(track id: String, _ paused: Bool) {
        tracks[id]?.paused = paused
        service()
    }

    mutating func senderReport(track id: String, ntpSeconds: Double, rtpTimestamp: UInt32) {
        guard tracks[id] != nil else { return }
        timeline.senderReport(track: id, ntpSeconds: ntpSeconds, rtpTimestamp: rtpTimestamp)
        service()
    }

    mutating func finish() {
        if lifecycle.file == nil && !held.isEmpty { openFile() }
        endFile()
    }

    mutating func frame(track id: String, rtpTimestamp rtp: UInt32, keyFrame: Bool, data: [UInt8], arrival: Double, width: Int?,
                        height: Int?, codecPrivate: [UInt8]?) {
        guard var track = tracks[id] else { return }
        var data = data
        if case .waitingToReopen(let at) = lifecycle {
            guard clock() >= at else { return }
            lifecycle = .idle
        }
        if track.kind == .video, keyFrame, let width, let height {
            track.width = width
            track.height = height
        }
        if track.format == .h264, keyFrame, let codecPrivate {
            data = H264PictureFormat.withParameterSets(data, codecPrivate: codecPrivate)
            track.avcC = codecPrivate
            tracks[id] = track
            if let number = track.slot, let file = lifecycle.file,
               case .h264(_, _, let written)? = file.slots.first(where: { $0.number == number })?.codec,
               H264PictureFormat.changes(from: written, to: codecPrivate) {
                if clock() - file.openedAt >= MemberRecorder.minFileAgeForFormatChange {
                    logger.notice("H264 picture format changed: starting a new file", metadata: ["member": "\(member)"])
                    endFile(rotating: true)
                    track = tracks[id] ?? track
                } else if !file.formatChangeDeferred {
                    var deferring = file
                    deferring.formatChangeDeferred = true
                    lifecycle = .open(deferring)
                    logger.notice("H264 picture format changed soon after the file started: going on in this file",
                                  metadata: ["member": "\(member)", "new file after": "\(MemberRecorder.minFileAgeForFormatChange) s"])
                }
            }
        }
        tracks[id] = track
        if lifecycle.file != nil && track.slot == nil {
            // Joins the open file from its first decodable frame.
            if track.kind == .video && (!keyFrame || !track.isDecodable) { return service() }
            join(id)
        }
        let frame = RecordingTimeline.Frame(arrival: arrival, keyFrame: keyFrame, data: data)
        if lifecycle.file != nil, let slot = tracks[id]?.slot {
            timeline.enqueue(frame, track: id, rtpTimestamp: rtp, slot: slot)
        } else if lifecycle.file == nil {
            tracks[id]?.sentFrames = true
            if case .idle = lifecycle { lifecycle = .holding(since: clock()) }
            // Before the file: video only from a key frame on.
            let decodable = track.kind == .audio || (keyFrame && track.isDecodable) || held.contains { $0.track == id }
            if decodable {
                held.append(HeldFrame(track: id, rtp: rtp, frame: frame))
                heldBytes += data.count
            }
        }
        service()
    }

    /// Starts the file when it is time, writes what is due, closes clusters that are due.
    mutating func service() {
        let now = clock()
        if case .holding(let first) = lifecycle, !held.isEmpty {
            let awaited = tracks.values.filter { !$0.paused && $0.sentFrames }
            let ready = awaited.allSatisfy { track in timeline.hasSenderReport(track.id) && held.contains { $0.track == track.id } }
            if ready || now - first >= MemberRecorder.startWait || heldBytes >= MemberRecorder.maxHeldBytes { openFile() }
        }
        guard let writer = lifecycle.file?.writer else { return }
        write(timeline.release(now: now))
        do {
            try writer.flushIfDue()
            writeSucceeded()
        } catch {
            writeFailed(error)
        }
    }

    /// Opens a file listing the tracks that have held frames, video first, and queues them.
    private mutating func openFile() {
        let listed = Set(held.map(\.track))
        let order = tracks.values.filter { listed.contains($0.id) }
            .sorted { ($0.kind == .video ? 0 : 1, $0.id) < ($1.kind == .video ? 0 : 1, $1.id) }
        let slots = order.enumerated().map { OpenFile.Slot(number: UInt8($0.offset + 1), codec: $0.element.codec, track: $0.element.id) }
        guard let writer = createWriter(slots.map { WebMWriter.Track(number: $0.number, codec: $0.codec) },
                                        matroska: tracks.values.contains { $0.format == .h264 }) else {
            held.removeAll()
            heldBytes = 0
            lifecycle = .waitingToReopen(at: clock() + MemberRecorder.retryOpenDelay)
            return
        }
        writer.systemWrite = systemWrite
        lifecycle = .open(OpenFile(writer: writer, openedAt: clock(), slots: slots))
        for slot in slots {
            if let id = slot.track { tracks[id]?.slot = slot.number }
        }
        timeline.startFile()
        for waiting in held {
            guard let slot = tracks[waiting.track]?.slot else { continue }
            timeline.enqueue(waiting.frame, track: waiting.track, rtpTimestamp: waiting.rtp, slot: slot)
        }
        held.removeAll()
        heldBytes = 0
    }

    private mutating func createWriter(_ webmTracks: [WebMWriter.Track], matroska: Bool) -> WebMWriter? {
        let started = Date()
        let title = "room \(room), member \(member)"
        for _ in 0..<1000 {
            let (path, preferred) = names.claim(room: room, member: member, started: started, index: files + 1,
                                                fileExtension: matroska ? "mkv" : "webm")
            do {
                let writer = try WebMWriter(path: path, tracks: webmTracks, title: title, overwrite: names.overwrite,
                                            tracksReserve: tracksReserve, matroska: matroska, clock: clock)
                files += 1
                paths.append(path)
                if !preferred { logger.notice("the usual name was taken, recording under another", metadata: ["member": "\(member)"]) }
                logger.notice("recording", metadata: ["member": "\(member)", "file": "\(path)",
                                                      "tracks": "\(webmTracks.map(\.codec.name))"])
                return writer
            } catch RecordingError.exists {
                continue  // created meanwhile by someone else: the next name
            } catch {
                failure = "\(error)"
                logger.error("recording member \(member): \(error)")
                return nil
            }
        }
        let failure = "no free file name in \(names.directory.path)"
        self.failure = failure
        logger.error("recording member \(member): \(failure)")
        return nil
    }

    /// A track's first decodable frame while the file is open: a free slot of its codec, or a
    /// new entry, or (no room in the file) a new file.
    private mutating func join(_ id: String) {
        guard var file = lifecycle.file, let track = tracks[id] else { return }
        let codec = track.codec
        if let index = file.slots.firstIndex(where: { $0.track == nil && Self.sameCodec($0.codec, codec) }) {
            file.slots[index].track = id
            lifecycle = .open(file)
            tracks[id]?.slot = file.slots[index].number
            logger.info("track joins the recording", metadata: ["member": "\(member)", "track": "\(file.slots[index].number)", "reused": "yes"])
            return
        }
        let number = (file.slots.map(\.number).max() ?? 0) + 1
        var added = false
        if number <= WebMWriter.maxTrackNumber {
            do {
                added = try file.writer.addTrack(WebMWriter.Track(number: number, codec: codec))
            } catch {
                writeFailed(error)
            }
        }
        if added {
            file.slots.append(OpenFile.Slot(number: number, codec: codec, track: id))
            lifecycle = .open(file)
            tracks[id]?.slot = number
            logger.info("track joins the recording", metadata: ["member": "\(member)", "track": "\(number)"])
        } else {
            logger.notice("no room for another track in the file: starting a new one", metadata: ["member": "\(member)"])
            endFile(rotating: true)
        }
    }

    private static func sameCodec(_ a: WebMWriter.Codec, _ b: WebMWriter.Codec) -> Bool {
        switch (a, b) {
        case (.vp8, .vp8), (.vp9, .vp9): return true
        case (.h264(_, _, let x), .h264(_, _, let y)): return x == y
        case (.opus(let x), .opus(let y)): return x == y
        default: return false
        }
    }

    private mutating func write(_ frames: [RecordingTimeline.Output]) {
        guard let writer = lifecycle.file?.writer else { return }
        for frame in frames {
            do {
                try writer.write(track: frame.slot, timestampMs: frame.timestampMs, keyFrame: frame.keyFrame, data: frame.data)
                writeSucceeded()
            } catch {
                writeFailed(error)
            }
        }
    }

    private mutating func writeFailed(_ error: any Error) {
        failure = "\(error)"
        guard case .open(var file) = lifecycle else { return }
        if file.writes == .succeeding { logger.error("recording member \(member): \(error); going on with what can be written") }
        file.writes = .failing(sizeAtFailure: file.writer.bytesWritten)
        lifecycle = .open(file)
    }

    /// After a failure: logged once a cluster reached the disk again.
    private mutating func writeSucceeded() {
        guard case .open(var file) = lifecycle, case .failing(let size) = file.writes, file.writer.bytesWritten > size else { return }
        logger.notice("recording member \(member): writing again", metadata: ["file": "\(file.writer.path)"])
        file.writes = .succeeding
        lifecycle = .open(file)
    }

    /// Writes what is queued and finishes the file; the next frames start a new one. When
    /// `rotating`, the next file waits (3 s at most) for every track that was flowing.
    private mutating func endFile(rotating: Bool = false) {
        guard let writer = lifecycle.file?.writer else { return }
        write(timeline.releaseAll())
        do {
            try writer.finish()
        } catch {
            writeFailed(error)
        }
        finishedBytes += writer.bytesWritten
        lifecycle = .idle
        timeline.startFile()
        for (id, track) in tracks {
            tracks[id]?.sentFrames = rotating && track.slot != nil
            tracks[id]?.slot = nil
        }
    }
}
