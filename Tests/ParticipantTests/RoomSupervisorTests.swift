@testable import Participant
import Signaling
import XCTest

final class RoomSupervisorTests: XCTestCase {
    /// What a reconnect can fix: the link and the network path; not answers, not devices, not
    /// a certificate that does not match.
    func testRetryableFailures() {
        XCTAssertTrue(RoomSupervisor.isRetryable(RoomError.connectionLost(step: "edge session", "gone")))
        XCTAssertTrue(RoomSupervisor.isRetryable(RoomError.unreachable(step: "edge connect", "refused")))
        XCTAssertTrue(RoomSupervisor.isRetryable(RoomError.timeout(step: "edge join", seconds: 10)))
        XCTAssertTrue(RoomSupervisor.isRetryable(ParticipantError.transport("edge transport: ICE failed")))
        XCTAssertFalse(RoomSupervisor.isRetryable(RoomError.refused(step: "edge join", "room is full")))
        XCTAssertFalse(RoomSupervisor.isRetryable(RoomError.protocolViolation(step: "edge join", "garbage")))
        XCTAssertFalse(RoomSupervisor.isRetryable(ParticipantError.media("video source v4l2:/dev/video0: unplugged")))
        XCTAssertFalse(RoomSupervisor.isRetryable(CancellationError()))
    }

    func testFingerprintMismatchIsNotANetworkFailure() {
        let mismatch = ParticipantSeat.participantError(.dtls(.fingerprintMismatch(algorithm: "sha-256", expected: "A", actual: "B")),
                                                        role: "edge")
        guard case .media = mismatch else { return XCTFail("\(mismatch)") }
        guard case .transport = ParticipantSeat.participantError(.iceFailed("no answer"), role: "edge") else { return XCTFail() }
        guard case .transport = ParticipantSeat.participantError(.connectionLost("consent"), role: "edge") else { return XCTFail() }
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
            try await RoomSupervisor.runUntilStopped(stop, grace: { .zero }) { try await Task.sleep(for: .seconds(30)) }
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
        try await RoomSupervisor.runUntilStopped(stop, grace: { .milliseconds(500) }) {
            await stop.wait()
            try await Task.sleep(for: .milliseconds(100))  // exitRoom
            await left.mark()
        }
        let done = await left.done
        XCTAssertTrue(done)
        let started = ContinuousClock.now
        do {
            try await RoomSupervisor.runUntilStopped(stop, grace: { .milliseconds(200) }) { try await Task.sleep(for: .seconds(30)) }
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
