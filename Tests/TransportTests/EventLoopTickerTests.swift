import NIOCore
import NIOPosix
import Transport
import XCTest

/// The one timer per event loop that receivers share.
final class EventLoopTickerTests: XCTestCase {
    func testMembersAreCalledWithTheirOwnTickCountUntilTheyLeave() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let seen = NIOLoopBoundBox.makeBoxSendingValue(Seen(), eventLoop: loop)
        let memberships = try await loop.submit {
            (EventLoopTicker.join(on: loop) { seen.value.first.append($0) },
             EventLoopTicker.join(on: loop) { seen.value.second.append($0) })
        }.get()
        // Wait for three ticks of the first member (no timing asserted, only the order).
        while try await loop.submit({ seen.value.first.count }).get() < 3 {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await loop.submit { EventLoopTicker.leave(memberships.0, on: loop) }.get()
        let firstAfterLeaving = try await loop.submit { seen.value.first.count }.get()
        while try await loop.submit({ seen.value.second.count }).get() < firstAfterLeaving + 2 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let (first, second) = try await loop.submit { (seen.value.first, seen.value.second) }.get()
        XCTAssertEqual(Array(first.prefix(3)), [1, 2, 3])
        XCTAssertEqual(first.count, firstAfterLeaving, "not called after leaving")
        XCTAssertEqual(second, Array(1...UInt64(second.count)), "every tick, counted from joining")
        try await loop.submit { EventLoopTicker.leave(memberships.1, on: loop) }.get()
        try await group.shutdownGracefully()
    }

    private final class Seen {
        var first: [UInt64] = []
        var second: [UInt64] = []
    }
}
