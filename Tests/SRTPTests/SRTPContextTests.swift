import DTLS
import Bytes
import RTP
import SRTP
import XCTest

final class SRTPContextTests: XCTestCase {
    // libsrtp's published known-answer vector (AES_CM_128_HMAC_SHA1_80, the RFC 3711 B.2 keys):
    // SSRC 0xcafebabe, seq 0x1234, 16 bytes of 0xab.
    private let master = [UInt8](hex: "e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6")!
    private let plaintext = [UInt8](hex: "800f1234decafbadcafebabe" + String(repeating: "ab", count: 16))!
    private let ciphertext = [UInt8](hex: "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb")!

    private var keys: SRTPKeys {
        SRTPKeys(profile: .aes128CMHMACSHA1_80, key: Array(master.prefix(16)), salt: Array(master.suffix(14)))
    }

    func testKnownAnswer() throws {
        let sender = try SRTPContext(keys: keys, direction: .outbound)
        var packet = plaintext
        try sender.protect(&packet)
        XCTAssertEqual(packet, ciphertext)
        let receiver = try SRTPContext(keys: keys, direction: .inbound)
        try receiver.unprotect(&packet)
        XCTAssertEqual(packet, plaintext)
    }

    func testEveryProfileRoundTripsRTPAndRTCP() throws {
        for profile in SRTPProtectionProfile.allCases {
            let material = (0..<profile.keyingMaterialLength).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
            let (client, server) = try XCTUnwrap(SRTPKeys.fromKeyingMaterial(material, profile: profile))
            XCTAssertNotEqual(client.key, server.key)
            let send = try SRTPContext(keys: client, direction: .outbound)
            let receive = try SRTPContext(keys: client, direction: .inbound)
            let rtp = RTPPacket(payloadType: 101, sequenceNumber: 9, timestamp: 90000, ssrc: 42, payload: [1, 2, 3, 4, 5]).serialize()
            var protected = rtp
            try send.protect(&protected)
            XCTAssertGreaterThan(protected.count, rtp.count, "\(profile)")
            XCTAssertNotEqual(Array(protected.suffix(5)), [1, 2, 3, 4, 5])
            try receive.unprotect(&protected)
            XCTAssertEqual(protected, rtp, "\(profile)")

            let rtcp = RTCPPacket.serializeCompound([.pli(PictureLossIndication(senderSSRC: 1, mediaSSRC: 42))])
            var protectedRTCP = rtcp
            try send.protectRTCP(&protectedRTCP)
            try receive.unprotectRTCP(&protectedRTCP)
            XCTAssertEqual(protectedRTCP, rtcp, "\(profile)")

            // The server's keys do not open the client's packets.
            let wrong = try SRTPContext(keys: server, direction: .inbound)
            var other = rtp
            try send.protect(&other)
            XCTAssertThrowsError(try wrong.unprotect(&other)) {
                XCTAssertEqual(($0 as? SRTPError)?.kind, .authenticationFailed)
            }
        }
    }

    func testTamperingAndReplay() throws {
        let send = try SRTPContext(keys: keys, direction: .outbound)
        let receive = try SRTPContext(keys: keys, direction: .inbound)
        var packet = plaintext
        try send.protect(&packet)
        var tampered = packet
        tampered[20] ^= 0x01
        XCTAssertThrowsError(try receive.unprotect(&tampered)) { XCTAssertEqual(($0 as? SRTPError)?.kind, .authenticationFailed) }
        XCTAssertEqual(tampered.count, packet.count, "a failed unprotect leaves the buffer as it was")
        var first = packet
        try receive.unprotect(&first)
        var replayed = packet
        XCTAssertThrowsError(try receive.unprotect(&replayed)) { XCTAssertEqual(($0 as? SRTPError)?.kind, .replay) }
    }

    func testReplayWindowAcceptsLateRetransmissions() throws {
        // Packets 1000 late (inside the 1024 window) still pass: NACK answers arrive late.
        let send = try SRTPContext(keys: keys, direction: .outbound)
        let receive = try SRTPContext(keys: keys, direction: .inbound)
        var packets: [[UInt8]] = []
        for seq in 0..<1100 {
            var bytes = RTPPacket(payloadType: 96, sequenceNumber: UInt16(seq), timestamp: 0, ssrc: 7, payload: [UInt8(seq & 0xFF)]).serialize()
            try send.protect(&bytes)
            packets.append(bytes)
        }
        for index in 0..<1100 where index != 90 {
            var p = packets[index]
            try receive.unprotect(&p)
        }
        var late = packets[90]
        XCTAssertNoThrow(try receive.unprotect(&late), "1009 packets late is inside the window")
        // Resending the same packet from the sender side is allowed (allow_repeat_tx).
        var again = RTPPacket(payloadType: 96, sequenceNumber: 1000, timestamp: 0, ssrc: 7, payload: [UInt8(1000 & 0xFF)]).serialize()
        XCTAssertNoThrow(try send.protect(&again))
    }
}
