import Dispatch
import Foundation
import Bytes
import DTLS
import RTP
import SRTP
import Codecs
import Media
import PacketFixtures
#if canImport(Glibc)
import Glibc
#endif

/// Microbenchmarks of the media hot path, printed as figures (not a test), one JSON object per
/// line (`{"name", "side", "value", "unit"}`) for `Scripts/bench packets`, which prints them as a
/// table next to the same work done by aiortc's stack (Scripts/bench_peer.py):
/// - the packet paths (SRTP unprotect; receive: unprotect, parse, route, statistics, jitter
///   buffer, VP8 reassembly; send: packetize, RTP, serialize, protect) in packets per CPU
///   second, on a recorded 640x480@30 VP8 + Opus stream, next to raw libsrtp on the same packets;
/// - SRTP protect + unprotect per profile, RTP parse and serialize;
/// - CPU per second of media sent (encode, packetize, SRTP).
///
///     nacho-bench [ITERATIONS] [--packets-out FILE]
///     nacho-bench encode --video FILE.y4m --audio FILE.wav [--warmup S] [--window S]
///
/// `--packets-out` writes the recorded packet set for bench_peer.py (the same packets).
/// `encode`: the encoders alone on a file's frames, for `Scripts/bench send` (EncoderAlone.swift).

func emit(_ name: String, _ side: String, _ value: Double, _ unit: String) {
    func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    print("{\"name\":\(quoted(name)),\"side\":\(quoted(side)),\"value\":\(value),\"unit\":\(quoted(unit))}")
}

func measure(_ label: String, iterations: Int, bytesPerIteration: Int, _ body: () throws -> Void) rethrows {
    // Warm up, then time (this thread's CPU time: figures per core, whatever else runs).
    for _ in 0..<min(iterations / 10, 10_000) { try body() }
    let start = threadCPUTime()
    for _ in 0..<iterations { try body() }
    let seconds = threadCPUTime() - start
    emit(label, "nacho", Double(iterations) / seconds, "packets/s")
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "encode" {
    do {
        try runEncoderAlone(Array(arguments.dropFirst()))
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("nacho-bench encode: \(error)\n".utf8))
        exit(1)
    }
}
var packetsOut: String?
if let index = arguments.firstIndex(of: "--packets-out"), index + 1 < arguments.count {
    packetsOut = arguments[index + 1]
    arguments.removeSubrange(index...(index + 1))
}

// MARK: - Packet paths on a recorded stream

let packetSet = try PacketSet(seconds: 10, width: 640, height: 480, fps: 30, bitrate: 800_000)
if let packetsOut { try packetSet.write(to: packetsOut) }
try runPacketPaths(set: packetSet, emit: emit)

// MARK: - SRTP and RTP on one 1.1 kB packet

let iterations = Int(arguments.first ?? "") ?? 200_000
let payload = (0..<1100).map { UInt8(truncatingIfNeeded: $0 * 31) }
let packet = RTPPacket(payloadType: 101, sequenceNumber: 1, timestamp: 90000, ssrc: 0x1234_5678, marker: true,
                       headerExtension: RTPHeaderExtension(elements: [.init(id: 1, data: [0x30]), .init(id: 4, data: [1, 2, 3])]),
                       payload: payload[...])
let wire = packet.serialize()

for profile in SRTPProtectionProfile.allCases {
    let keys = SRTPKeys(profile: profile, key: Array(repeating: 7, count: profile.keyLength), salt: Array(repeating: 9, count: profile.saltLength))
    let sender = try SRTPContext(keys: keys, direction: .outbound)
    let receiver = try SRTPContext(keys: keys, direction: .inbound, replayWindow: 1024)
    var sequence: UInt16 = 0
    var buffer = wire
    try measure("SRTP protect+unprotect \(profile.rawValue.replacingOccurrences(of: "SRTP_", with: "")) 1.1 kB", iterations: iterations, bytesPerIteration: wire.count) {
        sequence &+= 1
        buffer = wire
        buffer[2] = UInt8(sequence >> 8)
        buffer[3] = UInt8(truncatingIfNeeded: sequence)
        try sender.protect(&buffer)
        try receiver.unprotect(&buffer)
    }
}

try measure("RTP parse 1.1 kB", iterations: iterations * 5, bytesPerIteration: wire.count) {
    _ = try RTPPacket(parsing: wire)
}
measure("RTP serialize 1.1 kB", iterations: iterations * 5, bytesPerIteration: wire.count) {
    _ = packet.serialize()
}

// MARK: - Send path: CPU per second of media (encode + packetize + SRTP)

/// Process CPU time (user + system) in seconds.
func cpuTime() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}


let seconds = 10
let width = 640, height = 480, fps = 30
// Frames made up front so the measurement holds only what a sender does per frame.
let frames: [VideoFrame] = (0..<fps).map { n in
    var data = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width, height: height))
    for row in 0..<height { for column in 0..<width { data[row * width + column] = UInt8(truncatingIfNeeded: column + row / 2 + n * 4) } }
    return VideoFrame(width: width, height: height, data: data, captureTime: 0)
}
let tone = (0..<960).map { Int16(10000 * sin(2 * Double.pi * 440 * Double($0) / 48000)) }
let video = try VP8Encoder(width: width, height: height, fps: fps, bitrate: 800_000, keyFrameInterval: 120, threads: 1)
let audio = try OpusEncoder(channels: 1, bitrate: 32000, inbandFEC: true, dtx: false)
let keys = SRTPKeys(profile: .aeadAES128GCM, key: Array(repeating: 1, count: 16), salt: Array(repeating: 2, count: 12))
let srtp = try SRTPContext(keys: keys, direction: .outbound)
let videoStream = OutboundStream(configuration: .init(ssrc: 1, payloadType: 101, clockRate: 90000, codec: .vp8))
let audioStream = OutboundStream(configuration: .init(ssrc: 2, payloadType: 100, clockRate: 48000, codec: .opus))
var twcc: UInt16 = 0
var sentBytes = 0
// As WebRtcTransport does: each packet copied into a buffer with room for the SRTP tag,
// protected in place.
var sendBuffer = [UInt8](repeating: 0, count: 2048)
let protectAndCount: (UnsafeRawBufferPointer) -> Void = { packet in
    sendBuffer.withUnsafeMutableBytes { raw in
        raw.copyMemory(from: packet)
        sentBytes += (try? srtp.protect(raw, length: packet.count)) ?? 0
    }
}
let before = cpuTime()
for n in 0..<(seconds * fps) {
    for encoded in try video.encode(frames[n % fps], forceKeyFrame: false) {
        videoStream.send(frame: encoded.data, timestamp: UInt32(n * 3000), captureTime: 0, isKeyFrame: encoded.isKeyFrame,
                         transportSequence: &twcc, now: 0, protectAndCount)
    }
}
for n in 0..<(seconds * 50) {
    let payload = try audio.encode(AudioFrame(channels: 1, samples: tone, captureTime: 0))
    audioStream.send(frame: payload, timestamp: UInt32(n * 960), captureTime: 0, isKeyFrame: true, transportSequence: &twcc, now: 0,
                     protectAndCount)
}
let used = cpuTime() - before
emit("encode + send 640x480@30 VP8 + Opus", "nacho", used / Double(seconds), "CPU s per s of media")
emit("encode + send 640x480@30 VP8 + Opus", "nacho", Double(sentBytes) * 8 / Double(seconds) / 1000, "kb/s sent")
