import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebM (Matroska) file written as it goes: the Segment starts with an unknown size and
/// every Cluster is written whole and synced, so a crash or power loss leaves a file that
/// plays up to the last cluster. A cluster closes after about a second of media, and also
/// when it reaches `maxClusterBytes` or has been open `maxClusterWallTime` (a sender whose
/// clock stands still), or when a block would be too far from its timecode for the 16-bit
/// relative time. `finish` adds Cues, the SeekHead, the duration and the Segment size.
/// VP8 and Opus tracks, timestamps in milliseconds.
///
/// Room is reserved after Tracks (a Void element) so that a track can join later: Tracks is
/// rewritten in place and synced before any block of the new track is written.
///
/// Every write is positioned (pwrite at the writer's own offset). A failed write (a full
/// disk) cuts what it half wrote, so the file still ends on a whole element and stays
/// playable; the writer stays usable, the next cluster goes right after the last whole one,
/// and video resumes at its next key frame.
public final class WebMWriter {
    public enum Codec: Sendable, Equatable {
        case vp8(width: Int, height: Int)
        case vp9(width: Int, height: Int)
        /// AVC in Matroska (V_MPEG4/ISO/AVC): blocks are length-prefixed NAL units, the track's
        /// CodecPrivate is the avcC record (ISO 14496-15 §5.3.3.1). Not allowed in WebM.
        case h264(width: Int, height: Int, avcC: [UInt8])
        case opus(channels: Int)

        public var isVideo: Bool { if case .opus = self { return false } else { return true } }

        /// WebM takes VP8, VP9 and Opus; anything else needs the Matroska DocType.
        public var isWebM: Bool { if case .h264 = self { return false } else { return true } }

        /// For logs.
        public var name: String {
            switch self {
            case .vp8: return "VP8"
            case .vp9: return "VP9"
            case .h264: return "H264"
            case .opus: return "Opus"
            }
        }
    }

    public struct Track: Sendable, Equatable {
        public var number: UInt8
        public var codec: Codec

        public init(number: UInt8, codec: Codec) {
            self.number = number
            self.codec = codec
        }
    }

    /// Bytes reserved after Tracks for tracks that join later (about 25 track entries).
    public static let defaultTracksReserve = 4096
    /// Track numbers are written as one-byte EBML integers in blocks.
    public static let maxTrackNumber: UInt8 = 126

    public let path: String
    /// Matroska (`.mkv`) rather than WebM: tracks WebM does not take may be added.
    public let isMatroska: Bool
    /// The file's size: where the next element goes.
    public private(set) var bytesWritten: Int64 = 0
    /// The latest block time accepted.
    public private(set) var durationMs: Int64 = 0
    /// The tracks listed in the file, in number order.
    public private(set) var tracks: [Track]
    /// A cluster closes after this much media time (the crash-safety granularity)...
    public var clusterDurationMs: Int64 = 1000
    /// ...or at this size...
    public var maxClusterBytes = 4 << 20
    /// ...or when it has been open this long (seconds on the writer's clock).
    public var maxClusterWallTime: Double = 2

    /// The system call behind every write (a seam for tests): bytes written, or -errno.
    var systemWrite: (Int32, UnsafeRawBufferPointer, Int64) -> Int = WebMWriter.positionedWrite

    private let fd: Int32
    private let clock: @Sendable () -> Double
    private let segmentDataStart: Int64
    private let seekHeadOffset: Int64
    private let durationOffset: Int64
    private let infoOffset: Int64
    private let tracksOffset: Int64
    /// Tracks plus the Void after it: the region a rewrite may use.
    private let tracksRegion: Int
    private var cluster: [UInt8] = []
    private var clusterTimecode: Int64?
    private var clusterOpenedAt: Double = 0
    private var clusterBlocks = 0
    private var clusterFirstTrack: UInt8?
    private var clusterKeyFrameTrack: UInt8?
    private var clusterLastTime: Int64 = 0
    private var committedDurationMs: Int64 = 0
    private var cues: [(time: Int64, position: Int64, track: UInt8)] = []
    private var lastTimestamp: [UInt8: Int64] = [:]
    /// Video tracks whose previous frames were lost: deltas are dropped until a key frame.
    private var waitingForKeyFrame: Set<UInt8> = []
    private var finished = false
    private static let seekHeadReserve = 96

    /// - Parameters:
    ///   - tracks: what the file lists from the start (more can join with `addTrack`).
    ///   - overwrite: replace an existing file; otherwise an existing file is an error (`.exists`).
    ///   - tracksReserve: bytes kept free after Tracks for `addTrack`.
    ///   - clock: seconds, for `maxClusterWallTime`.
    /// - Parameter matroska: write the Matroska DocType (needed for H264); WebM otherwise.
    public init(path: String, tracks: [Track], title: String, overwrite: Bool, tracksReserve: Int = WebMWriter.defaultTracksReserve,
                matroska: Bool = false, clock: @escaping @Sendable () -> Double = WebMWriter.uptime) throws {
        precondition(Set(tracks.map(\.number)).count == tracks.count && tracks.allSatisfy { (1...Self.maxTrackNumber).contains($0.number) })
        precondition(matroska || tracks.allSatisfy(\.codec.isWebM), "H264 needs a Matroska file")
        self.path = path
        self.isMatroska = matroska
        self.tracks = tracks.sorted { $0.number < $1.number }
        self.clock = clock
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw RecordingError.exists(path) }
            throw RecordingError.cannotCreate(path, String(cString: strerror(errno)).lowercased())
        }
        self.fd = fd
        var header = EBML.element(EBML.ID.ebml,
            EBML.uint(EBML.ID.ebmlVersion, 1) + EBML.uint(EBML.ID.ebmlReadVersion, 1) + EBML.uint(EBML.ID.ebmlMaxIDLength, 4)
                + EBML.uint(EBML.ID.ebmlMaxSizeLength, 8) + EBML.string(EBML.ID.docType, matroska ? "matroska" : "webm")
                + EBML.uint(EBML.ID.docTypeVersion, 4) + EBML.uint(EBML.ID.docTypeReadVersion, 2))
        header += EBML.id(EBML.ID.segment) + EBML.unknownSize
        segmentDataStart = Int64(header.count)
        seekHeadOffset = Int64(header.count)
        header += EBML.void(Self.seekHeadReserve)
        infoOffset = Int64(header.count)
        let app = "nacho"
        var info = EBML.uint(EBML.ID.timecodeScale, 1_000_000)
        let durationElementStart = info.count
        info += EBML.float(EBML.ID.duration, 0)
        info += EBML.int(EBML.ID.dateUTC, Int64((Date().timeIntervalSince1970 - 978_307_200) * 1e9))
        info += EBML.string(EBML.ID.title, title) + EBML.string(EBML.ID.muxingApp, app) + EBML.string(EBML.ID.writingApp, app)
        let infoElement = EBML.element(EBML.ID.info, info)
        durationOffset = infoOffset + Int64(infoElement.count - info.count) + Int64(durationElementStart) + 3  // ID (2) + size (1)
        header += infoElement
        tracksOffset = Int64(header.count)
        let tracksElement = Self.tracksElement(self.tracks)
        header += tracksElement
        let reserve = tracksReserve == 1 ? 2 : max(0, tracksReserve)
        if reserve > 0 { header += EBML.void(reserve) }
        tracksRegion = tracksElement.count + reserve
        do {
            try append(header, sync: true)
        } catch {
            finished = true
            close(fd)
            if !overwrite { unlink(path) }  // ours (O_EXCL), and empty of anything useful
            throw error
        }
    }

    deinit {
        if !finished { try? finish() }
    }

    /// Monotonic seconds (the receive path's arrival clock).
    public static func uptime() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// RFC 7845 §5.1 identification header: 2 channels as RTP Opus always is, 312 pre-skip.
    static func opusHead(channels: Int) -> [UInt8] {
        Array("OpusHead".utf8) + [1, UInt8(channels), 0x38, 0x01, 0x80, 0xBB, 0x00, 0x00, 0, 0, 0]
    }

    /// The Tracks element: video entries first (players take the first video track as the
    /// picture), then by number.
    static func tracksElement(_ tracks: [Track]) -> [UInt8] {
        var entries: [UInt8] = []
        for track in tracks.sorted(by: { ($0.codec.isVideo ? 0 : 1, $0.number) < ($1.codec.isVideo ? 0 : 1, $1.number) }) {
            var entry = EBML.uint(EBML.ID.trackNumber, UInt64(track.number)) + EBML.uint(EBML.ID.trackUID, UInt64(track.number))
                + EBML.uint(EBML.ID.flagLacing, 0)
            switch track.codec {
            case .vp8(let width, let height), .vp9(let width, let height), .h264(let width, let height, _):
                let codecID: String
                switch track.codec {
                case .vp9: codecID = "V_VP9"
                case .h264: codecID = "V_MPEG4/ISO/AVC"
                default: codecID = "V_VP8"
                }
                entry += EBML.uint(EBML.ID.trackType, 1) + EBML.string(EBML.ID.codecID, codecID)
                if case .h264(_, _, let avcC) = track.codec { entry += EBML.element(EBML.ID.codecPrivate, avcC) }
                entry += EBML.element(EBML.ID.video, EBML.uint(EBML.ID.pixelWidth, UInt64(width)) + EBML.uint(EBML.ID.pixelHeight, UInt64(height)))
            case .opus(let channels):
                entry += EBML.uint(EBML.ID.trackType, 2) + EBML.string(EBML.ID.codecID, "A_OPUS")
                entry += EBML.element(EBML.ID.codecPrivate, Self.opusHead(channels: channels))
                entry += EBML.uint(EBML.ID.codecDelay, 6_500_000) + EBML.uint(EBML.ID.seekPreRoll, 80_000_000)
                entry += EBML.element(EBML.ID.audio, EBML.float(EBML.ID.samplingFrequency, 48000) + EBML.uint(EBML.ID.channels, UInt64(channels)))
            }
            entries += EBML.element(EBML.ID.trackEntry, entry)
        }
        return EBML.element(EBML.ID.tracks, entries)
    }

    /// Lists one more track: Tracks is rewritten in place into the room reserved after it, and
    /// synced. Returns false (and changes nothing) when it does not fit: start a new file.
    /// Its blocks may start at any time after this.
    public func addTrack(_ track: Track) throws -> Bool {
        precondition(!finished, "addTrack after finish")
        guard isMatroska || track.codec.isWebM else { return false }  // WebM takes no H264: a new file
        precondition(!tracks.contains { $0.number == track.number } && (1...Self.maxTrackNumber).contains(track.number))
        let updated = (tracks + [track]).sorted { $0.number < $1.number }
        var region = Self.tracksElement(updated)
        let rest = tracksRegion - region.count
        guard rest == 0 || rest >= 2 else { return false }
        if rest > 0 { region += EBML.void(rest) }
        do {
            try writeAll(region, at: tracksOffset)
        } catch {
            // Put the previous list back (same size) rather than leave a torn one.
            var previous = Self.tracksElement(tracks)
            previous += EBML.void(tracksRegion - previous.count)
            try? writeAll(previous, at: tracksOffset)
            throw error
        }
        _ = fdatasync(fd)
        tracks = updated
        return true
    }

    /// Adds one frame. Frames should come in about non-decreasing time across tracks (the
    /// caller orders them); a track's time always moves forward (it is raised to just after the
    /// track's last). A frame that cannot be written (the cluster it closes could not be written)
    /// throws; the file stays whole.
    public func write(track: UInt8, timestampMs: Int64, keyFrame: Bool, data: [UInt8]) throws {
        precondition(!finished, "write after finish")
        guard let codec = tracks.first(where: { $0.number == track })?.codec else {
            preconditionFailure("write to track \(track), which the file does not list")
        }
        let isVideo = codec.isVideo
        if isVideo, waitingForKeyFrame.contains(track) {
            guard keyFrame else { return }  // would not decode: its references were lost
            waitingForKeyFrame.remove(track)
        }
        // Strictly increasing per track: two blocks at one time are two frames with one
        // timestamp, which demuxers report as non-monotonic (ffmpeg: "non monotonically
        // increasing dts").
        let time = max(timestampMs, lastTimestamp[track].map { $0 + 1 } ?? 0, 0)
        let blockSize = data.count + 4 + 9  // header, flags; ID and size
        if let start = clusterTimecode {
            let span = time - start
            let byMediaTime = span >= clusterDurationMs && (!isVideo || keyFrame || span >= 5 * clusterDurationMs)
            let outOfRange = span > Int64(Int16.max) || span < Int64(Int16.min)
            let bySize = clusterBlocks > 0 && cluster.count + blockSize > maxClusterBytes
            let byWallTime = clock() - clusterOpenedAt >= maxClusterWallTime
            if byMediaTime || outOfRange || bySize || byWallTime {
                try closeCluster()
            }
        }
        lastTimestamp[track] = time
        if clusterTimecode == nil {
            clusterTimecode = time
            clusterOpenedAt = clock()
            clusterBlocks = 0
            clusterFirstTrack = nil
            clusterKeyFrameTrack = nil
            clusterLastTime = time
            cluster = EBML.uint(EBML.ID.timecode, UInt64(time))
        }
        if clusterFirstTrack == nil { clusterFirstTrack = track }
        if isVideo && keyFrame && clusterKeyFrameTrack == nil { clusterKeyFrameTrack = track }
        let relative = time - clusterTimecode!
        precondition(relative >= Int64(Int16.min) && relative <= Int64(Int16.max))
        let bits = UInt16(bitPattern: Int16(relative))
        var block: [UInt8] = [0x80 | track, UInt8(bits >> 8), UInt8(truncatingIfNeeded: bits)]
        block.append(keyFrame || !isVideo ? 0x80 : 0x00)
        block += data
        cluster += EBML.element(EBML.ID.simpleBlock, block)
        clusterBlocks += 1
        clusterLastTime = max(clusterLastTime, time)
        durationMs = max(durationMs, time)
    }

    /// Writes the open cluster if it has been open `maxClusterWallTime`: call it now and then
    /// so that what was received reaches the disk even when nothing more comes.
    public func flushIfDue() throws {
        guard !finished, clusterTimecode != nil, clock() - clusterOpenedAt >= maxClusterWallTime else { return }
        try closeCluster()
    }

    private func closeCluster() throws {
        guard let timecode = clusterTimecode else { return }
        let position = bytesWritten - segmentDataStart
        let element = EBML.element(EBML.ID.cluster, cluster)
        let hasVideo = tracks.contains { $0.codec.isVideo }
        let cueTrack = clusterKeyFrameTrack ?? (hasVideo ? nil : clusterFirstTrack)
        let lastTime = clusterLastTime
        clusterTimecode = nil
        cluster = []
        clusterBlocks = 0
        do {
            try append(element, sync: true)
        } catch {
            for track in tracks where track.codec.isVideo { waitingForKeyFrame.insert(track.number) }
            throw error
        }
        committedDurationMs = max(committedDurationMs, lastTime)
        if let cueTrack { cues.append((timecode, position, cueTrack)) }
    }

    /// Writes the open cluster, the Cues, the SeekHead, the duration and the Segment size.
    /// What can be written is, even after an error (the first one is thrown).
    public func finish() throws {
        guard !finished else { return }
        finished = true
        defer { close(fd) }
        var firstError: (any Error)?
        do { try closeCluster() } catch { firstError = error }
        let cuesPosition = bytesWritten - segmentDataStart
        var cuePoints: [UInt8] = []
        for cue in cues {
            cuePoints += EBML.element(EBML.ID.cuePoint, EBML.uint(EBML.ID.cueTime, UInt64(max(0, cue.time)))
                + EBML.element(EBML.ID.cueTrackPositions, EBML.uint(EBML.ID.cueTrack, UInt64(cue.track))
                    + EBML.uint(EBML.ID.cueClusterPosition, UInt64(cue.position))))
        }
        var wroteCues = false
        if !cuePoints.isEmpty {
            do {
                try append(EBML.element(EBML.ID.cues, cuePoints), sync: false)
                wroteCues = true
            } catch {
                firstError = firstError ?? error
            }
        }
        // SeekHead into the reserved space.
        var seeks: [UInt8] = []
        for (id, offset) in [(EBML.ID.info, infoOffset), (EBML.ID.tracks, tracksOffset)] + (wroteCues ? [(EBML.ID.cues, cuesPosition + segmentDataStart)] : []) {
            seeks += EBML.element(EBML.ID.seek, EBML.element(EBML.ID.seekID, EBML.id(id)) + EBML.uint(EBML.ID.seekPosition, UInt64(offset - segmentDataStart)))
        }
        var seekHead = EBML.element(EBML.ID.seekHead, seeks)
        seekHead += EBML.void(Self.seekHeadReserve - seekHead.count)
        // Duration (float, ms) and the Segment's real size: in place, within what is written.
        let bits = Double(committedDurationMs).bitPattern
        let patches: [([UInt8], Int64)] = [
            (seekHead, seekHeadOffset),
            ((0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) }, durationOffset),
            (EBML.size(UInt64(bytesWritten - segmentDataStart), width: 8), segmentDataStart - 8),
        ]
        for (bytes, offset) in patches {
            do { try writeAll(bytes, at: offset) } catch { firstError = firstError ?? error }
        }
        fsync(fd)
        if let firstError { throw firstError }
    }

    /// pwrite(2) returning bytes written or -errno.
    static func positionedWrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ offset: Int64) -> Int {
        let written = pwrite(fd, buffer.baseAddress, buffer.count, off_t(offset))
        return written < 0 ? -Int(errno) : written
    }

    /// Appends at the end of the file; a failure cuts what it half wrote.
    private func append(_ bytes: [UInt8], sync: Bool) throws {
        do {
            try writeAll(bytes, at: bytesWritten)
        } catch {
            _ = ftruncate(fd, off_t(bytesWritten))
            throw error
        }
        bytesWritten += Int64(bytes.count)
        if sync { _ = fdatasync(fd) }
    }

    private func writeAll(_ bytes: [UInt8], at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                systemWrite(fd, UnsafeRawBufferPointer(rebasing: buffer[done...]), offset + Int64(done))
            }
            if result == -Int(EINTR) { continue }
            guard result > 0 else {
                let code = result < 0 ? Int32(-result) : ENOSPC  // a write of nothing: no room
                let why = code == ENOSPC ? "the disk is full" : String(cString: strerror(code)).lowercased()
                throw RecordingError.writeFailed(path, why)
            }
            done += result
        }
    }
}
