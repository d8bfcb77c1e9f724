import Benchmark
import DTLS
import Media
import PacketFixtures
import RTP
import SRTP

/// The recorded stream every packet-path benchmark runs on: 10 s of 640x480@30 VP8 at 800 kb/s
/// and Opus 32 kb/s, as `nacho-bench` uses it. Made once per process, before any measurement.
enum Fixtures {
    static let set = Result { try PacketSet(seconds: 10, width: 640, height: 480, fps: 30, bitrate: 800_000) }
}

/// The receive path as MediaReceiver runs it, for every packet of the set: the datagram copied
/// into the transport's scratch buffer, unprotected and parsed in place, routed by SSRC to its
/// InboundStream (statistics, jitter buffer, VP8 reassembly; Opus counted). Arrival times are
/// spread evenly over the set's 10 s so that every run does the same work.
func receivePass(_ benchmark: Benchmark) throws {
    let set = try Fixtures.set.get()
    let receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
    let (video, audio) = PacketSet.inboundStreams()
    var scratch: [UInt8] = []
    scratch.reserveCapacity(2048)
    var frames = 0
    let spacing = 10.0 / Double(set.protected.count)
    benchmark.startMeasurement()
    for (index, wire) in set.protected.enumerated() {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: wire)
        try receiver.unprotect(&scratch)
        let packet = try RTPPacket(parsing: scratch[...])
        let stream = packet.ssrc == PacketSet.videoSSRC ? video : audio
        stream.receive(packet, size: scratch.count, arrival: Double(index) * spacing) { _ in frames += 1 }
    }
    benchmark.stopMeasurement()
    blackHole(frames + audio.counters.frames)
}

/// The send path as MediaSender runs it, for every frame of the set: packetized by its
/// OutboundStream (VP8 descriptors, header extensions, retransmission history) into one reused
/// buffer, copied into the buffer it goes out in with room for the tag, protected there.
func sendPass(_ benchmark: Benchmark) throws {
    let set = try Fixtures.set.get()
    let sender = try SRTPContext(keys: PacketSet.keys, direction: .outbound)
    let video = PacketSet.videoStream(), audio = PacketSet.audioStream()
    var twcc: UInt16 = 0
    var outgoing = [UInt8](repeating: 0, count: 2048)
    var sent = 0
    benchmark.startMeasurement()
    for frame in set.frames {
        let stream = frame.video ? video : audio
        stream.send(frame: frame.data, timestamp: frame.timestamp, captureTime: frame.time, isKeyFrame: false,
                    audioLevel: frame.video ? nil : -10, transportSequence: &twcc, now: frame.time) { packet in
            outgoing.withUnsafeMutableBytes { raw in
                raw.copyMemory(from: packet)
                sent &+= (try? sender.protect(raw, length: packet.count)) ?? 0
            }
        }
    }
    benchmark.stopMeasurement()
    blackHole(sent)
}

/// SRTP alone: every packet of the set unprotected from a fresh copy (as a datagram read from
/// the socket is). A new context each pass: the same packets again would be replays.
func unprotectPass(_ benchmark: Benchmark) throws {
    let set = try Fixtures.set.get()
    let receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
    var bytes = 0
    benchmark.startMeasurement()
    for wire in set.protected {
        var copy = wire
        try receiver.unprotect(&copy)
        bytes &+= copy.count
    }
    benchmark.stopMeasurement()
    blackHole(bytes)
}
