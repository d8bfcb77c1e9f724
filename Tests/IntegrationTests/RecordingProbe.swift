import Foundation
import TestSupport
import XCTest

/// Readers of recordings that are not nacho: ffmpeg/ffprobe (full decode, frame counts, the
/// synthetic frame counter) and mkvinfo (mkvtoolnix).
extension XCTestCase {
    func tool(_ name: String) throws -> String { try ExternalTool.path(name) }

    /// Runs a tool; returns (status, stdout, stderr).
    func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, Data, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stdout is read on another thread (a full pipe would block the tool); the group's
        // wait orders that write before this read.
        nonisolated(unsafe) var outData = Data()
        let reading = DispatchGroup()
        reading.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            reading.leave()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        reading.wait()
        return (process.terminationStatus, outData, String(decoding: errData, as: UTF8.self))
    }

    func outputDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nacho-rec-\(UUID())")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    struct Probe {
        var videoFrames: Int
        var audioFrames: Int
        var width: Int
        var height: Int
        var decodeErrors: String
        var barcodes: [Int]
        var lastVideoTime: Double
        var firstVideoTime: Double
        var audioSeconds: Double
    }

    /// Decodes the whole file with ffmpeg and counts frames with ffprobe; reads the synthetic
    /// pattern's frame counter (a 24-bit barcode on the top rows) from every decoded frame.
    func probe(_ file: String) throws -> Probe {
        let ffprobe = try tool("ffprobe"), ffmpeg = try tool("ffmpeg")
        let (_, streams, _) = try run(ffprobe, ["-v", "error", "-count_frames", "-show_entries",
                                                 "stream=codec_type,nb_read_frames,width,height", "-of", "json", file])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: streams) as? [String: Any])
        let list = try XCTUnwrap(json["streams"] as? [[String: Any]])
        let video = list.first { $0["codec_type"] as? String == "video" }
        let audio = list.first { $0["codec_type"] as? String == "audio" }
        // The encoder time base of the demuxer (milliseconds): with the default 1/fps, the null
        // muxer reports two frames a few ms off the frame grid as non-monotonic DTS, which is not a
        // decode error (senders stamp capture times, and jitter passes through a forwarding SFU).
        let (_, _, decodeErrors) = try run(ffmpeg, ["-v", "error", "-i", file, "-enc_time_base:v", "-1", "-f", "null", "-"])
        let width = video?["width"] as? Int ?? 0, height = video?["height"] as? Int ?? 0
        var barcodes: [Int] = []
        if width > 0 {
            // passthrough: one output frame per decoded frame (no duplicates to fill a constant rate).
            let (_, raw, _) = try run(ffmpeg, ["-v", "error", "-i", file, "-map", "0:v", "-fps_mode", "passthrough",
                                               "-f", "rawvideo", "-pix_fmt", "gray", "-"])
            let frameSize = width * height
            let block = max(width / 24, 4)
            var offset = 0
            while offset + frameSize <= raw.count {
                var value = 0
                for bit in 0..<24 {
                    let index = offset + (block / 2) * width + bit * block + block / 2
                    value = value << 1 | (raw[raw.startIndex + index] > 128 ? 1 : 0)
                }
                barcodes.append(value)
                offset += frameSize
            }
        }
        let (_, times, _) = try run(ffprobe, ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                                               "-of", "csv=p=0", file])
        let videoTimes = String(decoding: times, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
        let lastTime = videoTimes.max() ?? 0
        let (_, audioTimes, _) = try run(ffprobe, ["-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts_time",
                                                    "-of", "csv=p=0", file])
        let audioPacketTimes = String(decoding: audioTimes, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
        return Probe(videoFrames: Int(video?["nb_read_frames"] as? String ?? "") ?? 0,
                     audioFrames: Int(audio?["nb_read_frames"] as? String ?? "") ?? 0,
                     width: width, height: height, decodeErrors: decodeErrors, barcodes: barcodes, lastVideoTime: lastTime,
                     firstVideoTime: videoTimes.min() ?? 0, audioSeconds: (audioPacketTimes.max() ?? 0) - (audioPacketTimes.min() ?? 0))
    }

    /// The recordings in a directory: WebM (VP8, VP9, audio only) and Matroska (H264).
    func files(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".webm") || $0.hasSuffix(".mkv") }.sorted()
            .map { dir.appendingPathComponent($0).path }
    }

    /// mkvinfo's account of a file: its status and text.
    func mkvinfo(_ file: String) throws -> (Int32, String) {
        let (status, info, _) = try run(try tool("mkvinfo"), ["-v", file])
        return (status, String(decoding: info, as: UTF8.self))
    }

    /// The codec ids of a file's tracks, in track order (e.g. ["V_VP8", "A_OPUS"]).
    func trackCodecs(_ file: String) throws -> [String] {
        let (_, text) = try mkvinfo(file)
        return text.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "Codec ID: ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }
}
