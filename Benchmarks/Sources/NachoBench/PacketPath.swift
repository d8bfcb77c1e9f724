import Bytes
import Codecs
import Dispatch
import DTLS
import Foundation
import Media
import PacketFixtures
import RTP
import SRTP
#if canImport(Glibc)
import Glibc
#endif

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
        let raw = RawSRTP(keys: PacketSet.keys, inbound: true)
        for wire in set.protected {
            sink &+= wire.withUnsafeBytes { raw.unprotect($0) }
        }
    }
    emit("SRTP unprotect", "libsrtp", rawUnprotect, "packets/s")

    // 2. The receive path as MediaReceiver runs it: the datagram copied into the transport's
    //    scratch buffer, unprotected and parsed in place, routed by SSRC to its InboundStream
    //    (statistics, ring jitter buffer, VP8 reassembly or whole Opus payloads), no recording.
    let receivePath = try packetsPerCPUSecond(packetsPerPass: count) {
        let receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
        let inbound = PacketSet.inboundStreams()
        let streams = [inbound.video, inbound.audio]
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
        let raw = RawSRTP(keys: PacketSet.keys, inbound: false)
        for bytes in set.plain {
            sink &+= bytes.withUnsafeBytes { raw.protect($0) }
        }
    }
    emit("send path", "libsrtp", rawProtect, "packets/s")
    if sink == 42 { print("") }  // keeps the work observable
}
