import Foundation
import Logging
import Recording

/// A member's H264 video and Opus audio into `MemberRecorder`, on a fake clock: key frames
/// whose parameter sets change (PPS only, picture format, bytes that are no avcC), delta and
/// audio frames, sender reports, pauses, tracks leaving and coming back, time jumps; then
/// `finish`. Files go to a folder in /dev/shm, emptied after each run.
///
/// Input: a room id and a member id (each a length byte and that many bytes, read as UTF-8
/// with repairs), then operations (op byte % 8, at most 300):
///   0  the clock moves u8 × 10 ms        1  the clock moves u8 seconds
///   2  an H264 key frame: avcC choice u8 (% 5: four real SPS/PPS pairs, or a chunk of bytes),
///      in-band flag u8 (its SPS and PPS in the frame too)
///   3  an H264 delta frame                4  an audio frame
///   5  a sender report for track u8 % 2   6  track u8 % 2 paused (bit 1) or resumed
///   7  track u8 % 2 removed (bit 1) or added again
/// Invariants: creating files never fails (any ids make a valid name); the files on disk are
/// the recorder's paths, distinct, with names of at most 255 bytes, each a whole Matroska
/// file; and their number is bounded by what ends a file -- the member's last track leaving,
/// a track joining, and a new picture format at most once per `minFileAgeForFormatChange`:
/// never one per key frame.
public enum RecorderHarness {
    static let directory = ScratchFolder.make("recorder")

    static let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

    /// avcC records of real parameter sets: Baseline 320x240 with PPS 0 and PPS 1, Main
    /// 1280x720 with PPS 0 and PPS 1.
    static let configurations: [(avcC: [UInt8], sps: [UInt8], pps: [UInt8], width: Int, height: Int)] = {
        let small = H264Samples.sps320, large = H264Samples.sps720
        let pairs: [([UInt8], [UInt8], Int, Int)] = [(small, H264Samples.pps0, 320, 240), (small, H264Samples.pps1, 320, 240),
                                                     (large, H264Samples.pps0, 1280, 720), (large, H264Samples.pps1, 1280, 720)]
        return pairs.map { (avcC: H264Samples.avcC($0.0, $0.1), sps: $0.0, pps: $0.1, width: $0.2, height: $0.3) }
    }()

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let room = String(decoding: input.take(Int(input.u8())), as: UTF8.self)
        let member = String(decoding: input.take(Int(input.u8())), as: UTF8.self)
        let folder = URL(fileURLWithPath: directory)
        let clock = SettableClock(1000)
        let start = clock.now
        let recorder = MemberRecorder(member: member, room: room, directory: folder, overwrite: false, logger: logger,
                                      clock: clock.function)
        let ids = ["audio", "video"]
        recorder.addTrack(id: "audio", kind: .audio, codec: .opus, clockRate: 48000)
        recorder.addTrack(id: "video", kind: .video, codec: .h264, clockRate: 90000)
        var live: Set<String> = ["audio", "video"]
        var endings = 3  // the first file; an audio-only WebM file left when H264 comes (Matroska only)
        var operations = 0
        while !input.isAtEnd && operations < 300 {
            operations += 1
            let now = clock.now
            switch input.u8() % 8 {
            case 0:
                clock.now += Double(input.u8()) / 100
            case 1:
                clock.now += Double(input.u8())
            case 2:
                let choice = Int(input.u8() % 5)
                let inBand = input.bool()
                var frame: [UInt8] = [0, 0, 0, 3, 0x65, 0x88, 0x84]
                let avcC: [UInt8]
                var width = 320, height = 240
                if choice < configurations.count {
                    let configuration = configurations[choice]
                    avcC = configuration.avcC
                    (width, height) = (configuration.width, configuration.height)
                    if inBand { frame = H264Samples.sample([configuration.sps, configuration.pps]) + frame }
                } else {
                    avcC = input.take(Int(input.u8()))
                }
                recorder.frame(track: "video", rtpTimestamp: rtp(now, 90000), keyFrame: true, data: frame, arrival: now, width: width,
                               height: height, codecPrivate: avcC)
            case 3:
                recorder.frame(track: "video", rtpTimestamp: rtp(now, 90000), keyFrame: false, data: [0, 0, 0, 2, 0x41, 0x9A], arrival: now)
            case 4:
                recorder.frame(track: "audio", rtpTimestamp: rtp(now, 48000), keyFrame: true, data: [0xFC, 0xFF, 0xFE], arrival: now)
            case 5:
                let track = ids[Int(input.u8() % 2)]
                let ntp = UInt64(now + 3_900_000_000) << 32
                recorder.senderReport(track: track, ntp: ntp, rtpTimestamp: rtp(now, track == "audio" ? 48000 : 90000))
            case 6:
                let choice = input.u8()
                recorder.setPaused(track: ids[Int(choice % 2)], choice & 2 != 0)
            default:
                let choice = input.u8()
                let track = ids[Int(choice % 2)]
                if choice & 2 != 0, live.contains(track) {
                    recorder.removeTrack(id: track)
                    live.remove(track)
                    endings += 1
                } else if choice & 2 == 0, !live.contains(track) {
                    recorder.addTrack(id: track, kind: track == "audio" ? .audio : .video, codec: track == "audio" ? .opus : .h264,
                                      clockRate: track == "audio" ? 48000 : 90000)
                    live.insert(track)
                    endings += 1
                }
            }
        }
        recorder.finish()
        let status = recorder.status
        let paths = recorder.allPaths
        defer { for path in paths { unlink(path) } }
        require(status.error == nil, "recording failed: \(status.error ?? "")")
        let onDisk = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).map { directory + "/" + $0 }
        require(Set(onDisk) == Set(paths) && Set(paths).count == paths.count, "files \(onDisk.count) on disk, \(paths.count) paths")
        let rotations = Int((clock.now - start) / MemberRecorder.minFileAgeForFormatChange) + 1
        require(paths.count <= endings + rotations, "\(paths.count) files for \(endings) track changes and \(rotations) format intervals")
        for path in paths {
            let name = URL(fileURLWithPath: path).lastPathComponent
            require(name.utf8.count <= 255, "a file name of \(name.utf8.count) bytes")
            guard let bytes = FileManager.default.contents(atPath: path) else { return require(false, "cannot read \(path)") }
            var reader = MatroskaReader(bytes: Array(bytes))
            do { _ = try reader.read() } catch { require(false, "unreadable recording: \(error)") }
        }
    }

    private static func rtp(_ seconds: Double, _ rate: Double) -> UInt32 {
        UInt32(truncatingIfNeeded: Int64(seconds * rate))
    }
}
