import Bytes
import Codecs
import Dispatch
import DTLS
import Foundation
import Media
import RTP
import SRTP
#if canImport(Glibc)
import Glibc
#endif

/// A recorded media stream to run the packet paths on: 10 s of 640x480@30 VP8 and 20 ms Opus
/// frames, in arrival order, as plain RTP and as SRTP (what arrives from the server), with the
/// header extensions the test room server's aiortc senders write (mid, abs-send-time).
struct PacketSet {
    struct Frame {
        var video: Bool
        /// The encoded frame (VP8) or packet (Opus).
        var data: [UInt8]
        var timestamp: UInt32
        var time: Double
    }

    static let videoSSRC: UInt32 = 0x1111_1111
    static let audioSSRC: UInt32 = 0x2222_2222
    static let profile = SRTPProtectionProfile.aeadAES256GCM
    static let keys = SRTPKeys(profile: profile, key: Array(repeating: 7, count: profile.keyLength),
                               salt: Array(repeating: 9, count: profile.saltLength))

    var frames: [Frame] = []
    var plain: [[UInt8]] = []
    var protected: [[UInt8]] = []
    var isVideo: [Bool] = []

    static func videoStream() -> OutboundStream {
        var configuration = OutboundStream.Configuration(ssrc: videoSSRC, payloadType: 101, clockRate: 90000, codec: .vp8)
        configuration.mid = "1"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        return OutboundStream(configuration: configuration)
    }

    static func audioStream() -> OutboundStream {
        var configuration = OutboundStream.Configuration(ssrc: audioSSRC, payloadType: 100, clockRate: 48000, codec: .opus)
        configuration.mid = "0"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        configuration.audioLevelExtensionId = 10
        return OutboundStream(configuration: configuration)
    }

    /// Encodes `seconds` of the pattern and the tone (the encoders nacho sends with).
    init(seconds: Int, width: Int, height: Int, fps: Int, bitrate: Int) throws {
        let video = try VP8Encoder(width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: fps * 4, threads: 1)
        let audio = try OpusEncoder(channels: 1, bitrate: 32000, inbandFEC: true, dtx: false)
        var image = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width, height: height))
        for n in 0..<(seconds * fps) {
            for row in 0..<height { for column in 0..<width { image[row * width + column] = UInt8(truncatingIfNeeded: (column + row / 2 + n * 4) & 0xFF) / 2 + 40 } }
            for encoded in try video.encode(VideoFrame(width: width, height: height, data: image, captureTime: 0), forceKeyFrame: false) {
                frames.append(Frame(video: true, data: encoded.data, timestamp: UInt32(n * 90000 / fps), time: Double(n) / Double(fps)))
            }
        }
        let tone = (0..<960).map { Int16(10000 * sin(2 * Double.pi * 440 * Double($0) / 48000)) }
        for n in 0..<(seconds * 50) {
            let payload = try audio.encode(AudioFrame(channels: 1, samples: tone, captureTime: 0))
            frames.append(Frame(video: false, data: payload, timestamp: UInt32(n * 960), time: Double(n) / 50))
        }
        frames.sort { $0.time < $1.time }
        let videoStream = Self.videoStream(), audioStream = Self.audioStream()
        var twcc: UInt16 = 0
        let sender = try SRTPContext(keys: Self.keys, direction: .outbound)
        var made: [(bytes: [UInt8], video: Bool)] = []
        for frame in frames {
            let stream = frame.video ? videoStream : audioStream
            stream.send(frame: frame.data, timestamp: frame.timestamp, captureTime: frame.time, isKeyFrame: false,
                        audioLevel: frame.video ? nil : -10, transportSequence: &twcc, now: frame.time) { made.append((Array($0), frame.video)) }
        }
        for (bytes, video) in made {
            var wire = bytes
            try sender.protect(&wire)
            plain.append(bytes)
            protected.append(wire)
            isVideo.append(video)
        }
    }

    /// For Scripts/bench_peer.py: a JSON header line, then per packet a kind byte (1 video),
    /// the plain and the protected length (big-endian 16 bits) and both packets.
    func write(to path: String) throws {
        let header = "{\"profile\":\"\(Self.profile.rawValue)\",\"key\":\"\(hex(Self.keys.key))\",\"salt\":\"\(hex(Self.keys.salt))\",\"count\":\(plain.count)}\n"
        var out = Array(header.utf8)
        for index in plain.indices {
            out.append(isVideo[index] ? 1 : 0)
            for count in [plain[index].count, protected[index].count] {
                out.append(UInt8(count >> 8))
                out.append(UInt8(truncatingIfNeeded: count))
            }
            out += plain[index]
            out += protected[index]
        }
        try Data(out).write(to: URL(fileURLWithPath: path))
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// CPU time of the calling thread, in seconds.
func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Packets per second of this thread's CPU time: one warm-up pass, then passes until at least
/// `minimum` CPU seconds (and 3 passes) went by. `pass` handles every packet of the set once.
func packetsPerCPUSecond(packetsPerPass: Int, minimum: Double = 0.6, _ pass: () throws -> Void) rethrows -> Double {
    try pass()
    let start = threadCPUTime()
    var passes = 0
    repeat {
        try pass()
        passes += 1
    } while passes < 3 || threadCPUTime() - start < minimum
    return Double(passes * packetsPerPass) / (threadCPUTime() - start)
}

@inline(__always)
func monotonicNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The packet-path figures: nacho's public SRTP, RTP and Media APIs per packet next to raw
/// libsrtp on the same packets.
func runPacketPaths(set: PacketSet, emit: (String, String, Double, String) -> Void) throws {
    let count = set.protected.count
    emit("packet set", "info", Double(count), "packets (\(set.isVideo.filter { $0 }.count) video) for 10 s of 640x480@30 VP8 800 kb/s + Opus 32 kb/s, \(PacketSet.profile.rawValue)")

    // 1. SRTP unprotect: nacho's SRTPContext on a fresh copy of each datagram (as a datagram
    //    read from the socket is), raw libsrtp in one buffer. A new inbound context each pass
    //    (the same packets again would be replays).
    var sink = 0
    let nachoUnprotect = try packetsPerCPUSecond(packetsPerPass: count) {
        let receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
        for wire in set.protected {
            var bytes = wire
            try receiver.unprotect(&bytes)
            sink &+= bytes.count
        }
    }
    emit("SRTP unprotect", "nacho", nachoUnprotect, "packets/s")
    let rawUnprotect = packetsPerCPUSecond(packetsPerPass: count) {
        sink &+= RawSRTP(keys: PacketSet.keys, direction: .inbound).run(set.protected)
    }
    emit("SRTP unprotect", "libsrtp", rawUnprotect, "packets/s")

    // 2. The receive path as MediaReceiver runs it: the datagram copied into the transport's
    //    scratch buffer, unprotected and parsed in place, routed by SSRC to its InboundStream
    //    (statistics, ring jitter buffer, VP8 reassembly or whole Opus payloads), no recording.
    let receivePath = try packetsPerCPUSecond(packetsPerPass: count) {
        let receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
        let streams = [InboundStream(configuration: .init(ssrc: PacketSet.videoSSRC, payloadType: 101, clockRate: 90000, codec: .vp8)),
                       InboundStream(configuration: .init(ssrc: PacketSet.audioSSRC, payloadType: 100, clockRate: 48000, codec: .opus),
                                     deliversAudio: false)]
        let route: [UInt32: Int] = [PacketSet.videoSSRC: 0, PacketSet.audioSSRC: 1]
        var scratch: [UInt8] = []
        scratch.reserveCapacity(2048)
        var frames = 0
        for wire in set.protected {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: wire)
            try receiver.unprotect(&scratch)
            let packet = try RTPPacket(parsing: scratch[...])
            guard let index = route[packet.ssrc] else { continue }
            streams[index].receive(packet, size: scratch.count, arrival: monotonicNow()) { _ in frames += 1 }
        }
        sink &+= frames + streams[1].counters.frames
    }
    emit("receive path", "nacho", receivePath, "packets/s")
    emit("receive path", "libsrtp", rawUnprotect, "packets/s")

    // 3. The send path as MediaSender runs it: each encoded frame packetized by its
    //    OutboundStream (VP8 descriptors, header extensions, ring history) into one reused
    //    buffer, copied into the buffer it goes out in with room for the tag, protected there.
    let sender = try SRTPContext(keys: PacketSet.keys, direction: .outbound)
    let videoStream = PacketSet.videoStream(), audioStream = PacketSet.audioStream()
    var twcc: UInt16 = 0
    var outgoing = [UInt8](repeating: 0, count: 2048)
    let sendPath = packetsPerCPUSecond(packetsPerPass: count) {
        for frame in set.frames {
            let now = monotonicNow()
            let stream = frame.video ? videoStream : audioStream
            stream.send(frame: frame.data, timestamp: frame.timestamp, captureTime: now, isKeyFrame: false,
                        audioLevel: frame.video ? nil : -10, transportSequence: &twcc, now: now) { packet in
                outgoing.withUnsafeMutableBytes { raw in
                    raw.copyMemory(from: packet)
                    sink &+= (try? sender.protect(raw, length: packet.count)) ?? 0
                }
            }
        }
    }
    emit("send path", "nacho", sendPath, "packets/s")
    let rawProtect = packetsPerCPUSecond(packetsPerPass: count) {
        // A new context each pass: the same sequence numbers again are too old for libsrtp.
        sink &+= RawSRTP(keys: PacketSet.keys, direction: .outbound).run(set.plain)
    }
    emit("send path", "libsrtp", rawProtect, "packets/s")
    if sink == 42 { print("") }  // keeps the work observable
}
