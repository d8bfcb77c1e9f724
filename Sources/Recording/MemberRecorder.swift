import Dispatch
import Foundation
import Logging
import MediaFormat

/// Records one remote member: its live audio and video tracks on one timeline, one WebM file
/// at a time. Work happens on a queue of its own, never on the network event loop.
///
/// - A file starts once every unpaused track that has sent frames has a sender report (and
///   video a key frame), and at the latest 3 s after the first frame (or earlier if the held
///   frames reach 8 MiB), with what has arrived: a camera that is off, a paused producer or
///   a track that sends nothing is not waited for.
/// - A file lists only tracks with something decodable (video from its first key frame),
///   video first. A track that starts later (camera turned on, a new producer) joins the
///   same file: it takes the number of a removed track of the same codec if there is one,
///   else it is added to the file's track list. If the list is full, a new file starts.
/// - When the member's last track is removed (it left, or the receive session ended), the
///   file is finished; the next track starts a new file (`...-2.webm`).
/// - H264: a track has one CodecPrivate (avcC), so a new picture format (`H264PictureFormat`:
///   profile, level, chroma, bit depth, size) starts a new file, but only once the open file is
///   `minFileAgeForFormatChange` old: a sender alternating formats at every key frame gets at
///   most one file per that time, and until then the new format goes on in the open file.
///   Other changes (a new PPS, a set seen before) never start a file. Every H264 key frame is
///   written with its SPS and PPS in band, so a file decodes across any of these changes.
/// - Timing (sender reports, arrival, mux order): `RecordingTimeline`.
/// - A write error (a full disk) is reported once and recording goes on with the next
///   cluster; what could not be written is lost, what was written stays playable.
public final class MemberRecorder: @unchecked Sendable {
    // What a track carries (`MediaCodec`): VP8, VP9 and Opus make WebM files; a member with
    // H264 gets a Matroska file (`.mkv`), as WebM takes no H264.

    public struct Status: Sendable {
        public var member: String
        public var path: String?
        public var bytes: Int64
        public var durationMs: Int64
        public var files: Int
        public var error: String?
    }

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

    private struct HeldFrame {
        var track: String
        var rtp: UInt32
        var arrival: Double
        var keyFrame: Bool
        var data: [UInt8]
    }

    /// A track number of the open file, and the live track writing to it (nil: free).
    private struct Slot {
        var number: UInt8
        var codec: WebMWriter.Codec
        var track: String?
    }

    public let member: String
    private let room: String
    private let names: RecordingPaths
    private let logger: Logger
    private let queue: DispatchQueue
    private let clock: @Sendable () -> Double
    private var timer: (any DispatchSourceTimer)?
    // Confined to `queue`.
    private var tracks: [String: Track] = [:]
    private var held: [HeldFrame] = []
    private var heldBytes = 0
    private var firstFrameAt: Double?
    private var timeline = RecordingTimeline()
    private var writer: WebMWriter?
    private var slots: [Slot] = []
    private var files = 0
    private var finishedBytes: Int64 = 0
    private var failure: String?
    private var writeFailing = false
    private var sizeAtFailure: Int64 = 0
    private var retryOpenAt: Double?
    /// When the open file started (the recorder's clock).
    private var fileOpenedAt = -Double.infinity
    /// A new H264 format went on in the open file (logged once per file).
    private var formatChangeDeferred = false
    private var paths: [String] = []

    /// How long frames wait for sender reports and key frames before the file starts anyway.
    static let startWait = 3.0
    /// Held frames start the file early when they reach this size.
    static let maxHeldBytes = 8 << 20
    /// After a file could not be created, the next try waits this long (frames meanwhile are dropped).
    static let retryOpenDelay = 5.0
    /// A new H264 picture format starts a new file only once the open one is this old (seconds).
    /// A real sender changes format rarely (a camera switch, a simulcast layer); a hostile one
    /// could otherwise make 30 to 100 files a second, until the disk or its inodes run out.
    public static let minFileAgeForFormatChange = 30.0
    /// Bytes reserved in each file for tracks that join later.
    var tracksReserve = WebMWriter.defaultTracksReserve

    /// - Parameter clock: monotonic seconds, the clock of the `arrival` times given to `frame`.
    public convenience init(member: String, room: String, directory: URL, overwrite: Bool, logger: Logger,
                            clock: @escaping @Sendable () -> Double = WebMWriter.uptime) {
        self.init(member: member, room: room, names: RecordingPaths(directory: directory, overwrite: overwrite), logger: logger,
                  clock: clock)
    }

    init(member: String, room: String, names: RecordingPaths, logger: Logger, clock: @escaping @Sendable () -> Double) {
        self.member = member
        self.room = room
        self.names = names
        self.logger = logger
        self.clock = clock
        queue = DispatchQueue(label: "nacho.record.\(member)")
        // Deadlines (start, mux, cluster) are met even when no frame comes.
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250), leeway: .milliseconds(50))
        timer.setEventHandler { [weak self] in self?.service() }
        timer.resume()
        self.timer = timer
    }

    deinit {
        timer?.cancel()
    }

    /// - Parameter codec: nil for VP8 video or Opus audio.
    public func addTrack(id: String, kind: MediaKind, codec: MediaCodec? = nil, clockRate: Int, channels: Int = 2) {
        let format = codec ?? (kind == .video ? .vp8 : .opus)
        queue.async {
            guard self.tracks[id] == nil else { return }
            self.tracks[id] = Track(id: id, kind: kind, format: format, clockRate: clockRate, channels: channels)
            self.timeline.addTrack(id, clockRate: clockRate)
            self.service()
        }
    }

    /// The track ended. The member's last track ending finishes the file.
    public func removeTrack(id: String) {
        queue.async {
            guard self.tracks[id] != nil else { return }
            // What it sent before the file started is not lost.
            if self.writer == nil, self.held.contains(where: { $0.track == id }) { self.openFile() }
            self.tracks[id] = nil
            self.timeline.removeTrack(id)
            self.held.removeAll { $0.track == id }
            self.heldBytes = self.held.reduce(0) { $0 + $1.data.count }
            if let index = self.slots.firstIndex(where: { $0.track == id }) { self.slots[index].track = nil }
            if self.tracks.isEmpty {
                self.endFile()
                self.held.removeAll()
                self.heldBytes = 0
                self.firstFrameAt = nil
            } else {
                self.service()
            }
        }
    }

    /// The producer behind a track paused (or resumed): a paused track is not waited for.
    public func setPaused(track id: String, _ paused: Bool) {
        queue.async {
            self.tracks[id]?.paused = paused
            self.service()
        }
    }

    public func senderReport(track id: String, ntp: UInt64, rtpTimestamp: UInt32) {
        let seconds = Double(ntp >> 32) + Double(ntp & 0xFFFF_FFFF) / 4_294_967_296
        queue.async {
            guard self.tracks[id] != nil else { return }
            self.timeline.senderReport(track: id, ntpSeconds: seconds, rtpTimestamp: rtpTimestamp)
            self.service()
        }
    }

    /// One whole frame (a VP8, VP9 or H264 frame, or an Opus packet) of a track; `arrival` on
    /// the recorder's clock. H264 key frames bring their avcC (`codecPrivate`); when its picture
    /// format changes the file ends and a new one starts (not sooner than
    /// `minFileAgeForFormatChange` after the file's start), as a track has one CodecPrivate.
    public func frame(track id: String, rtpTimestamp: UInt32, keyFrame: Bool, data: [UInt8], arrival: Double,
                      width: Int? = nil, height: Int? = nil, codecPrivate: [UInt8]? = nil) {
        queue.async { self.accept(id, rtpTimestamp, keyFrame, data, arrival, width, height, codecPrivate) }
    }

    /// Writes what is pending and finalizes the file (cues, duration). Blocks until done.
    public func finish() {
        queue.sync {
            if writer == nil && !held.isEmpty { openFile() }
            endFile()
        }
    }

    public var status: Status {
        queue.sync {
            Status(member: member, path: writer?.path ?? paths.last, bytes: finishedBytes + (writer?.bytesWritten ?? 0),
                   durationMs: writer?.durationMs ?? 0, files: files, error: failure)
        }
    }

    public var allPaths: [String] { queue.sync { paths } }

    /// Runs the deadlines now (tests move the clock by hand).
    func tick() { queue.sync { service() } }

    /// Bytes held before the file starts, and queued for muxing (tests).
    var bufferedBytes: (held: Int, queued: Int) { queue.sync { (heldBytes, timeline.queuedBytes) } }

    // MARK: - Queue

    private func accept(_ id: String, _ rtp: UInt32, _ keyFrame: Bool, _ data: [UInt8], _ arrival: Double, _ width: Int?, _ height: Int?,
                        _ codecPrivate: [UInt8]?) {
        guard var track = tracks[id] else { return }
        var data = data
        if let retry = retryOpenAt {
            guard clock() >= retry else { return }
            retryOpenAt = nil
        }
        if track.kind == .video, keyFrame, let width, let height {
            track.width = width
            track.height = height
        }
        if track.format == .h264, keyFrame, let codecPrivate {
            data = H264PictureFormat.withParameterSets(data, codecPrivate: codecPrivate)
            track.avcC = codecPrivate
            tracks[id] = track
            if let number = track.slot, case .h264(_, _, let written)? = slots.first(where: { $0.number == number })?.codec,
               H264PictureFormat.changes(from: written, to: codecPrivate) {
                if clock() - fileOpenedAt >= Self.minFileAgeForFormatChange {
                    logger.notice("H264 picture format changed: starting a new file", metadata: ["member": "\(member)"])
                    endFile(rotating: true)
                    track = tracks[id] ?? track
                } else if !formatChangeDeferred {
                    formatChangeDeferred = true
                    logger.notice("H264 picture format changed soon after the file started: going on in this file",
                                  metadata: ["member": "\(member)", "new file after": "\(Self.minFileAgeForFormatChange) s"])
                }
            }
        }
        tracks[id] = track
        if writer != nil && track.slot == nil {
            // Joins the open file from its first decodable frame.
            if track.kind == .video && (!keyFrame || !track.isDecodable) { return service() }
            join(id)
        }
        if writer != nil, let slot = tracks[id]?.slot {
            let time = timeline.localTime(track: id, rtpTimestamp: rtp, arrival: arrival)
            timeline.enqueue(slot: slot, time: time, arrival: arrival, keyFrame: keyFrame, data: data)
        } else if writer == nil {
            tracks[id]?.sentFrames = true
            if firstFrameAt == nil { firstFrameAt = clock() }
            // Before the file: video only from a key frame on.
            let decodable = track.kind == .audio || (keyFrame && track.isDecodable) || held.contains { $0.track == id }
            if decodable {
                held.append(HeldFrame(track: id, rtp: rtp, arrival: arrival, keyFrame: keyFrame, data: data))
                heldBytes += data.count
            }
        }
        service()
    }

    /// Starts the file when it is time, writes what is due, closes clusters that are due.
    private func service() {
        let now = clock()
        if writer == nil, !held.isEmpty, let first = firstFrameAt {
            let awaited = tracks.values.filter { !$0.paused && $0.sentFrames }
            let ready = awaited.allSatisfy { track in timeline.hasSenderReport(track.id) && held.contains { $0.track == track.id } }
            if ready || now - first >= Self.startWait || heldBytes >= Self.maxHeldBytes { openFile() }
        }
        guard let writer else { return }
        write(timeline.release(now: now))
        do {
            try writer.flushIfDue()
            writeSucceeded()
        } catch {
            writeFailed(error)
        }
    }

    /// Opens a file listing the tracks that have held frames, video first, and queues them.
    private func openFile() {
        let listed = Set(held.map(\.track))
        let order = tracks.values.filter { listed.contains($0.id) }
            .sorted { ($0.kind == .video ? 0 : 1, $0.id) < ($1.kind == .video ? 0 : 1, $1.id) }
        slots = order.enumerated().map { Slot(number: UInt8($0.offset + 1), codec: $0.element.codec, track: $0.element.id) }
        guard let writer = createWriter(slots.map { WebMWriter.Track(number: $0.number, codec: $0.codec) },
                                        matroska: tracks.values.contains { $0.format == .h264 }) else {
            slots = []
            held.removeAll()
            heldBytes = 0
            firstFrameAt = nil
            retryOpenAt = clock() + Self.retryOpenDelay
            return
        }
        self.writer = writer
        fileOpenedAt = clock()
        formatChangeDeferred = false
        for slot in slots { tracks[slot.track!]?.slot = slot.number }
        timeline.startFile()
        for frame in held {
            guard let slot = tracks[frame.track]?.slot else { continue }
            let time = timeline.localTime(track: frame.track, rtpTimestamp: frame.rtp, arrival: frame.arrival)
            timeline.enqueue(slot: slot, time: time, arrival: frame.arrival, keyFrame: frame.keyFrame, data: frame.data)
        }
        held.removeAll()
        heldBytes = 0
        firstFrameAt = nil
    }

    private func createWriter(_ webmTracks: [WebMWriter.Track], matroska: Bool) -> WebMWriter? {
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
        failure = "no free file name in \(names.directory.path)"
        logger.error("recording member \(member): \(failure!)")
        return nil
    }

    /// A track's first decodable frame while the file is open: a free slot of its codec, or a
    /// new entry, or (no room in the file) a new file.
    private func join(_ id: String) {
        guard let writer, let track = tracks[id] else { return }
        let codec = track.codec
        if let index = slots.firstIndex(where: { $0.track == nil && Self.sameCodec($0.codec, codec) }) {
            slots[index].track = id
            tracks[id]?.slot = slots[index].number
            logger.info("track joins the recording", metadata: ["member": "\(member)", "track": "\(slots[index].number)", "reused": "yes"])
            return
        }
        let number = (slots.map(\.number).max() ?? 0) + 1
        var added = false
        if number <= WebMWriter.maxTrackNumber {
            do {
                added = try writer.addTrack(WebMWriter.Track(number: number, codec: codec))
            } catch {
                writeFailed(error)
            }
        }
        if added {
            slots.append(Slot(number: number, codec: codec, track: id))
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

    private func write(_ frames: [RecordingTimeline.Output]) {
        guard let writer else { return }
        for frame in frames {
            do {
                try writer.write(track: frame.slot, timestampMs: frame.timestampMs, keyFrame: frame.keyFrame, data: frame.data)
                writeSucceeded()
            } catch {
                writeFailed(error)
            }
        }
    }

    private func writeFailed(_ error: any Error) {
        failure = "\(error)"
        if !writeFailing { logger.error("recording member \(member): \(error); going on with what can be written") }
        writeFailing = true
        sizeAtFailure = writer?.bytesWritten ?? 0
    }

    /// After a failure: logged once a cluster reached the disk again.
    private func writeSucceeded() {
        guard writeFailing, let writer, writer.bytesWritten > sizeAtFailure else { return }
        logger.notice("recording member \(member): writing again", metadata: ["file": "\(writer.path)"])
        writeFailing = false
    }

    /// Writes what is queued and finishes the file; the next frames start a new one. When
    /// `rotating`, the next file waits (3 s at most) for every track that was flowing.
    private func endFile(rotating: Bool = false) {
        guard let writer else { return }
        write(timeline.releaseAll())
        do {
            try writer.finish()
        } catch {
            writeFailed(error)
        }
        finishedBytes += writer.bytesWritten
        self.writer = nil
        slots = []
        timeline.startFile()
        for (id, track) in tracks {
            tracks[id]?.sentFrames = rotating && track.slot != nil
            tracks[id]?.slot = nil
        }
    }

    /// Ids come from the server: see `RecordingPaths.safe`.
    static func safe(_ text: String) -> String { RecordingPaths.safe(text) }
}
