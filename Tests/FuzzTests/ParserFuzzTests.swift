import Bytes
import DTLS
import ICE
import RTP
import XCTest

/// Randomized robustness run of every wire-format parser nacho exposes to the network: at
/// least 100,000 inputs each, mutated from valid packets (bit flips, byte edits, truncation,
/// growth, splices) and pure noise. A parser may throw; it must never trap, hang, or accept
/// something it then cannot serialize. Deterministic seeds, so a failure repeats.
final class ParserFuzzTests: XCTestCase {
    static let iterations = Int(ProcessInfo.processInfo.environment["NACHO_FUZZ_ITERATIONS"] ?? "") ?? 100_000

    private func seedsRTP() -> [[UInt8]] {
        [
            RTPPacket(payloadType: 101, sequenceNumber: 7360, timestamp: 349_625_355, ssrc: 773_969_497,
                      headerExtension: RTPHeaderExtension(elements: [.init(id: 1, data: [0x30]), .init(id: 4, data: [0x10, 0xF3, 0xB6]),
                                                                     .init(id: 5, data: [0x00, 0x2A])]),
                      payload: ArraySlice((0..<64).map { UInt8($0) })).serialize(),
            RTPPacket(payloadType: 100, sequenceNumber: 1, timestamp: 2, ssrc: 3, marker: true, csrcs: [9, 10],
                      payload: [0xFC, 0xFF, 0xFE], paddingLength: 4).serialize(),
            // mediasoup's mid padding inside the one-byte block, as captured.
            [UInt8](hex: "90651cc014d6d60b2e21d759bede00031030000040011f8fa5100022b200a5c1b06c4f0a")!,
        ]
    }

    private func seedsRTCP() -> [[UInt8]] {
        [
            RTCPPacket.serializeCompound([
                .senderReport(SenderReport(ssrc: 1, ntpTimestamp: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5,
                                           reports: [ReceptionReport(ssrc: 6, cumulativeLost: -1)])),
                .sourceDescription(SourceDescription(cname: "nacho", ssrc: 1)),
            ]),
            RTCPPacket.serializeCompound([.nack(GenericNACK(senderSSRC: 0, mediaSSRC: 5, lost: [1, 2, 40]))]),
            RTCPPacket.serializeCompound([.remb(ReceiverEstimatedMaxBitrate(senderSSRC: 0, bitrate: 293_432, ssrcs: [1, 2]))]),
            RTCPPacket.serializeCompound([.fir(FullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 3)]))]),
            RTCPPacket.serializeCompound([.goodbye(Goodbye(ssrcs: [1], reason: "bye"))]),
            // Captured transport-cc feedback with a two-byte delta and an RR + XR compound.
            [UInt8](hex: "8fcd00060000000001fca055009b0004008154 2fc000089e00a0014c00".replacingOccurrences(of: " ", with: ""))!,
            [UInt8](hex: "81c90007000000000153158e0c0000050000043c000003d500000000000000008fcf000200000000")!,
        ]
    }

    private func seedsSTUN() -> [[UInt8]] {
        let id = (0..<12).map { UInt8($0) }
        return [
            STUNMessage(class: .request, transactionID: id, attributes: [.username("a:b"), .priority(7), .iceControlling(tieBreaker: 9), .useCandidateFlag])
                .serialize(integrityKey: [1, 2, 3], fingerprint: true),
            STUNMessage(class: .success, transactionID: id, attributes: [.xorMappedAddress(STUNAddress(ipv4: "127.0.0.1", port: 9)!, transactionID: id)])
                .serialize(integrityKey: [4], fingerprint: true),
            STUNMessage(class: .error, transactionID: id, attributes: [.errorCode(487, reason: "Role Conflict")]).serialize(),
        ]
    }

    private func seedsDTLS() -> [[UInt8]] {
        let a = DTLSRecord(contentType: 22, version: 0xFEFF, epoch: 0, sequenceNumber: 0, fragment: ArraySlice((0..<120).map { UInt8($0) })).serialize()
        let b = DTLSRecord(contentType: 20, epoch: 0, sequenceNumber: 5, fragment: [1]).serialize()
        let c = DTLSRecord(contentType: 23, epoch: 1, sequenceNumber: 0xFFFF_FFFF_FFFF, fragment: ArraySlice(repeating: 0xAB, count: 40)).serialize()
        return [a, a + b + c, c]
    }

    private func run(_ name: String, seeds: [[UInt8]], seed: UInt64, _ check: ([UInt8]) throws -> Void) {
        var random = SplitMix64(seed: seed)
        func body(_ input: [UInt8]) {
            do {
                try check(input)
            } catch {
                XCTFail("\(name): \(input.hex): \(error)")
            }
        }
        for seedPacket in seeds { body(seedPacket) }
        for i in 0..<Self.iterations {
            let input: [UInt8]
            if i % 10 == 9 {
                input = (0..<Int(random.next() % 96)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                input = random.mutate(seeds[Int(random.next() % UInt64(seeds.count))], splice: seeds)
            }
            body(input)
        }
    }

    func testRTP() {
        run("RTP", seeds: seedsRTP(), seed: 1) { bytes in
            guard let packet = try? RTPPacket(parsing: bytes) else { return }
            // Whatever parses re-serializes to the same packet (to the same bytes unless the
            // padding held non-zero filler, which RTP leaves unspecified) and reads element by element.
            if packet.paddingLength == 0 {
                XCTAssertEqual(packet.serialize(), bytes)
            } else {
                XCTAssertEqual(try RTPPacket(parsing: packet.serialize()), packet)
            }
            _ = try? packet.headerExtension?.elements()
            _ = packet.extensionElement(1)
        }
    }

    func testRTCP() {
        run("RTCP", seeds: seedsRTCP(), seed: 2) { bytes in
            guard let packets = try? RTCPPacket.parseCompound(bytes) else { return }
            let again = RTCPPacket.serializeCompound(packets)
            _ = try RTCPPacket.parseCompound(again)
            for case .nack(let nack) in packets { _ = nack.lostSequenceNumbers }
        }
    }

    func testSTUN() {
        run("STUN", seeds: seedsSTUN(), seed: 3) { bytes in
            _ = STUNMessage.verifyIntegrity(bytes[...], key: [1, 2, 3])
            _ = STUNMessage.verifyFingerprint(bytes[...])
            guard let message = try? STUNMessage(parsing: bytes) else { return }
            _ = (message.username, message.priority, message.errorCode, message.xorMappedAddress, message.hasUseCandidate)
            _ = try STUNMessage(parsing: message.serialize())
        }
    }

    func testDTLSRecords() {
        run("DTLS", seeds: seedsDTLS(), seed: 4) { bytes in
            guard let records = try? DTLSRecord.split(bytes[...]) else { return }
            XCTAssertEqual(records.flatMap { $0.serialize() }, bytes)
            _ = DTLSRecord.packetize(bytes, mtu: 200)
        }
    }
}

/// Mutations in the style of libFuzzer's, on the seeded generator.
extension SplitMix64 {
    mutating func mutate(_ input: [UInt8], splice seeds: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...(next() % 4) {
            switch next() % 7 {
            case 0 where !bytes.isEmpty:  // flip a bit
                let i = Int(next() % UInt64(bytes.count))
                bytes[i] ^= 1 << UInt8(next() % 8)
            case 1 where !bytes.isEmpty:  // set a byte to an interesting value
                let i = Int(next() % UInt64(bytes.count))
                bytes[i] = [0, 1, 0x7F, 0x80, 0xFF, 0x0F, 0x10][Int(next() % 7)]
            case 2 where !bytes.isEmpty:  // truncate
                bytes.removeLast(Int(next() % UInt64(bytes.count)))
            case 3:  // grow
                bytes += (0..<Int(next() % 16)).map { _ in UInt8(truncatingIfNeeded: next()) }
            case 4 where bytes.count > 3:  // corrupt a 16-bit length-looking field
                let i = Int(next() % UInt64(bytes.count - 1))
                bytes[i] = UInt8(truncatingIfNeeded: next())
                bytes[i + 1] = UInt8(truncatingIfNeeded: next())
            case 5:  // splice another seed in
                let other = seeds[Int(next() % UInt64(seeds.count))]
                let cut = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count))
                bytes = Array(bytes.prefix(cut)) + other.suffix(Int(next() % UInt64(other.count + 1)))
            default:  // duplicate a chunk
                if bytes.count > 4 {
                    let start = Int(next() % UInt64(bytes.count - 2))
                    let length = Int(next() % UInt64(min(16, bytes.count - start)))
                    bytes.insert(contentsOf: bytes[start..<(start + length)], at: start)
                }
            }
        }
        return bytes
    }
}
