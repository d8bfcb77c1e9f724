import Participant
import XCTest

final class StopSignalTests: XCTestCase {
    func testFireWakesEveryWaiterAndLaterWaitersReturnAtOnce() async {
        let stop = StopSignal()
        async let first: Void = stop.wait()
        async let second: Void = stop.wait()
        try? await Task.sleep(for: .milliseconds(20))
        stop.fire()
        _ = await (first, second)
        XCTAssertTrue(stop.isFired)
        await stop.wait()
    }

    /// A task group waiting on a stop signal must end when a sibling fails: the wait returns
    /// on cancellation (before, `join` hung until killed when a consume failed).
    func testCancelledWaitReturns() async {
        let stop = StopSignal()
        let result: String = await withTaskGroup(of: String.self) { group in
            group.addTask {
                await stop.wait()
                return "waited"
            }
            group.addTask { "failed" }
            let first = await group.next()!
            group.cancelAll()
            _ = await group.next()
            return first
        }
        XCTAssertEqual(result, "failed")
        XCTAssertFalse(stop.isFired)
    }
}
