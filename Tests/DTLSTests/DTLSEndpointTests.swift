import Bytes
@testable import DTLS
import SRTP
import XCTest

/// Two DTLS endpoints wired back to back in memory: the real OpenSSL handshake, no sockets.
final class DTLSEndpointTests: XCTestCase {
    private static let clientCertificate = try! DTLSCertificate.generate(commonName: "client")
    private static let serverCertificate = try! DTLSCertificate.generate(commonName: "server")

    private func pair(serverFingerprint: String? = nil, clientProfiles: [SRTPProtectionProfile] = SRTPProtectionProfile.allCases,
                      serverProfiles: [SRTPProtectionProfile] = SRTPProtectionProfile.allCases) throws -> (DTLSEndpoint, DTLSEndpoint) {
        let client = try DTLSEndpoint(role: .client, certificate: Self.clientCertificate,
                                      remoteFingerprints: [("sha-256", serverFingerprint ?? Self.serverCertificate.sha256Fingerprint)],
                                      profiles: clientProfiles)
        let server = try DTLSEndpoint(role: .server, certificate: Self.serverCertificate,
                                      remoteFingerprints: [("sha-256", Self.clientCertificate.sha256Fingerprint)],
                                      profiles: serverProfiles)
        return (client, server)
    }

    /// Runs the handshake, dropping datagrams for which `drop` says so; returns both sides' outputs.
    private func handshake(_ client: DTLSEndpoint, _ server: DTLSEndpoint, drop: (Int) -> Bool = { _ in false })
        -> (client: DTLSEndpoint.Output, server: DTLSEndpoint.Output) {
        var clientResult = DTLSEndpoint.Output()
        var serverResult = DTLSEndpoint.Output()
        var toServer = client.start().datagrams
        var toClient: [[UInt8]] = []
        var sent = 0
        for _ in 0..<40 {
            for datagram in toServer {
                sent += 1
                if drop(sent) { continue }
                let out = server.receive(datagram[...])
                toClient += out.datagrams
                if out.keys != nil { serverResult.keys = out.keys }
                if let failure = out.failure { serverResult.failure = failure }
            }
            toServer = []
            for datagram in toClient {
                sent += 1
                if drop(sent) { continue }
                let out = client.receive(datagram[...])
                toServer += out.datagrams
                if out.keys != nil { clientResult.keys = out.keys }
                if let failure = out.failure { clientResult.failure = failure }
            }
            toClient = []
            if (clientResult.keys != nil && serverResult.keys != nil) || clientResult.failure != nil || serverResult.failure != nil {
                break
            }
            if toServer.isEmpty {
                // Nothing in flight: wait for a retransmission timer (OpenSSL reads the real clock).
                let wait = [client.timeout, server.timeout].compactMap { $0 }.min() ?? .milliseconds(10)
                Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds) + 0.01)
                toServer += client.handleTimeout().datagrams
                toClient += server.handleTimeout().datagrams
            }
        }
        // Deliver what a failing side sent last (its alert).
        for datagram in toServer where !drop(sent + 1) {
            if let failure = server.receive(datagram[...]).failure { serverResult.failure = failure }
        }
        return (clientResult, serverResult)
    }

    func testHandshakeExportsMatchingSRTPKeys() throws {
        let (client, server) = try pair()
        let result = handshake(client, server)
        XCTAssertNil(result.client.failure)
        XCTAssertNil(result.server.failure)
        let clientKeys = try XCTUnwrap(result.client.keys)
        let serverKeys = try XCTUnwrap(result.server.keys)
        XCTAssertEqual(clientKeys.local, serverKeys.remote)
        XCTAssertEqual(clientKeys.remote, serverKeys.local)
        XCTAssertEqual(client.selectedProfile, .aeadAES256GCM, "the strongest profile both offer")
        // The keys work across: what the client protects, the server opens.
        let send = try SRTPContext(keys: clientKeys.local, direction: .outbound)
        let receive = try SRTPContext(keys: serverKeys.remote, direction: .inbound)
        var packet: [UInt8] = [0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0xAA, 0xBB]
        let original = packet
        try send.protect(&packet)
        try receive.unprotect(&packet)
        XCTAssertEqual(packet, original)
    }

    func testProfileNegotiationFallsBackToWhatTheServerHas() throws {
        let (client, server) = try pair(serverProfiles: [.aes128CMHMACSHA1_80])
        let result = handshake(client, server)
        XCTAssertNotNil(result.client.keys)
        XCTAssertEqual(client.selectedProfile, .aes128CMHMACSHA1_80)
        XCTAssertEqual(result.client.keys?.local.salt.count, 14)
    }

    func testWrongFingerprintAbortsBeforeAnyKey() throws {
        let wrong = Self.clientCertificate.sha256Fingerprint  // not the server's
        let (client, server) = try pair(serverFingerprint: wrong)
        let result = handshake(client, server)
        XCTAssertNil(result.client.keys, "no keys, so no media can be sent")
        guard case .fingerprintMismatch(let algorithm, let expected, let actual)? = result.client.failure else {
            return XCTFail("expected a fingerprint mismatch, got \(String(describing: result.client.failure))")
        }
        XCTAssertEqual(algorithm, "sha-256")
        XCTAssertEqual(expected, wrong)
        XCTAssertEqual(actual, Self.serverCertificate.sha256Fingerprint)
        XCTAssertNotNil(result.server.failure, "the server got the alert")
    }

    /// Endpoints of one certificate share one OpenSSL context, yet each checks its own peer:
    /// two handshakes on the shared context, interleaved flight by flight, one with the right
    /// fingerprint (keys) and one with a wrong one (a mismatch, no keys).
    func testEndpointsSharingAContextHandshakeIndependently() throws {
        let good = try DTLSEndpoint(role: .client, certificate: Self.clientCertificate,
                                    remoteFingerprints: [("sha-256", Self.serverCertificate.sha256Fingerprint)])
        let bad = try DTLSEndpoint(role: .client, certificate: Self.clientCertificate,
                                   remoteFingerprints: [("sha-256", Self.clientCertificate.sha256Fingerprint)])
        XCTAssertTrue(good.context == bad.context, "one context for the certificate and profiles")
        let other = try DTLSEndpoint(role: .client, certificate: Self.clientCertificate, remoteFingerprints: [("sha-256", "00")],
                                     profiles: [.aes128CMHMACSHA1_80])
        XCTAssertFalse(other.context == good.context, "other profiles, another context")
        let goodServer = try DTLSEndpoint(role: .server, certificate: Self.serverCertificate,
                                          remoteFingerprints: [("sha-256", Self.clientCertificate.sha256Fingerprint)])
        let badServer = try DTLSEndpoint(role: .server, certificate: Self.serverCertificate,
                                         remoteFingerprints: [("sha-256", Self.clientCertificate.sha256Fingerprint)])
        var results: [ObjectIdentifier: DTLSEndpoint.Output] = [:]
        func deliver(_ datagrams: [[UInt8]], to endpoint: DTLSEndpoint) -> [[UInt8]] {
            var replies: [[UInt8]] = []
            for datagram in datagrams {
                let out = endpoint.receive(datagram[...])
                replies += out.datagrams
                if out.keys != nil { results[ObjectIdentifier(endpoint), default: .init()].keys = out.keys }
                if let failure = out.failure { results[ObjectIdentifier(endpoint), default: .init()].failure = failure }
            }
            return replies
        }
        var toGoodServer = good.start().datagrams
        var toBadServer = bad.start().datagrams
        for _ in 0..<10 where !(toGoodServer.isEmpty && toBadServer.isEmpty) {
            let toGood = deliver(toGoodServer, to: goodServer)
            let toBad = deliver(toBadServer, to: badServer)
            toGoodServer = deliver(toGood, to: good)
            toBadServer = deliver(toBad, to: bad)
        }
        let goodKeys = try XCTUnwrap(results[ObjectIdentifier(good)]?.keys)
        XCTAssertNil(results[ObjectIdentifier(good)]?.failure)
        XCTAssertEqual(goodKeys.remote, results[ObjectIdentifier(goodServer)]?.keys?.local)
        XCTAssertNil(results[ObjectIdentifier(bad)]?.keys, "the wrong fingerprint gives no keys")
        guard case .fingerprintMismatch(_, let expected, let actual)? = results[ObjectIdentifier(bad)]?.failure else {
            return XCTFail("expected a fingerprint mismatch, got \(String(describing: results[ObjectIdentifier(bad)]?.failure))")
        }
        XCTAssertEqual(expected, Self.clientCertificate.sha256Fingerprint)
        XCTAssertEqual(actual, Self.serverCertificate.sha256Fingerprint)
        XCTAssertNil(results[ObjectIdentifier(badServer)]?.keys)
    }

    func testRetransmitsLostFlights() throws {
        let (client, server) = try pair()
        // Lose the first ClientHello and the server's first flight.
        let result = handshake(client, server, drop: { $0 == 1 || $0 == 3 })
        XCTAssertNotNil(result.client.keys)
        XCTAssertNotNil(result.server.keys)
    }

    func testTimerIsArmedWhileAFlightIsOutstanding() throws {
        let (client, _) = try pair()
        XCTAssertNil(client.timeout)
        _ = client.start()
        let timeout = try XCTUnwrap(client.timeout)
        XCTAssertLessThanOrEqual(timeout, .seconds(1))
    }

    func testCloseNotify() throws {
        let (client, server) = try pair()
        _ = handshake(client, server)
        let bye = client.shutdown()
        XCTAssertFalse(bye.isEmpty)
        XCTAssertEqual(try DTLSRecord.split(bye[0][...]).first?.contentType, DTLSRecord.ContentType.alert.rawValue)
        XCTAssertEqual(server.receive(bye[0][...]).failure, .closed)
    }

    func testFlightsAreSplitOnRecordBoundaries() throws {
        let records = (0..<5).map { DTLSRecord(contentType: 22, epoch: 0, sequenceNumber: UInt64($0), fragment: Array(repeating: UInt8($0), count: 400)[...]) }
        let flight = records.flatMap { $0.serialize() }
        let datagrams = DTLSRecord.packetize(flight, mtu: 1200)
        XCTAssertEqual(datagrams.map(\.count), [2 * 413, 2 * 413, 413], "413-byte records, two per 1200-byte datagram")
        XCTAssertTrue(datagrams.allSatisfy { $0.count <= 1200 })
        XCTAssertEqual(try datagrams.flatMap { try DTLSRecord.split($0[...]) }, records)
    }
}

/// The first flight is retransmitted after the configured timeout, not OpenSSL's 1 s, and
/// each retransmission doubles it (a lost ClientHello on a lossy path cost seconds before).
final class DTLSRetransmissionTimerTests: XCTestCase {
    private static let certificate = try! DTLSCertificate.generate(commonName: "client")

    private func client() throws -> DTLSEndpoint {
        try DTLSEndpoint(role: .client, certificate: Self.certificate,
                         remoteFingerprints: [("sha-256", Self.certificate.sha256Fingerprint)])
    }

    /// The timer counts from when it was armed; what the test's own code took in between is
    /// measured and allowed for, so a busy machine does not fail it (it used to allow 30 ms).
    func testFirstRetransmissionComesAfterTheInitialTimeout() throws {
        let endpoint = try client()
        endpoint.initialRetransmissionTimeout = .milliseconds(60)
        let armed = ContinuousClock.now
        XCTAssertFalse(endpoint.start().datagrams.isEmpty, "ClientHello")
        let first = try XCTUnwrap(endpoint.timeout)
        let taken = ContinuousClock.now - armed
        XCTAssertLessThanOrEqual(first, .milliseconds(60))
        XCTAssertGreaterThanOrEqual(first + taken, .milliseconds(55), "60 ms from the ClientHello, \(first) left after \(taken)")
        Thread.sleep(forTimeInterval: 0.08)
        let rearmed = ContinuousClock.now
        XCTAssertFalse(endpoint.handleTimeout().datagrams.isEmpty, "the ClientHello again")
        let second = try XCTUnwrap(endpoint.timeout)
        let takenAgain = ContinuousClock.now - rearmed
        XCTAssertLessThanOrEqual(second, .milliseconds(120), "doubled, not more")
        XCTAssertGreaterThanOrEqual(second + takenAgain, .milliseconds(115), "doubled: \(second) left after \(takenAgain)")
    }

    func testDefaultStartsWellBelowOpenSSLsSecond() throws {
        let endpoint = try client()
        _ = endpoint.start()
        XCTAssertLessThanOrEqual(try XCTUnwrap(endpoint.timeout), .milliseconds(100))
    }
}
