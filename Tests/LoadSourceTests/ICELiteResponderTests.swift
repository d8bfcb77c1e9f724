import ICE
import XCTest

/// The server half of ICE-lite against nacho's own controlling agent.
final class ICELiteResponderTests: XCTestCase {
    private let responder = ICELiteResponder(localUfrag: "serverufrag0123", localPassword: "serverpassword0123456789abcdef")
    private let server = ICEEndpoint(host: "127.0.0.1", port: 50000)
    private let clientAddress = STUNAddress(ip: [127, 0, 0, 1], port: 40000)

    private func agent(password: String? = nil) -> ICEAgent {
        var configuration = ICEAgent.Configuration(localUfrag: "cl1e", localPassword: "clientpassword0123456789",
                                                   remoteUfrag: responder.localUfrag,
                                                   remotePassword: password ?? responder.localPassword, tieBreaker: 42)
        configuration.consentInterval = .seconds(1)
        return ICEAgent(configuration: configuration, remoteCandidates: [ICERemoteCandidate(endpoint: server, priority: 1_076_302_079)],
                        seed: 7)
    }

    private func firstRequest(_ agent: inout ICEAgent, now: ContinuousClock.Instant) throws -> [UInt8] {
        let outputs = agent.start(now: now)
        guard case .send(let bytes, let to)? = outputs.first else {
            XCTFail("the agent sent nothing: \(outputs)")
            return []
        }
        XCTAssertEqual(to, server)
        return bytes
    }

    func testAnswerConnectsTheAgentAndMapsItsAddress() throws {
        var agent = agent()
        let now = ContinuousClock.now
        let request = try firstRequest(&agent, now: now)
        let answer = try XCTUnwrap(responder.answer(request[...], from: clientAddress))
        XCTAssertTrue(answer.useCandidate)
        let response = try STUNMessage(parsing: answer.response)
        XCTAssertEqual(response.messageClass, .success)
        XCTAssertEqual(response.transactionID, try STUNMessage(parsing: request).transactionID)
        XCTAssertEqual(response.xorMappedAddress, clientAddress)
        XCTAssertTrue(STUNMessage.verifyFingerprint(answer.response[...]))
        XCTAssertEqual(agent.handle(answer.response[...], from: server, now: now), [.connected(server)])

        // A consent check (no USE-CANDIDATE) is answered too, and the agent accepts the answer.
        let later = now + .seconds(2)
        let outputs = agent.tick(now: later)
        guard case .send(let consent, _)? = outputs.first else { return XCTFail("no consent check: \(outputs)") }
        let consentAnswer = try XCTUnwrap(responder.answer(consent[...], from: clientAddress))
        XCTAssertFalse(consentAnswer.useCandidate)
        XCTAssertEqual(agent.handle(consentAnswer.response[...], from: server, now: later), [])
        XCTAssertEqual(agent.state, .connected)
    }

    func testRefusesAWrongPasswordUfragOrTamperedRequest() throws {
        var wrongPassword = agent(password: "not-the-password-at-all")
        let now = ContinuousClock.now
        XCTAssertNil(responder.answer(try firstRequest(&wrongPassword, now: now)[...], from: clientAddress))

        var good = agent()
        let request = try firstRequest(&good, now: now)
        XCTAssertNotNil(responder.answer(request[...], from: clientAddress))
        let other = ICELiteResponder(localUfrag: "someoneelse", localPassword: responder.localPassword)
        XCTAssertNil(other.answer(request[...], from: clientAddress))
        // A ufrag that only starts like ours is not ours: the USERNAME is "ours:theirs".
        let prefix = ICELiteResponder(localUfrag: String(responder.localUfrag.dropLast()), localPassword: responder.localPassword)
        XCTAssertNil(prefix.answer(request[...], from: clientAddress))

        for index in stride(from: 20, to: request.count, by: 7) {
            var tampered = request
            tampered[index] ^= 0x01
            XCTAssertNil(responder.answer(tampered[...], from: clientAddress), "byte \(index) flipped")
        }
        // Our own answer is a response, not a request.
        let answer = try XCTUnwrap(responder.answer(request[...], from: clientAddress))
        XCTAssertNil(responder.answer(answer.response[...], from: clientAddress))
    }

    func testNoTrapOnTruncatedOrRandomBytes() throws {
        var good = agent()
        let request = try firstRequest(&good, now: .now)
        for length in 0..<request.count {
            XCTAssertNil(responder.answer(request[0..<length], from: clientAddress))
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = (0..<Int.random(in: 0...120, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count >= 20, Bool.random(using: &generator) {
                // A plausible header, so the attribute walk runs on the random rest.
                bytes[0] = 0
                bytes[1] = 1
                bytes[2] = 0
                bytes[3] = UInt8((bytes.count - 20) & ~3)
                bytes[4] = 0x21
                bytes[5] = 0x12
                bytes[6] = 0xA4
                bytes[7] = 0x42
            }
            XCTAssertNil(responder.answer(bytes[...], from: clientAddress))
        }
    }

    func testRandomCredentialsAreFreshAndLongEnough() {
        let a = ICELiteResponder.random(), b = ICELiteResponder.random()
        XCTAssertNotEqual(a.localUfrag, b.localUfrag)
        XCTAssertNotEqual(a.localPassword, b.localPassword)
        // RFC 8445 §5.3: a ufrag of at least 4 characters, a password of at least 22.
        XCTAssertGreaterThanOrEqual(a.localUfrag.count, 4)
        XCTAssertGreaterThanOrEqual(a.localPassword.count, 22)
    }
}
