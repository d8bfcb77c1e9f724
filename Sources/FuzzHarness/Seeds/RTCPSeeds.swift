import RTP

extension RTCPHarness {
    /// Every captured RTCP datagram kind (one of each file, a sample of the streams in both
    /// directions) and compounds built with nacho's serializers.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let files = [
            "rtcp-fir-to-producer", "rtcp-nack-keyframe-loss-to-producer", "rtcp-nack-multi-to-producer", "rtcp-nack-to-producer",
            "rtcp-pli-to-producer", "rtcp-remb-to-producer", "rtcp-rr-to-producer", "rtcp-sr-sdes-from-mediasoup",
            "rtcp-sr-sdes-single-from-mediasoup", "rtcp-transport-cc-largedelta-to-producer", "rtcp-transport-cc-noloss-to-producer",
            "rtcp-transport-cc-to-producer",
        ].map { fixtures.bytes("RTPTests/Fixtures/\($0).bin") }
        let streams = ["stream-rtcp-to-consumer", "stream-rtcp-to-producer-a", "stream-rtcp-to-producer-b"].flatMap { name in
            fixtures.packets("RTPTests/Fixtures/\(name).pkts").enumerated().filter { $0.offset % 10 == 0 }.map(\.element.datagram)
        }
        let built = [
            RTCPPacket.serializeCompound([
                .senderReport(SenderReport(ssrc: 0x2222_2222, ntpTimestamp: 0xE000_0000_8000_0000, rtpTimestamp: 3_000_000, packetCount: 40,
                                           octetCount: 5, reports: [ReceptionReport(ssrc: 6, fractionLost: 255, cumulativeLost: -1)])),
                .sourceDescription(SourceDescription(cname: "nacho", ssrc: 1)),
            ]),
            RTCPPacket.serializeCompound([.nack(GenericNACK(senderSSRC: 0, mediaSSRC: 0x2222_2222, lost: [0, 1, 2, 40, 599, 600, 65535]))]),
            RTCPPacket.serializeCompound([.nack(GenericNACK(senderSSRC: 0, mediaSSRC: 0x2222_2223, lost: Array(0...40)))]),
            RTCPPacket.serializeCompound([.remb(ReceiverEstimatedMaxBitrate(senderSSRC: 0, bitrate: 0x3FFFF << 46, ssrcs: [0x2222_2222]))]),
            RTCPPacket.serializeCompound([.fir(FullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 3)]))]),
            RTCPPacket.serializeCompound([.goodbye(Goodbye(ssrcs: [1, 2], reason: "bye")), .pli(PictureLossIndication(senderSSRC: 1, mediaSSRC: 2))]),
            RTCPPacket.serializeCompound([.receiverReport(ReceiverReport(ssrc: 1, reports: (0..<31).map { ReceptionReport(ssrc: UInt32($0)) }))]),
        ]
        return files + streams + built
    }
}
