import Bytes
import Dispatch
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
        var payloads: [[UInt8]]
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

    static func videoStream() -> RTPStreamSender {
        var configuration = RTPStreamSender.Configuration(ssrc: videoSSRC, payloadType: 101, clockRate: 90000)
        configuration.mid = "1"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        return RTPStreamSender(configuration: configuration)
    }

    static func audioStream() -> RTPStreamSender {
        var configuration = RTPStreamSender.Configuration(ssrc: audioSSRC, payloadType: 100, clockRate: 48000)
        configuration.mid = "0"
        configuration.midExtensionId = 1
        configuration.absSendTimeExtensionId = 4
        configuration.audioLevelExtensionId = 10
        return RTPStreamSender(configuration: configuration)
    }

    /// Encodes `seconds` of the pattern and the tone (the encoders nacho sends with).
    init(seconds: Int, width: Int, height: Int, fps: Int, bitrate: Int) throws {
        let video = try VP8Encoder(width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: fps * 4, threads: 1)
        let audio = try OpusEncoder(channels: 1, bitrate: 32000, inbandFEC: true, dtx: false)
        var packetizer = VP8Packetizer()
        var image = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width, height: height))
        for n in 0..<(seconds * fps) {
            for row in 0..<height { for column in 0..<width { image[row * width + column] = UInt8(truncatingIfNeeded: (column + row / 2 + n * 4) & 0xFF) / 2 + 40 } }
            for encoded in try video.encode(VideoFrame(width: width, height: height, data: image, captureTime: 0), forceKeyFrame: false) {
                frames.append(Frame(video: true, data: encoded.data, payloads: packetizer.packetize(encoded.data, maxPayloadSize: 1100),
                                    timestamp: UInt32(n * 90000 / fps), time: Double(n) / Double(fps)))
            }
        }
        let tone = (0..<960).map { Int16(10000 * sin(2 * Double.pi * 440 * Double($0) / 48000)) }
        for n in 0..<(seconds * 50) {
            let payload = try audio.encode(AudioFrame(channels: 1, samples: tone, captureTime: 0))
            frames.append(Frame(video: false, data: payload, payloads: [payload], timestamp: UInt32(n * 960), time: Double(n) / 50))
        }
        frames.sort { $0.time < $1.time }
        var videoStream = Self.videoStream(), audioStream = Self.audioStream()
        var twcc: UInt16 = 0
        let sender = try SRTPContext(keys: Self.keys, direction: .outbound)
        for frame in frames {
            let packets = frame.video
                ? videoStream.packets(for: frame.payloads, timestamp: frame.timestamp, captureTime: frame.time, markLast: true,
                                      transportSequence: &twcc, now: frame.time)
                : audioStream.packets(for: frame.payloads, timestamp: frame.timestamp, captureTime: frame.time, markLast: false,
                                      audioLevel: -10, transportSequence: &twcc, now: frame.time)
            for packet in packets {
                let bytes = packet.serialize()
                var wire = bytes
                try sender.protect(&wire)
                plain.append(bytes)
                protected.append(wire)
                isVideo.append(frame.video)
            }
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

/// One received stream as a receiver keeps it, from the public pieces of Media.
struct ReceivedStream {
    var video: Bool
    var statistics: ReceptionStatistics
    var jitter: JitterBuffer<RTPPacket>
    var depacketizer = VP8Depacketizer()
    var frames = 0

    init(ssrc: UInt32, video: Bool) {
        self.video = video
        statistics = ReceptionStatistics(ssrc: ssrc, clockRate: video ? 90000 : 48000)
        jitter = JitterBuffer(maxWait: video ? 0.3 : 0.08)
    }
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
        let raw = RawSRTP(keys: PacketSet.keys, inbound: true)
        for wire in set.protected {
            sink &+= wire.withUnsafeBytes { raw.unprotect($0) }
        }
    }
    emit("SRTP unprotect", "libsrtp", rawUnprotect, "packets/s")

    // 2. The receive path: unprotect, parse, route by SSRC, reception statistics, jitter
    //    buffer insert + pop, VP8 reassembly (what ReceiveSession does per packet, minus
    //    recording), from public APIs only.
    let receivePath = try packetsPerCPUSecond(packetsPerPass: count) {
        let receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
        var streams = [ReceivedStream(ssrc: PacketSet.videoSSRC, video: true), ReceivedStream(ssrc: PacketSet.audioSSRC, video: false)]
        let route: [UInt32: Int] = [PacketSet.videoSSRC: 0, PacketSet.audioSSRC: 1]
        for wire in set.protected {
            var bytes = wire
            try receiver.unprotect(&bytes)
            let packet = try RTPPacket(parsing: bytes)
            guard let index = route[packet.ssrc] else { continue }
            let now = monotonicNow()
            streams[index].statistics.packetReceived(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                                     size: packet.serializedSize, arrival: now)
            streams[index].jitter.insert(packet, sequenceNumber: packet.sequenceNumber, arrival: now)
            for output in streams[index].jitter.pop(now: now) {
                if streams[index].video {
                    if streams[index].depacketizer.add(output.element.payload, timestamp: output.element.timestamp,
                                                       marker: output.element.marker, discontinuity: output.discontinuity) != nil {
                        streams[index].frames += 1
                    }
                } else {
                    streams[index].frames += 1
                }
            }
        }
        sink &+= streams[0].frames + streams[1].frames
    }
    emit("receive path", "nacho", receivePath, "packets/s")
    emit("receive path", "libsrtp", rawUnprotect, "packets/s")

    // 3. The send path per packet: each encoded frame packetized (VP8 payload descriptors),
    //    RTP packets made (sequence numbers, header extensions, NACK history), serialized
    //    with room for the tag, protected.
    let sender = try SRTPContext(keys: PacketSet.keys, direction: .outbound)
    var videoStream = PacketSet.videoStream(), audioStream = PacketSet.audioStream()
    var packetizer = VP8Packetizer()
    var twcc: UInt16 = 0
    let sendPath = try packetsPerCPUSecond(packetsPerPass: count) {
        for frame in set.frames {
            let now = monotonicNow()
            let packets = frame.video
                ? videoStream.packets(for: packetizer.packetize(frame.data, maxPayloadSize: 1100), timestamp: frame.timestamp, captureTime: now, markLast: true,
                                      transportSequence: &twcc, now: now)
                : audioStream.packets(for: [frame.data], timestamp: frame.timestamp, captureTime: now, markLast: false,
                                      audioLevel: -10, transportSequence: &twcc, now: now)
            for packet in packets {
                var writer = ByteWriter(capacity: packet.serializedSize + SRTPContext.maxTrailer)
                packet.write(to: &writer)
                var bytes = writer.bytes
                try sender.protect(&bytes)
                sink &+= bytes.count
            }
        }
    }
    emit("send path", "nacho", sendPath, "packets/s")
    let rawProtect = packetsPerCPUSecond(packetsPerPass: count) {
        // A new context each pass: the same sequence numbers again are too old for libsrtp.
        let raw = RawSRTP(keys: PacketSet.keys, inbound: false)
        for bytes in set.plain {
            sink &+= bytes.withUnsafeBytes { raw.protect($0) }
        }
    }
    emit("send path", "libsrtp", rawProtect, "packets/s")
    if sink == 42 { print("") }  // keeps the work observable
}
