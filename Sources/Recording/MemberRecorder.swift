import Dispatch
import Foundation
import Logging

/// Records one remote member to one WebM file: its audio and video tracks on a common
/// timeline. Each track's RTP clock is tied to the sender's NTP clock by the sender reports
/// (RFC 3550 §6.4.1) so audio and video line up; until both tracks have one (a few seconds at
/// most) frames are held, and if none comes arrival times are used instead. Frames are muxed
/// in time order and written by a queue of its own, never on the network event loop.
/// A track that appears after the file started (a member who left and came back) starts a new
/// file, never a corrupted one.
public final class MemberRecorder: @unchecked Sendable {
    public enum Kind: Sendable { case audio, video }

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
        var kind: Kind
        var clockRate: Int
        var channels: Int
        var number: UInt8 = 0
        var senderReport: (ntpSeconds: Double, rtp: UInt32)?
        var anchor: (time: Double, rtp: Int64)?
        var lastRtp: Int64?
        var width = 0
        var height = 0
    }

    private struct PendingFrame {
        var track: String
        var time: Double
        var keyFrame: Bool
        var data: [UInt8]
    }

    public let member: String
    private let directory: URL
    private let room: String
    private let overwrite: Bool
    private let logger: Logger
    private let queue: DispatchQueue
    // Confined to `queue`.
    private var tracks: [String: Track] = [:]
    private var held: [(track: String, rtp: UInt32, arrival: Double, keyFrame: Bool, data: [UInt8], width: Int?, height: Int?)] = []
    private var firstHeldArrival: Double?
    private var useArrivalTimes = false
    private var writer: WebMWriter?
    private var writerTracks: Set<String> = []
    private var base: Double?
    private var muxQueue: [PendingFrame] = []
    private var files = 0
    private var finishedBytes: Int64 = 0
    private var failure: String?
    private var paths: [String] = []
    /// How long frames wait for sender reports before arrival times are used.
    static let senderReportWait = 3.0
    /// Frames are muxed once they are this much older than the newest (audio and video arrive
    /// with different delays).
    static let muxDelay = 0.3

    public init(member: String, room: String, directory: URL, overwrite: Bool, logger: Logger) {
        self.member = member
        self.room = room
        self.directory = directory
        self.overwrite = overwrite
        self.logger = logger
        queue = DispatchQueue(label: "nacho.record.\(member)")
    }

    public func addTrack(id: String, kind: Kind, clockRate: Int, channels: Int = 2) {
        queue.async {
            self.tracks[id] = Track(id: id, kind: kind, clockRate: clockRate, channels: channels)
            if self.writer != nil { self.rotate() }  // the set of tracks changed: a new file
        }
    }

    public func removeTrack(id: String) {
        queue.async {
            self.tracks[id] = nil
            if self.writer != nil, self.writerTracks.contains(id) { self.rotate() }
        }
    }

    public func senderReport(track id: String, ntp: UInt64, rtpTimestamp: UInt32) {
        let seconds = Double(ntp >> 32) + Double(ntp & 0xFFFF_FFFF) / 4_294_967_296
        queue.async { self.tracks[id]?.senderReport = (seconds, rtpTimestamp) }
    }

    /// One whole frame (VP8 frame or Opus packet) of a track.
    public func frame(track id: String, rtpTimestamp: UInt32, keyFrame: Bool, data: [UInt8], arrival: Double,
                      width: Int? = nil, height: Int? = nil) {
        queue.async { self.accept(id, rtpTimestamp, keyFrame, data, arrival, width, height) }
    }

    /// Writes what is pending and finalizes the file (cues, duration). Blocks until done.
    public func finish() {
        queue.sync {
            flushHeld(force: true)
            drainMux(all: true)
            closeWriter()
        }
    }

    public var status: Status {
        queue.sync {
            Status(member: member, path: writer?.path ?? paths.last, bytes: finishedBytes + (writer?.bytesWritten ?? 0),
                   durationMs: writer?.durationMs ?? 0, files: files, error: failure)
        }
    }

    public var allPaths: [String] { queue.sync { paths } }

    // MARK: - Queue

    private func accept(_ id: String, _ rtp: UInt32, _ keyFrame: Bool, _ data: [UInt8], _ arrival: Double, _ width: Int?, _ height: Int?) {
        guard failure == nil, tracks[id] != nil else { return }
        if let width, let height { tracks[id]?.width = width; tracks[id]?.height = height }
        if writer == nil {
            held.append((id, rtp, arrival, keyFrame, data, width, height))
            if firstHeldArrival == nil { firstHeldArrival = arrival }
            flushHeld(force: false)
            return
        }
        guard writerTracks.contains(id) else { return }
        enqueue(id, rtp, keyFrame, data, arrival)
        drainMux(all: false)
    }

    /// Starts the file once every track has a sender report and video has a key frame (or
    /// once waiting longer makes no sense).
    private func flushHeld(force: Bool) {
        guard writer == nil, let first = firstHeldArrival, let last = held.last?.arrival else { return }
        let videoReady = tracks.values.filter { $0.kind == .video }.allSatisfy { $0.width > 0 }
        let reportsReady = tracks.values.allSatisfy { $0.senderReport != nil }
        let waited = last - first
        guard force || (videoReady && (reportsReady || waited >= Self.senderReportWait)) else { return }
        guard videoReady || !tracks.values.contains(where: { $0.kind == .video }) || force else { return }
        useArrivalTimes = !reportsReady
        openWriter()
        for frame in held where writerTracks.contains(frame.track) {
            enqueue(frame.track, frame.rtp, frame.keyFrame, frame.data, frame.arrival)
        }
        held.removeAll()
        firstHeldArrival = nil
        drainMux(all: false)
    }

    private func openWriter() {
        let stamp = Self.timestamp(Date())
        files += 1
        let suffix = files > 1 ? "-\(files)" : ""
        let path = directory.appendingPathComponent("\(Self.safe(room))-\(Self.safe(member))-\(stamp)\(suffix).webm").path
        var number: UInt8 = 1
        var webmTracks: [WebMWriter.Track] = []
        // Video first: players pick the first video track as the main one.
        for id in tracks.keys.sorted(by: { (tracks[$0]!.kind == .video ? 0 : 1, $0) < (tracks[$1]!.kind == .video ? 0 : 1, $1) }) {
            guard let track = tracks[id] else { continue }
            if track.kind == .video && track.width == 0 { continue }  // no key frame yet: nothing decodable
            tracks[id]?.number = number
            webmTracks.append(WebMWriter.Track(number: number, codec: track.kind == .video
                ? .vp8(width: track.width, height: track.height) : .opus(channels: 2)))
            number += 1
        }
        do {
            writer = try WebMWriter(path: path, tracks: webmTracks, title: "room \(room), member \(member)", overwrite: overwrite)
            writerTracks = Set(tracks.values.filter { $0.number > 0 }.map(\.id))
            paths.append(path)
            logger.notice("recording", metadata: ["member": "\(member)", "file": "\(path)"])
        } catch {
            failure = "\(error)"
            logger.error("recording member \(member): \(error)")
        }
    }

    private func enqueue(_ id: String, _ rtp: UInt32, _ keyFrame: Bool, _ data: [UInt8], _ arrival: Double) {
        guard var track = tracks[id] else { return }
        // Unwrap the 32-bit RTP clock.
        let extended: Int64
        if let last = track.lastRtp {
            extended = last + Int64(Int32(bitPattern: rtp &- UInt32(truncatingIfNeeded: last)))
        } else {
            extended = Int64(rtp)
        }
        track.lastRtp = extended
        if track.anchor == nil {
            if !useArrivalTimes, let sr = track.senderReport {
                let delta = Double(Int32(bitPattern: rtp &- sr.rtp)) / Double(track.clockRate)
                track.anchor = (sr.ntpSeconds + delta, extended)
            } else {
                track.anchor = (arrival, extended)
            }
        }
        tracks[id] = track
        let time = track.anchor!.time + Double(extended - track.anchor!.rtp) / Double(track.clockRate)
        if base == nil { base = time }
        muxQueue.append(PendingFrame(track: id, time: time, keyFrame: keyFrame, data: data))
    }

    private func drainMux(all: Bool) {
        guard let writer, let base else { return }
        muxQueue.sort { $0.time < $1.time }
        let newest = muxQueue.last?.time ?? 0
        var written = 0
        for frame in muxQueue {
            guard all || frame.time <= newest - Self.muxDelay else { break }
            written += 1
            guard let number = tracks[frame.track]?.number, number > 0 else { continue }
            do {
                try writer.write(track: number, timestampMs: Int64(((frame.time - base) * 1000).rounded()), keyFrame: frame.keyFrame, data: frame.data)
            } catch {
                failure = "\(error)"
                logger.error("recording member \(member): \(error)")
                closeWriter()
                break
            }
        }
        muxQueue.removeFirst(min(written, muxQueue.count))
    }

    private func closeWriter() {
        guard let writer else { return }
        do {
            try writer.finish()
        } catch {
            failure = "\(error)"
            logger.error("recording member \(member): \(error)")
        }
        finishedBytes += writer.bytesWritten
        self.writer = nil
        writerTracks = []
    }

    /// Closes the current file and starts collecting for the next one.
    private func rotate() {
        drainMux(all: true)
        closeWriter()
        base = nil
        for id in tracks.keys {
            tracks[id]?.anchor = nil
            tracks[id]?.lastRtp = nil
            tracks[id]?.number = 0
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }

    /// Ids come from the server: keep file names to a safe alphabet.
    static func safe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(64))
    }
}
