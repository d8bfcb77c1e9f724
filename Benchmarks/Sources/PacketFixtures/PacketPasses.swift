import Congestion
import DTLS
import Media
import RTP
import SRTP

/// One of the packet paths over a `PacketSet`, as nacho runs it; `nacho-bench` times the passes
/// per CPU second, the MediaPath benchmarks measure them. A pass is made fresh for each run (a
/// new SRTP context: the same packets again would be replays, or too old to protect), and
/// `init` holds all of the set-up, so `run()` is the per-packet work alone.
public protocol PacketPass {
    init(set: PacketSet) throws
    /// Runs every packet (or frame) of the set once; returns a figure of the work done, to keep
    /// it observable.
    mutating func run() throws -> Int
}

/// The receive path as MediaReceiver runs it, for every packet of the set: the datagram copied
/// into the transport's scratch buffer, unprotected and parsed in place, routed by SSRC to its
/// InboundStream (statistics, jitter buffer, VP8 reassembly; Opus counted, not handed out).
/// Arrival times are spread evenly over the set's 10 s so that every run does the same work.
public struct ReceivePass: PacketPass {
    private let set: PacketSet
    private let receiver: SRTPContext
    private let audio: InboundStream
    private let route: [UInt32: InboundStream]
    private var scratch: [UInt8] = []

    public init(set: PacketSet) throws {
        self.set = set
        receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
        let (video, audio) = PacketSet.inboundStreams()
        self.audio = audio
        route = [PacketSet.videoSSRC: video, PacketSet.audioSSRC: audio]
        scratch.reserveCapacity(2048)
    }

    /// Returns the frames handed out and the audio packets counted.
    public mutating func run() throws -> Int {
        var frames = 0
        let spacing = 10.0 / Double(max(set.protected.count, 1))
        for (index, wire) in set.protected.enumerated() {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: wire)
            try receiver.unprotect(&scratch)
            let packet = try RTPPacket(parsing: scratch[...])
            guard let stream = route[packet.ssrc] else { continue }
            stream.receive(packet, size: scratch.count, arrival: Double(index) * spacing) { _ in frames += 1 }
        }
        return frames + audio.counters.frames
    }
}

/// The send path as MediaSender runs it, for every frame of the set: packetized by its
/// OutboundStream (VP8 descriptors, header extensions, history) and queued in the pacer, which
/// lets them out at its rate as the frames come (what is left at the end, at the times it
/// asks for); each emitted with its transport-wide sequence into one reused buffer, copied
/// into the buffer it goes out in with room for the tag, protected there.
public struct SendPass: PacketPass {
    /// 2.5 × the set's 800 + 32 kb/s, as `SendEngine` paces before the controller gives a target.
    static let pacingRate = 2_080_000

    private let set: PacketSet
    private let sender: SRTPContext
    private let video: OutboundStream, audio: OutboundStream
    private var outgoing = [UInt8](repeating: 0, count: 2048)
    private var pacer = PacketPacer(pacingRate: SendPass.pacingRate)

    public init(set: PacketSet) throws {
        self.set = set
        sender = try SRTPContext(keys: PacketSet.keys, direction: .outbound)
        video = PacketSet.videoStream()
        audio = PacketSet.audioStream()
    }

    /// Returns the bytes protected.
    public mutating func run() -> Int {
        var twcc: UInt16 = 0
        var sent = 0
        let sender = sender, video = video, audio = audio
        var outgoing = outgoing, pacer = pacer
        func drain(now: Double) {
            pacer.process(now: now, send: { packet, _ in
                (packet.stream == 0 ? video : audio).emit(sequenceNumber: packet.sequenceNumber, transportSequence: &twcc, now: now) { bytes in
                    outgoing.withUnsafeMutableBytes { raw in
                        raw.copyMemory(from: bytes)
                        sent &+= (try? sender.protect(raw, length: bytes.count)) ?? 0
                    }
                }
            }, pad: { _, _ in 0 })
        }
        var now = 0.0
        for frame in set.frames {
            now = frame.time
            let stream = frame.video ? video : audio
            stream.packetize(frame: frame.data, timestamp: frame.timestamp, captureTime: frame.time, isKeyFrame: false,
                             audioLevel: frame.video ? nil : -10, now: now) { sequence, size in
                pacer.enqueue(PacedPacket(kind: frame.video ? .video : .audio, stream: frame.video ? 0 : 1, sequenceNumber: sequence,
                                          size: size, enqueuedAt: now))
            }
            drain(now: now)
        }
        while let next = pacer.nextSendTime(now: now) {
            now = next
            drain(now: now)
        }
        self.outgoing = outgoing
        self.pacer = pacer
        return sent
    }
}

/// SRTP alone: every packet of the set unprotected from a fresh copy, as a datagram read from
/// the socket is.
public struct UnprotectPass: PacketPass {
    private let set: PacketSet
    private let receiver: SRTPContext

    public init(set: PacketSet) throws {
        self.set = set
        receiver = try SRTPContext(keys: PacketSet.keys, direction: .inbound)
    }

    /// Returns the bytes unprotected.
    public func run() throws -> Int {
        var bytes = 0
        for wire in set.protected {
            var copy = wire
            try receiver.unprotect(&copy)
            bytes &+= copy.count
        }
        return bytes
    }
}
