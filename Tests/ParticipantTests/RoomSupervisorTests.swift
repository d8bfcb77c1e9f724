import Bytes
import Foundation
import Logging
@testable import Participant
import Signaling
import XCTest

final class RoomSupervisorTests: XCTestCase {
    /// What a reconnect can fix: the link and the network path; not answers, not devices, not
    /// a certificate that does not match.
    func testRetryableFailures() {
        XCTAssertTrue(ReconnectState.isRetryable(RoomError.connectionLost(step: "edge session", "gone")))
        XCTAssertTrue(ReconnectState.isRetryable(RoomError.unreachable(step: "edge connect", "refused")))
        XCTAssertTrue(ReconnectState.isRetryable(RoomError.timeout(step: "edge join", seconds: 10)))
        XCTAssertTrue(ReconnectState.isRetryable(ParticipantError.transport("edge transport: ICE failed")))
        XCTAssertFalse(ReconnectState.isRetryable(RoomError.refused(step: "edge join", "room is full")))
        XCTAssertFalse(ReconnectState.isRetryable(RoomError.protocolViolation(step: "edge join", "garbage")))
        XCTAssertFalse(ReconnectState.isRetryable(ParticipantError.media("video source v4l2:/dev/video0: unplugged")))
        XCTAssertFalse(ReconnectState.isRetryable(CancellationError()))
    }

    func testFingerprintMismatchIsNotANetworkFailure() {
        let mismatch = ParticipantError(.dtls(.fingerprintMismatch(algorithm: "sha-256", expected: "A", actual: "B")),
                                                        role: .edge)
        guard case .media = mismatch else { return XCTFail("\(mismatch)") }
        guard case .transport = ParticipantError(.iceFailed("no answer"), role: .edge) else { return XCTFail() }
        guard case .transport = ParticipantError(.connectionLost("consent"), role: .edge) else { return XCTFail() }
    }

    /// Stop cancels a body that is still setting up at once...
    func testStopCancelsSetupAtOnce() async throws {
        let stop = StopSignal()
        let started = ContinuousClock.now
        Task {
            try await Task.sleep(for: .milliseconds(50))
            stop.fire()
        }
        do {
            try await stop.runUntilFired(grace: { .zero }) { try await Task.sleep(for: .seconds(30)) }
            XCTFail("the body was not cancelled")
        } catch is CancellationError {}
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
    }

    /// ...and gives an established one its grace to leave in order, then cancels it.
    func testStopGivesAnEstablishedBodyItsGrace() async throws {
        let stop = StopSignal()
        let left = LeftInOrder()
        Task {
            try await Task.sleep(for: .milliseconds(20))
            stop.fire()
        }
        try await stop.runUntilFired(grace: { .milliseconds(500) }) {
            await stop.wait()
            try await Task.sleep(for: .milliseconds(100))  // exitRoom
            await left.mark()
        }
        let done = await left.done
        XCTAssertTrue(done)
        let started = ContinuousClock.now
        do {
            try await stop.runUntilFired(grace: { .milliseconds(200) }) { try await Task.sleep(for: .seconds(30)) }
            XCTFail("a body that overstays its grace is cancelled")
        } catch is CancellationError {}
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
    }
}

private actor LeftInOrder {
    var done = false
    func mark() { done = true }
}

final class ConsumerTableTests: XCTestCase {
    func testProducersAnnouncedTwiceAreTakenOnce() {
        let table = ConsumerTable()
        XCTAssertEqual(table.claim("p1"), .new)
        XCTAssertEqual(table.claim("p1"), .known)
        XCTAssertEqual(table.claim("p2"), .new)
    }

    func testClosedConsumerFreesItsProducer() {
        let table = ConsumerTable()
        XCTAssertEqual(table.claim("p1"), .new)
        table.bind(producerId: "p1", consumerId: "c1")
        table.closed(consumerId: "c1")
        XCTAssertEqual(table.claim("p1"), .new)
        table.closed(consumerId: "unknown")
    }

    func testFloodIsBounded() {
        let table = ConsumerTable()
        for n in 0..<ConsumerTable.limit { XCTAssertEqual(table.claim("p\(n)"), .new) }
        XCTAssertEqual(table.claim("one more"), .full)
        XCTAssertEqual(table.claim("p0"), .known)
    }
}

/// The reconnect loop with scripted sessions and a clock of the test's own: which failures are
/// retried, after which delays (0.5 s doubling to 10 s, ±20 %), and when it gives up.
final class ReconnectLoopTests: XCTestCase {
    private final class Script: @unchecked Sendable {
        // One test task drives the loop; the lock only orders the loop's reads and the asserts.
        private let lock = NSLock()
        private var _delays: [Duration] = []
        private var _sessions = 0
        var delays: [Duration] { lock.withLock { _delays } }
        var sessions: Int { lock.withLock { _sessions } }
        func slept(_ delay: Duration) { lock.withLock { _delays.append(delay) } }
        func started() -> Int { lock.withLock { _sessions += 1; return _sessions } }
    }

    private func policy(_ script: Script, maxAttempts: Int = 10, retryFirstSession: Bool = false) -> RoomSupervisor.Policy {
        var policy = RoomSupervisor.Policy(maxAttempts: maxAttempts, retryFirstSession: retryFirstSession,
                                           sleep: { script.slept($0) })
        policy.connect = { _ in }
        return policy
    }

    private let configuration = RoomSession.Configuration(url: URL(string: "ws://127.0.0.1:9/socket.io/")!, role: .edge)
    private let lost = RoomError.connectionLost(step: "edge session", "gone")

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Established once, then the link keeps failing: ten reconnections with growing delays,
    /// then the last failure is thrown.
    func testGivesUpAfterReconnectAttemptsInARowWithBackoff() async throws {
        let script = Script()
        let lost = self.lost
        do {
            try await RoomSupervisor(policy: policy(script), stop: StopSignal(), logger: Logger(label: "test")).run(configuration) { _, attempt in
                if script.started() == 1 { attempt.established() }
                throw lost
            }
            XCTFail("the loop never gave up")
        } catch let error as RoomError {
            XCTAssertEqual("\(error)", "\(lost)")
        }
        XCTAssertEqual(script.sessions, 11, "the first session and 10 reconnections")
        let expected = [0.5, 1, 2, 4, 8, 10, 10, 10, 10, 10]
        XCTAssertEqual(script.delays.count, expected.count)
        for (delay, base) in zip(script.delays.map(seconds), expected) {
            XCTAssertGreaterThanOrEqual(delay, base * 0.8 - 0.001, "\(script.delays)")
            XCTAssertLessThanOrEqual(delay, base * 1.2 + 0.001, "\(script.delays)")
        }
    }

    /// A session that gets established again resets the count and the delays.
    func testAnEstablishedSessionStartsTheBackoffOver() async throws {
        let script = Script()
        let stop = StopSignal()
        let lost = self.lost
        let reconnections = try await RoomSupervisor(policy: policy(script, maxAttempts: 3), stop: stop, logger: Logger(label: "test")).run(configuration) { _, attempt in
            let session = script.started()
            // Sessions 1 and 4 and 7 get in; the two after each fail before they do.
            if session % 3 == 1 { attempt.established() }
            if session == 8 {
                stop.fire()
                return
            }
            throw lost
        }
        XCTAssertEqual(reconnections, 7)
        let bases = script.delays.map { seconds($0) < 0.7 ? 0.5 : seconds($0) < 1.3 ? 1 : 2 }
        XCTAssertEqual(bases, [0.5, 1, 2, 0.5, 1, 2, 0.5], "\(script.delays)")
    }

    /// A first session that never got in is not retried (a wrong URL must show at once);
    /// load-test bots retry it.
    func testAFirstSessionThatNeverGotInIsNotRetriedUnlessAsked() async throws {
        let script = Script()
        let lost = self.lost
        do {
            try await RoomSupervisor(policy: policy(script), stop: StopSignal(), logger: Logger(label: "test")).run(configuration) { _, _ in
                _ = script.started()
                throw lost
            }
            XCTFail("retried")
        } catch {}
        XCTAssertEqual(script.sessions, 1)
        XCTAssertTrue(script.delays.isEmpty)

        let bots = Script()
        do {
            try await RoomSupervisor(policy: policy(bots, maxAttempts: 2, retryFirstSession: true), stop: StopSignal(), logger: Logger(label: "test")).run(configuration) { _, _ in
                _ = bots.started()
                throw lost
            }
        } catch {}
        XCTAssertEqual(bots.sessions, 3)
    }

    /// Answers the server gave are not retried, however established the session was.
    func testRefusalsAreNotRetried() async throws {
        let script = Script()
        do {
            try await RoomSupervisor(policy: policy(script), stop: StopSignal(), logger: Logger(label: "test")).run(configuration) { _, attempt in
                _ = script.started()
                attempt.established()
                throw RoomError.refused(step: "edge join", "room is full")
            }
            XCTFail("retried")
        } catch {}
        XCTAssertEqual(script.sessions, 1)
    }
}

final class BackoffTests: XCTestCase {
    func testDoublesFromHalfASecondToTenWithoutJitter() {
        var backoff = Backoff(jitter: 0)
        let delays = (0..<8).map { _ in backoff.next() }
        XCTAssertEqual(delays, [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10),
                                .seconds(10), .seconds(10)])
        backoff.reset()
        XCTAssertEqual(backoff.next(), .milliseconds(500))
    }

    func testJitterStaysWithinTwentyPercentAndUsesBothSides() {
        var random = SplitMix64(seed: 7)
        var low = false
        var high = false
        for _ in 0..<200 {
            var backoff = Backoff()
            let delay = backoff.next(using: &random)
            XCTAssertGreaterThanOrEqual(delay, .milliseconds(400))
            XCTAssertLessThanOrEqual(delay, .milliseconds(600))
            if delay < .milliseconds(450) { low = true }
            if delay > .milliseconds(550) { high = true }
        }
        XCTAssertTrue(low && high, "jitter spreads both ways")
    }
}

/// The reconnect state machine on its own: outcomes in, decisions out.
final class ReconnectStateTests: XCTestCase {
    private let lost = RoomError.connectionLost(step: "edge session", "gone")

    func testPhasesAndDecisions() {
        var state = ReconnectState(policy: RoomSupervisor.Policy(maxAttempts: 2, backoff: Backoff(jitter: 0)))
        XCTAssertEqual(state.phase, .neverInRoom)
        XCTAssertEqual(state.sessionEnded(reachedRoom: false, failure: lost, stopped: false), .giveUp, "never in the room")
        XCTAssertEqual(state.sessionEnded(reachedRoom: true, failure: lost, stopped: false), .retry(after: .milliseconds(500), attempt: 1))
        XCTAssertEqual(state.phase, .reconnecting(failures: 1))
        XCTAssertEqual(state.sessionEnded(reachedRoom: false, failure: lost, stopped: false), .retry(after: .seconds(1), attempt: 2))
        XCTAssertEqual(state.sessionEnded(reachedRoom: false, failure: lost, stopped: false), .giveUp, "two in a row allowed")
        XCTAssertEqual(state.sessionEnded(reachedRoom: true, failure: nil, stopped: true), .done)
        XCTAssertEqual(state.phase, .inRoom)
        XCTAssertEqual(state.sessionEnded(reachedRoom: false, failure: lost, stopped: true), .done, "a failure while stopping")
        XCTAssertEqual(state.sessionEnded(reachedRoom: false, failure: lost, stopped: false), .retry(after: .milliseconds(500), attempt: 1),
                       "backoff starts over after the room was reached")
        XCTAssertEqual(state.sessionEnded(reachedRoom: false, failure: RoomError.refused(step: "join", "full"), stopped: false), .giveUp)
    }
}
