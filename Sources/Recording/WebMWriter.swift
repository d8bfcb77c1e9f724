import Foundation

/// A WebM (Matroska) file written as it goes: the Segment starts with an unknown size and
/// every Cluster (about one second) is written whole and synced, so a crash or power loss
/// leaves a file that plays up to the last cluster. `finish` adds Cues, the SeekHead, the
/// duration and the Segment size. VP8 and Opus tracks, timestamps in milliseconds.
public final class WebMWriter {
    public enum Codec: Sendable { case vp8(width: Int, height: Int), opus(channels: Int) }

    public struct Track: Sendable {
        public var number: UInt8
        public var codec: Codec

        public init(number: UInt8, codec: Codec) {
            self.number = number
            self.codec = codec
        }
    }

    public let path: String
    public private(set) var bytesWritten: Int64 = 0
    public private(set) var durationMs: Int64 = 0
    private let fd: Int32
    private let tracks: [Track]
    private let segmentDataStart: Int64
    private let seekHeadOffset: Int64
    private let durationOffset: Int64
    private let infoOffset: Int64
    private let tracksOffset: Int64
    private var cluster: [UInt8] = []
    private var clusterTimecode: Int64?
    private var clusterHasKeyFrame = false
    private var cues: [(time: Int64, position: Int64)] = []
    private var lastTimestamp: [UInt8: Int64] = [:]
    private var finished = false
    private static let seekHeadReserve = 96
    /// A cluster closes after this long (the crash-safety granularity).
    public var clusterDurationMs: Int64 = 1000

    public init(path: String, tracks: [Track], title: String, overwrite: Bool) throws {
        self.path = path
        self.tracks = tracks
        let flags = O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw RecordingError.exists(path) }
            throw RecordingError.cannotCreate(path, String(cString: strerror(errno)).lowercased())
        }
        self.fd = fd
        var header = EBML.element(EBML.ID.ebml,
            EBML.uint(EBML.ID.ebmlVersion, 1) + EBML.uint(EBML.ID.ebmlReadVersion, 1) + EBML.uint(EBML.ID.ebmlMaxIDLength, 4)
                + EBML.uint(EBML.ID.ebmlMaxSizeLength, 8) + EBML.string(EBML.ID.docType, "webm")
                + EBML.uint(EBML.ID.docTypeVersion, 4) + EBML.uint(EBML.ID.docTypeReadVersion, 2))
        header += EBML.id(EBML.ID.segment) + EBML.unknownSize
        segmentDataStart = Int64(header.count)
        seekHeadOffset = Int64(header.count)
        header += EBML.void(Self.seekHeadReserve)
        infoOffset = Int64(header.count)
        let app = "nacho"
        let infoPrefix = EBML.uint(EBML.ID.timecodeScale, 1_000_000)
        var info = infoPrefix
        let durationElementStart = info.count
        info += EBML.float(EBML.ID.duration, 0)
        info += EBML.int(EBML.ID.dateUTC, Int64((Date().timeIntervalSince1970 - 978_307_200) * 1e9))
        info += EBML.string(EBML.ID.title, title) + EBML.string(EBML.ID.muxingApp, app) + EBML.string(EBML.ID.writingApp, app)
        let infoElement = EBML.element(EBML.ID.info, info)
        durationOffset = infoOffset + Int64(infoElement.count - info.count) + Int64(durationElementStart) + 3  // ID (2) + size (1)
        header += infoElement
        tracksOffset = Int64(header.count)
        var entries: [UInt8] = []
        for track in tracks {
            var entry = EBML.uint(EBML.ID.trackNumber, UInt64(track.number)) + EBML.uint(EBML.ID.trackUID, UInt64(track.number))
                + EBML.uint(EBML.ID.flagLacing, 0)
            switch track.codec {
            case .vp8(let width, let height):
                entry += EBML.uint(EBML.ID.trackType, 1) + EBML.string(EBML.ID.codecID, "V_VP8")
                entry += EBML.element(EBML.ID.video, EBML.uint(EBML.ID.pixelWidth, UInt64(width)) + EBML.uint(EBML.ID.pixelHeight, UInt64(height)))
            case .opus(let channels):
                entry += EBML.uint(EBML.ID.trackType, 2) + EBML.string(EBML.ID.codecID, "A_OPUS")
                entry += EBML.element(EBML.ID.codecPrivate, Self.opusHead(channels: channels))
                entry += EBML.uint(EBML.ID.codecDelay, 6_500_000) + EBML.uint(EBML.ID.seekPreRoll, 80_000_000)
                entry += EBML.element(EBML.ID.audio, EBML.float(EBML.ID.samplingFrequency, 48000) + EBML.uint(EBML.ID.channels, UInt64(channels)))
            }
            entries += EBML.element(EBML.ID.trackEntry, entry)
        }
        header += EBML.element(EBML.ID.tracks, entries)
        try append(header, sync: true)
    }

    deinit {
        if !finished { try? finish() }
    }

    /// RFC 7845 §5.1 identification header: 2 channels as RTP Opus always is, 312 pre-skip.
    static func opusHead(channels: Int) -> [UInt8] {
        Array("OpusHead".utf8) + [1, UInt8(channels), 0x38, 0x01, 0x80, 0xBB, 0x00, 0x00, 0, 0, 0]
    }

    /// Adds one frame. Frames of all tracks come in non-decreasing time (the caller orders them).
    public func write(track: UInt8, timestampMs: Int64, keyFrame: Bool, data: [UInt8]) throws {
        precondition(!finished, "write after finish")
        let time = max(timestampMs, lastTimestamp[track] ?? 0)
        lastTimestamp[track] = time
        let isVideo = tracks.first { $0.number == track }.map { if case .vp8 = $0.codec { return true } else { return false } } ?? false
        if let start = clusterTimecode {
            let span = time - start
            let startNew = span >= clusterDurationMs && (!isVideo || keyFrame || span >= 5 * clusterDurationMs) || span > 30_000 || span < -30_000
            if startNew { try closeCluster() }
        }
        if clusterTimecode == nil {
            clusterTimecode = time
            clusterHasKeyFrame = false
            cluster = EBML.uint(EBML.ID.timecode, UInt64(max(0, time)))
        }
        if isVideo && keyFrame { clusterHasKeyFrame = true }
        let relative = Int16(clamping: time - clusterTimecode!)
        var block: [UInt8] = [0x80 | track, UInt8(truncatingIfNeeded: UInt16(bitPattern: relative) >> 8), UInt8(truncatingIfNeeded: UInt16(bitPattern: relative))]
        block.append(keyFrame || !isVideo ? 0x80 : 0x00)
        block += data
        cluster += EBML.element(EBML.ID.simpleBlock, block)
        durationMs = max(durationMs, time)
    }

    private func closeCluster() throws {
        guard let timecode = clusterTimecode else { return }
        let position = bytesWritten - segmentDataStart
        if clusterHasKeyFrame || !tracks.contains(where: { if case .vp8 = $0.codec { return true } else { return false } }) {
            cues.append((timecode, position))
        }
        let element = EBML.element(EBML.ID.cluster, cluster)
        clusterTimecode = nil
        cluster = []
        try append(element, sync: true)
    }

    /// Writes the open cluster, the Cues, the SeekHead, the duration and the Segment size.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        defer { close(fd) }
        try closeCluster()
        let cuesPosition = bytesWritten - segmentDataStart
        var cuePoints: [UInt8] = []
        let cueTrack = tracks.first { if case .vp8 = $0.codec { return true } else { return false } }?.number ?? tracks.first?.number ?? 1
        for cue in cues {
            cuePoints += EBML.element(EBML.ID.cuePoint, EBML.uint(EBML.ID.cueTime, UInt64(max(0, cue.time)))
                + EBML.element(EBML.ID.cueTrackPositions, EBML.uint(EBML.ID.cueTrack, UInt64(cueTrack))
                    + EBML.uint(EBML.ID.cueClusterPosition, UInt64(cue.position))))
        }
        if !cuePoints.isEmpty { try append(EBML.element(EBML.ID.cues, cuePoints), sync: false) }
        // SeekHead into the reserved space.
        var seeks: [UInt8] = []
        for (id, offset) in [(EBML.ID.info, infoOffset), (EBML.ID.tracks, tracksOffset)] + (cuePoints.isEmpty ? [] : [(EBML.ID.cues, cuesPosition + segmentDataStart)]) {
            seeks += EBML.element(EBML.ID.seek, EBML.element(EBML.ID.seekID, EBML.id(id)) + EBML.uint(EBML.ID.seekPosition, UInt64(offset - segmentDataStart)))
        }
        var seekHead = EBML.element(EBML.ID.seekHead, seeks)
        seekHead += EBML.void(Self.seekHeadReserve - seekHead.count)
        try patch(seekHead, at: seekHeadOffset)
        // Duration (float, ms) and the Segment's real size.
        let bits = Double(durationMs).bitPattern
        try patch((0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) }, at: durationOffset)
        try patch(EBML.size(UInt64(bytesWritten - segmentDataStart), width: 8), at: segmentDataStart - 8)
        fsync(fd)
    }

    private func append(_ bytes: [UInt8], sync: Bool) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let why = errno == ENOSPC ? "the disk is full" : String(cString: strerror(errno)).lowercased()
                // Leave the file ending on a whole element: cut what was half written.
                _ = ftruncate(fd, off_t(bytesWritten))
                throw RecordingError.writeFailed(path, why)
            }
            offset += written
        }
        bytesWritten += Int64(bytes.count)
        if sync { _ = fdatasync(fd) }
    }

    private func patch(_ bytes: [UInt8], at offset: Int64) throws {
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == bytes.count else { throw RecordingError.writeFailed(path, String(cString: strerror(errno)).lowercased()) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
