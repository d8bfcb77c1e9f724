import Bytes
@testable import ICE
import XCTest

/// The agent against a scripted ICE-lite peer: what mediasoup does, byte for byte per RFC 8445.
final class ICEAgentTests: XCTestCase {
    private let start = ContinuousClock.now
    private let udp = ICEEndpoint(host: "127.0.0.1", port: 40000)
    private let tcp = ICEEndpoint(host: "127.0.0.1", port: 40001, transport: .tcp)

    private func agent(consentTimeout: Duration = .seconds(30)) -> ICEAgent {
        var config = ICEAgent.Configuration(localUfrag: "nacho", localPassword: "local-password-0123456789",
                                            remoteUfrag: "server", remotePassword: "remote-password-0123456789",
                                            tieBreaker: 42)
        config.consentTimeout = consentTimeout
        return ICEAgent(configuration: config, remoteCandidates: [
            ICERemoteCandidate(endpoint: tcp, priority: 1_076_276_479),
            ICERemoteCandidate(endpoint: udp, priority: 1_076_302_079),
        ], seed: 1)
    }

    /// What a lite server answers to a valid check.
    private func liteAnswer(_ request: [UInt8], password: String = "remote-password-0123456789") throws -> [UInt8] {
        let message = try STUNMessage(parsing: request)
        XCTAssertTrue(STUNMessage.verifyIntegrity(request[...], key: Array(password.utf8)))
        let response = STUNMessage(class: .success, transactionID: message.transactionID,
                                   attributes: [.xorMappedAddress(STUNAddress(ipv4: "127.0.0.1", port: 5555)!, transactionID: message.transactionID)])
        return response.serialize(integrityKey: Array(password.utf8), fingerprint: true)
    }

    func testChecksCarryWhatMediasoupRequiresAndConnect() throws {
        var agent = agent()
        let out = agent.start(now: start)
        guard case .send(let bytes, let to)? = out.first else { return XCTFail("no check sent: \(out)") }
        XCTAssertEqual(to, udp, "UDP first")
        let check = try STUNMessage(parsing: bytes)
        XCTAssertEqual(check.username, "server:nacho")
        XCTAssertEqual(check.priority, ICEAgent.localPriority)
        XCTAssertTrue(check.hasUseCandidate)
        XCTAssertNotNil(check.attribute(STUNAttribute.iceControlling))
        XCTAssertNil(check.attribute(STUNAttribute.iceControlled))
        XCTAssertTrue(STUNMessage.verifyFingerprint(bytes[...]))
        XCTAssertEqual(agent.handle(try liteAnswer(bytes)[...], from: udp, now: start + .milliseconds(5)), [.connected(udp)])
        XCTAssertEqual(agent.state, .connected)
        XCTAssertEqual(agent.selected, udp)
    }

    /// A check answered without a retransmission measures the round trip (DTLS starts its
    /// retransmission timer from it); one answered after a retransmission does not.
    func testRoundTripTimeFromAFirstAnswer() throws {
        var agent = agent()
        guard case .send(let bytes, _)? = agent.start(now: start).first else { return XCTFail() }
        XCTAssertNil(agent.roundTripTime)
        _ = agent.handle(try liteAnswer(bytes)[...], from: udp, now: start + .milliseconds(7))
        XCTAssertEqual(agent.roundTripTime, .milliseconds(7))

        var slow = self.agent()
        guard case .send(let first, _)? = slow.start(now: start).first else { return XCTFail() }
        let resent = slow.tick(now: start + .seconds(1))
        XCTAssertFalse(resent.isEmpty, "retransmitted")
        _ = slow.handle(try liteAnswer(first)[...], from: udp, now: start + .milliseconds(1010))
        XCTAssertEqual(slow.state, .connected)
        XCTAssertNil(slow.roundTripTime, "ambiguous after a retransmission (Karn's rule)")
    }

    func testAnswersSignedWithTheWrongPasswordAreIgnored() throws {
        var agent = agent()
        guard case .send(let bytes, _)? = agent.start(now: start).first else { return XCTFail() }
        let forged = STUNMessage(class: .success, transactionID: try STUNMessage(parsing: bytes).transactionID)
            .serialize(integrityKey: Array("guess".utf8), fingerprint: true)
        XCTAssertEqual(agent.handle(forged[...], from: udp, now: start), [])
        XCTAssertEqual(agent.state, .checking)
    }

    func testRetransmitsWithBackoffThenFails() {
        var agent = agent()
        _ = agent.start(now: start)
        var sendTimes: [Duration] = []
        var now = start
        var failed = false
        while now < start + .seconds(11), !failed {
            now = agent.nextDeadline ?? now + .milliseconds(100)
            for output in agent.tick(now: now) {
                switch output {
                case .send: sendTimes.append(now - start)
                case .failed: failed = true
                default: break
                }
            }
        }
        XCTAssertTrue(failed)
        XCTAssertEqual(sendTimes.first, .milliseconds(250), "first retransmission after the initial RTO")
        XCTAssertEqual(sendTimes.prefix(3).map { $0 }, [.milliseconds(250), .milliseconds(750), .milliseconds(1750)])
        XCTAssertEqual(sendTimes.count, 6, "7 transmissions in all")
        XCTAssertEqual(now - start, .seconds(10))
    }

    func testConsentFreshnessAndLoss() throws {
        var agent = agent(consentTimeout: .seconds(12))
        guard case .send(let bytes, _)? = agent.start(now: start).first else { return XCTFail() }
        _ = agent.handle(try liteAnswer(bytes)[...], from: udp, now: start)
        // Answer consent checks for a while: the connection stays up.
        var now = start
        var consentChecks = 0
        while now < start + .seconds(30) {
            now = agent.nextDeadline!
            for case .send(let check, _) in agent.tick(now: now) {
                consentChecks += 1
                XCTAssertFalse(try STUNMessage(parsing: check).hasUseCandidate, "consent checks do not nominate")
                _ = agent.handle(try liteAnswer(check)[...], from: udp, now: now)
            }
        }
        XCTAssertEqual(agent.state, .connected)
        XCTAssertGreaterThanOrEqual(consentChecks, 5)
        XCTAssertLessThanOrEqual(consentChecks, 8, "one every 4-6 s")
        // Now the server goes silent.
        var lost: String?
        while lost == nil, now < start + .seconds(60) {
            now = agent.nextDeadline!
            for case .connectionLost(let why) in agent.tick(now: now) { lost = why }
        }
        XCTAssertNotNil(lost)
        XCTAssertEqual(agent.state, .lost)
    }

    func testAnswersTheServersOwnChecks() throws {
        var agent = agent()
        _ = agent.start(now: start)
        let request = STUNMessage(class: .request, transactionID: Array(repeating: 7, count: 12),
                                  attributes: [.username("nacho:server"), .priority(1)])
        let bytes = request.serialize(integrityKey: Array("local-password-0123456789".utf8), fingerprint: true)
        guard case .send(let answer, let to)? = agent.handle(bytes[...], from: udp, now: start).first else {
            return XCTFail("no answer")
        }
        XCTAssertEqual(to, udp)
        let response = try STUNMessage(parsing: answer)
        XCTAssertEqual(response.messageClass, .success)
        XCTAssertEqual(response.xorMappedAddress, STUNAddress(ipv4: "127.0.0.1", port: 40000))
        XCTAssertTrue(STUNMessage.verifyIntegrity(answer[...], key: Array("local-password-0123456789".utf8)))
        // Wrong password: no answer.
        let forged = request.serialize(integrityKey: Array("nope".utf8), fingerprint: true)
        XCTAssertEqual(agent.handle(forged[...], from: udp, now: start), [])
    }

    /// The server's ICE username fragment goes into every check's USERNAME, which is at most
    /// 513 bytes (RFC 8489 §14.3): an absurd one fails the agent instead of trapping the
    /// serializer.
    func testOverlongRemoteUsernameFailsInsteadOfTrapping() {
        for length in [70_000, 600] {
            let config = ICEAgent.Configuration(localUfrag: "nacho", localPassword: "local-password-0123456789",
                                                remoteUfrag: String(repeating: "u", count: length),
                                                remotePassword: "remote-password-0123456789", tieBreaker: 42)
            var agent = ICEAgent(configuration: config, remoteCandidates: [ICERemoteCandidate(endpoint: udp, priority: 1)], seed: 1)
            let out = agent.start(now: start)
            guard case .failed(let why)? = out.last else { return XCTFail("\(length): \(out.count) outputs") }
            XCTAssertTrue(why.contains("username"), why)
            XCTAssertEqual(agent.state, .failed)
        }
    }
}
