import Dispatch
import Foundation
import Logging
import Media
import MediaFormat
import Synchronization

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
/// - Timing (sender reports, arrival, mux order): `RecordingTimeline`; the file's states:
///   `FileLifecycle`; the work itself: `MemberRecording`.
/// - A write error (a full disk) is reported once per file and recording goes on with the
///   next cluster; what could not be written is lost, what was written stays playable.
public final class MemberRecorder: Sendable {
    public struct Status: Sendable {
        public var member: String
        public var path: String?
        public var bytes: Int64
        public var durationMs: Int64
        public var files: Int
        public var error: String?
    }

    public let member: String
    private let queue: DispatchQueue
    /// Taken only on `queue`, so never contended: the queue keeps the work off the network
    /// event loop and in order, the mutex lets the compiler check that nothing else touches it.
    private let recording: Mutex<MemberRecording>

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
    /// How often the deadlines (start, mux, cluster) are run when no frame comes.
    static let serviceInterval = DispatchTimeInterval.milliseconds(250)

    /// - Parameter clock: monotonic seconds, the clock of the `arrival` times given to `frame`.
    public convenience init(member: String, room: String, directory: URL, overwrite: Bool, logger: Logger,
                            clock: @escaping @Sendable () -> Double = WebMWriter.uptime) {
        self.init(member: member, room: room, names: RecordingPaths(directory: directory, overwrite: overwrite), logger: logger,
                  clock: clock)
    }

    init(member: String, room: String, names: RecordingPaths, logger: Logger, clock: @escaping @Sendable () -> Double) {
        self.member = member
        recording = Mutex(MemberRecording(member: member, room: room, names: names, logger: logger, clock: clock))
        queue = DispatchQueue(label: "nacho.record.\(member)")
        scheduleService()
    }

    /// Runs the deadlines every `serviceInterval` for as long as the recorder lives.
    private func scheduleService() {
        queue.asyncAfter(deadline: .now() + Self.serviceInterval) { [weak self] in
            guard let self else { return }
            self.recording.withLock { $0.service() }
            self.scheduleService()
        }
    }

    /// - Parameter codec: nil for VP8 video or Opus audio.
    public func addTrack(id: String, kind: MediaKind, codec: MediaCodec? = nil, clockRate: Int, channels: Int = 2) {
        let format = codec ?? (kind == .video ? .vp8 : .opus)
        queue.async {
            self.recording.withLock { $0.addTrack(id: id, kind: kind, format: format, clockRate: clockRate, channels: channels) }
        }
    }

    /// The track ended. The member's last track ending finishes the file.
    public func removeTrack(id: String) {
        queue.async { self.recording.withLock { $0.removeTrack(id: id) } }
    }

    /// The producer behind a track paused (or resumed): a paused track is not waited for.
    public func setPaused(track id: String, _ paused: Bool) {
        queue.async { self.recording.withLock { $0.setPaused(track: id, paused) } }
    }

    public func senderReport(track id: String, ntp: UInt64, rtpTimestamp: UInt32) {
        let seconds = NTPTime.seconds(ntp)
        queue.async { self.recording.withLock { $0.senderReport(track: id, ntpSeconds: seconds, rtpTimestamp: rtpTimestamp) } }
    }

    /// One whole frame (a VP8, VP9 or H264 frame, or an Opus packet) of a track; `arrival` on
    /// the recorder's clock. H264 key frames bring their avcC (`codecPrivate`); when its picture
    /// format changes the file ends and a new one starts (not sooner than
    /// `minFileAgeForFormatChange` after the file's start), as a track has one CodecPrivate.
    public func frame(track id: String, rtpTimestamp: UInt32, keyFrame: Bool, data: [UInt8], arrival: Double,
                      width: Int? = nil, height: Int? = nil, codecPrivate: [UInt8]? = nil) {
        queue.async {
            self.recording.withLock {
                $0.frame(track: id, rtpTimestamp: rtpTimestamp, keyFrame: keyFrame, data: data, arrival: arrival, width: width,
                         height: height, codecPrivate: codecPrivate)
            }
        }
    }

    /// Writes what is pending and finalizes the file (cues, duration). Blocks until done.
    public func finish() {
        queue.sync { recording.withLock { $0.finish() } }
    }

    public var status: Status { queue.sync { recording.withLock { $0.status } } }

    public var allPaths: [String] { queue.sync { recording.withLock { $0.paths } } }

    /// Runs the deadlines now (tests move the clock by hand).
    func tick() { queue.sync { recording.withLock { $0.service() } } }

    /// Bytes held before the file starts, and queued for muxing (tests).
    var bufferedBytes: (held: Int, queued: Int) { queue.sync { recording.withLock { ($0.heldBytes, $0.timeline.queuedBytes) } } }

    /// Where the file stands (tests).
    var phase: FileLifecycle.Phase { queue.sync { recording.withLock { $0.lifecycle.phase } } }

    /// Bytes reserved in each file for tracks that join later (tests set 0).
    var tracksReserve: Int {
        get { queue.sync { recording.withLock { $0.tracksReserve } } }
        set { queue.sync { recording.withLock { $0.tracksReserve = newValue } } }
    }

    /// The system call behind the writes of the files opened from now on (tests fill the disk).
    func useSystemWrite(_ write: @escaping @Sendable (Int32, UnsafeRawBufferPointer, Int64) -> Int) {
        queue.sync { recording.withLock { $0.systemWrite = write } }
    }

    /// Ids come from the server: see `RecordingPaths.safe`.
    static func safe(_ text: String) -> String { RecordingPaths.safe(text) }
}
