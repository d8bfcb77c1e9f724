import DTLS
import ICE
import RTP
import SRTP
@testable import Transport
import XCTest

/// The transport without sockets: a scripted ICE-lite server (answers checks, never sends
/// its own, as mediasoup) with a real DTLS server endpoint and SRTP contexts behind it.
final class TransportCoreTests: XCTestCase {
    private static let clientCertificate = try! DTLSCertificate.generate(commonName: "client")
    private static let serverCertificate = try! DTLSCertificate.generate(commonName: "server")
    private let udp = ICEEndpoint(host: "127.0.0.1", port: 40000)
    private let tcp = ICEEndpoint(host: "127.0.0.1", port: 40001, transport: .tcp)
    private let client = ICEEndpoint(host: "127.0.0.1", port: 50000)
    private let serverPassword = "server-password-0123456789"

    /// The server side: answers STUN, runs DTLS as server, then SRTP.
    private final class LiteServer {
        let password: String
        let dtls: DTLSEndpoint
        var answering = true
        var checks = 0
        var send: SRTPContext?
        var receive: SRTPContext?

        init(password: String, fingerprint: String) throws {
            self.password = password
            dtls = try DTLSEndpoint(role: .server, certificate: TransportCoreTests.serverCertificate,
                                    remoteFingerprints: [("sha-256", fingerprint)])
        }

        /// What the server sends back for one datagram from the client.
        func handle(_ bytes: [UInt8]) -> [[UInt8]] {
            if let request = try? STUNMessage(parsing: bytes[...]), request.messageClass == .request {
                checks += 1
                guard answering, STUNMessage.verifyIntegrity(bytes[...], key: Array(password.utf8)) else { return [] }
                let answer = STUNMessage(class: .success, transactionID: request.transactionID, attributes: [
                    .xorMappedAddress(STUNAddress(ipv4: "127.0.0.1", port: 50000)!, transactionID: request.transactionID),
                ])
                return [answer.serialize(integrityKey: Array(password.utf8), fingerprint: true)]
            }
            guard let first = bytes.first, (20...63).contains(first) else { return [] }
            let output = dtls.receive(bytes[...])
            if let keys = output.keys {
                send = try? SRTPContext(keys: keys.local, direction: .outbound)
                receive = try? SRTPContext(keys: keys.remote, direction: .inbound)
            }
            return output.datagrams
        }
    }

    private func makeCore(candidates: [ICERemoteCandidate]? = nil, serverFingerprint: String? = nil,
                          consentTimeout: Duration = .seconds(30)) throws -> TransportCore {
        var ice = ICEAgent.Configuration(localUfrag: "nacho", localPassword: "local-password-0123456789",
                                         remoteUfrag: "server", remotePassword: serverPassword, tieBreaker: 7)
        ice.consentTimeout = consentTimeout
        let dtls = try DTLSEndpoint(role: .client, certificate: Self.clientCertificate,
                                    remoteFingerprints: [("sha-256", serverFingerprint ?? Self.serverCertificate.sha256Fingerprint)])
        return TransportCore(ice: ice, remoteCandidates: candidates ?? [
            ICERemoteCandidate(endpoint: udp, priority: 1_076_302_079),
            ICERemoteCandidate(endpoint: tcp, priority: 1_076_276_479),
        ], dtls: dtls, seed: 1)
    }

    /// Delivers datagrams both ways until nothing is in flight; returns the core's state
    /// changes (everything but sends).
    @discardableResult
    private func exchange(_ core: TransportCore, _ server: LiteServer, _ outputs: [TransportCore.Output],
                          now: ContinuousClock.Instant) -> [TransportCore.Output] {
        var events: [TransportCore.Output] = []
        var pending = outputs
        for _ in 0..<50 where !pending.isEmpty {
            var next: [TransportCore.Output] = []
            for output in pending {
                guard case .send(let bytes, let to) = output else {
                    events.append(output)
                    continue
                }
                for answer in server.handle(bytes) {
                    var produced: [TransportCore.Output] = []
                    _ = answer.withUnsafeBytes { raw in
                        core.receive(raw, fromSelected: core.remote == to, endpoint: { to }, now: now, outputs: &produced)
                    }
                    next += produced
                }
            }
            pending = next
        }
        return events
    }

    private func connected(_ core: TransportCore) -> (ICEEndpoint, SRTPProtectionProfile)? {
        if case .connected(let remote, let profile) = core.state { return (remote, profile) }
        return nil
    }

    func testICEThenDTLSThenSRTPBothWays() throws {
        let core = try makeCore()
        let server = try LiteServer(password: serverPassword, fingerprint: Self.clientCertificate.sha256Fingerprint)
        let start = ContinuousClock.now
        XCTAssertEqual(core.state, .new)
        let first = core.start(now: start)
        XCTAssertEqual(core.state, .checking(.udp))
        let events = exchange(core, server, first, now: start)
        let (remote, profile) = try XCTUnwrap(connected(core), "\(core.state)")
        XCTAssertEqual(remote, udp)
        XCTAssertEqual(events, [.connected(remote: udp, profile: profile)])
        XCTAssertGreaterThan(server.checks, 0)

        // Server → client: an SRTP packet comes out parsed; a tampered one is discarded.
        var wire = RTPPacket(payloadType: 101, sequenceNumber: 7, timestamp: 9000, ssrc: 42, marker: true, payload: [1, 2, 3]).serialize()
        try XCTUnwrap(server.send).protect(&wire)
        var outputs: [TransportCore.Output] = []
        let received = wire.withUnsafeBytes { core.receive($0, fromSelected: true, endpoint: { self.udp }, now: start, outputs: &outputs) }
        guard case .rtp(let packet, _) = received else { return XCTFail("\(received)") }
        XCTAssertEqual(Array(packet.payload), [1, 2, 3])
        XCTAssertEqual(packet.ssrc, 42)
        wire[wire.count - 1] ^= 1
        let tampered = wire.withUnsafeBytes { core.receive($0, fromSelected: true, endpoint: { self.udp }, now: start, outputs: &outputs) }
        guard case .nothing = tampered else { return XCTFail("a packet failing authentication got through") }
        XCTAssertEqual(core.statistics.packetsDiscarded, 1)

        // Client → server: protected in place in a buffer with room for the tag.
        let plain = RTPPacket(payloadType: 100, sequenceNumber: 1, timestamp: 960, ssrc: 99, payload: [9, 9]).serialize()
        var buffer = [UInt8](repeating: 0, count: plain.count + SRTPContext.maxTrailer)
        let length = try XCTUnwrap(buffer.withUnsafeMutableBytes { raw -> Int? in
            plain.withUnsafeBytes { raw.copyMemory(from: $0) }
            return core.protect(raw, length: plain.count, rtcp: false)
        })
        var sent = Array(buffer.prefix(length))
        try XCTUnwrap(server.receive).unprotect(&sent)
        XCTAssertEqual(sent, plain)
    }

    func testMediaFromAnywhereButTheSelectedPathIsIgnored() throws {
        let core = try makeCore()
        let server = try LiteServer(password: serverPassword, fingerprint: Self.clientCertificate.sha256Fingerprint)
        exchange(core, server, core.start(now: .now), now: .now)
        XCTAssertNotNil(connected(core))
        var wire = RTPPacket(payloadType: 101, sequenceNumber: 7, timestamp: 9000, ssrc: 42, payload: [1]).serialize()
        try XCTUnwrap(server.send).protect(&wire)
        var outputs: [TransportCore.Output] = []
        let received = wire.withUnsafeBytes { core.receive($0, fromSelected: false, endpoint: { self.client }, now: .now, outputs: &outputs) }
        guard case .nothing = received else { return XCTFail("media from another address was accepted") }
    }

    func testProbationPacketsAreDropped() throws {
        let core = try makeCore()
        let server = try LiteServer(password: serverPassword, fingerprint: Self.clientCertificate.sha256Fingerprint)
        exchange(core, server, core.start(now: .now), now: .now)
        var wire = RTPPacket(payloadType: 127, sequenceNumber: 1, timestamp: 0, ssrc: 1234, payload: [0, 0, 0]).serialize()
        try XCTUnwrap(server.send).protect(&wire)
        var outputs: [TransportCore.Output] = []
        _ = wire.withUnsafeBytes { core.receive($0, fromSelected: true, endpoint: { self.udp }, now: .now, outputs: &outputs) }
        XCTAssertEqual(core.statistics.probationPacketsDropped, 1)
        XCTAssertEqual(core.statistics.rtpPacketsReceived, 0)
    }

    func testConsentLostWhenTheServerStopsAnswering() throws {
        let core = try makeCore(consentTimeout: .seconds(6))
        let server = try LiteServer(password: serverPassword, fingerprint: Self.clientCertificate.sha256Fingerprint)
        let start = ContinuousClock.now
        exchange(core, server, core.start(now: start), now: start)
        XCTAssertNotNil(connected(core))
        server.answering = false
        var now = start
        var events: [TransportCore.Output] = []
        while now < start + .seconds(10), events.isEmpty {
            now = core.nextDeadline(now: now) ?? now + .seconds(1)
            events = exchange(core, server, core.tick(now: now), now: now)
        }
        guard case .failed(.connectionLost)? = events.first else { return XCTFail("\(events)") }
        XCTAssertGreaterThanOrEqual(now, start + .seconds(6))
        XCTAssertEqual(core.state, .failed(.connectionLost("no answer to ICE consent checks for 6.0 seconds")))
        XCTAssertNil(core.nextDeadline(now: now), "a failed transport has nothing left to do")
    }

    /// UDP gets no answer: after 5 s the core asks for the server's TCP candidate, then
    /// connects over it (RFC 6544).
    func testFallsBackToTCPWhenUDPGetsNoAnswer() throws {
        let core = try makeCore()
        let server = try LiteServer(password: serverPassword, fingerprint: Self.clientCertificate.sha256Fingerprint)
        let start = ContinuousClock.now
        var outputs = core.start(now: start)
        var now = start
        var asked: ICEEndpoint?
        while now < start + .seconds(8), asked == nil {
            for case .openTCP(let candidate) in outputs { asked = candidate }
            now = core.nextDeadline(now: now) ?? now + .milliseconds(100)
            outputs = core.tick(now: now)
        }
        XCTAssertEqual(asked, tcp)
        XCTAssertGreaterThanOrEqual(now, start + .seconds(5))
        let events = exchange(core, server, core.startTCP(now: now), now: now)
        let (remote, _) = try XCTUnwrap(connected(core), "\(core.state) \(events)")
        XCTAssertEqual(remote, tcp)
    }

    func testNoAnswerAtAllFailsICE() throws {
        let core = try makeCore(candidates: [ICERemoteCandidate(endpoint: udp, priority: 1)])
        let start = ContinuousClock.now
        _ = core.start(now: start)
        let events = core.tick(now: start + .seconds(11))
        guard case .failed(.iceFailed)? = events.first else { return XCTFail("\(events)") }
    }

    func testWrongFingerprintFailsBeforeAnyKey() throws {
        let core = try makeCore(serverFingerprint: Self.clientCertificate.sha256Fingerprint)
        let server = try LiteServer(password: serverPassword, fingerprint: Self.clientCertificate.sha256Fingerprint)
        let events = exchange(core, server, core.start(now: .now), now: .now)
        guard case .failed(.dtls(.fingerprintMismatch))? = events.last else { return XCTFail("\(events)") }
        var buffer = [UInt8](repeating: 0, count: 64)
        XCTAssertNil(buffer.withUnsafeMutableBytes { core.protect($0, length: 12, rtcp: false) }, "nothing is sent without SRTP")
    }

    func testInitialDTLSTimeoutFollowsTheRoundTrip() {
        XCTAssertEqual(TransportCore.initialDTLSTimeout(roundTripTime: nil), .milliseconds(100))
        XCTAssertEqual(TransportCore.initialDTLSTimeout(roundTripTime: .milliseconds(1)), .milliseconds(50))
        XCTAssertEqual(TransportCore.initialDTLSTimeout(roundTripTime: .milliseconds(80)), .milliseconds(160))
        XCTAssertEqual(TransportCore.initialDTLSTimeout(roundTripTime: .seconds(5)), .seconds(3))
    }
}
