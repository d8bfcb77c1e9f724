import Benchmark
import DTLS
import RTP
import SRTP

/// A 1.1 kB video packet with the two header extensions nacho's senders write.
enum SamplePackets {
    static let rtp = RTPPacket(
        payloadType: 101, sequenceNumber: 1, timestamp: 90000, ssrc: 0x1234_5678, marker: true,
        headerExtension: RTPHeaderExtension(elements: [.init(id: 1, data: [0x30]), .init(id: 4, data: [1, 2, 3])]),
        payload: (0..<1100).map { UInt8(truncatingIfNeeded: $0 * 31) }[...])
    static let rtpWire = rtp.serialize()

    /// What a receiver sends about a video stream each interval: a receiver report, its CNAME,
    /// a NACK for a few losses and a PLI.
    static let rtcpCompound = RTCPPacket.serializeCompound([
        .receiverReport(ReceiverReport(ssrc: 0xAAAA_0001, reports: [
            ReceptionReport(ssrc: 0x1111_1111, fractionLost: 3, cumulativeLost: 12, extendedHighestSequence: 70_000),
        ])),
        .sourceDescription(SourceDescription(cname: "nacho-benchmark", ssrc: 0xAAAA_0001)),
        .nack(GenericNACK(senderSSRC: 0xAAAA_0001, mediaSSRC: 0x1111_1111, lost: [100, 101, 104, 130])),
        .pli(PictureLossIndication(senderSSRC: 0xAAAA_0001, mediaSSRC: 0x1111_1111)),
    ])
}

func rtpParse(_ benchmark: Benchmark) throws {
    let wire = SamplePackets.rtpWire
    var sizes = 0
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        sizes &+= try RTPPacket(parsing: wire[...]).payload.count
    }
    benchmark.stopMeasurement()
    blackHole(sizes)
}

func rtpSerialize(_ benchmark: Benchmark) {
    let packet = SamplePackets.rtp
    for _ in benchmark.scaledIterations {
        blackHole(packet.serialize())
    }
}

func rtcpParse(_ benchmark: Benchmark) throws {
    let wire = SamplePackets.rtcpCompound
    var parts = 0
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        parts &+= try RTCPPacket.parseCompound(wire[...]).count
    }
    benchmark.stopMeasurement()
    blackHole(parts)
}

/// Protect then unprotect the 1.1 kB packet, a new sequence number each time (a repeated one
/// is a replay).
func srtpRoundTrip(_ benchmark: Benchmark, profile: SRTPProtectionProfile) throws {
    let keys = SRTPKeys(profile: profile, key: Array(repeating: 7, count: profile.keyLength),
                        salt: Array(repeating: 9, count: profile.saltLength))
    let sender = try SRTPContext(keys: keys, direction: .outbound)
    let receiver = try SRTPContext(keys: keys, direction: .inbound, replayWindow: 1024)
    let wire = SamplePackets.rtpWire
    var buffer = wire
    buffer.reserveCapacity(wire.count + 64)
    benchmark.startMeasurement()
    for sequence in benchmark.scaledIterations {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: wire)
        buffer[2] = UInt8(truncatingIfNeeded: sequence >> 8)
        buffer[3] = UInt8(truncatingIfNeeded: sequence)
        try sender.protect(&buffer)
        try receiver.unprotect(&buffer)
    }
    benchmark.stopMeasurement()
    blackHole(buffer.count)
}
