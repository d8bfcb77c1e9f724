import NIOCore
import NIOPosix
@testable import SocketIO
import XCTest

/// The pieces between the socket and the client: the frame inbox and the deadline.
final class LinkPlumbingTests: XCTestCase {
    /// A consumer that falls behind fails the link instead of losing frames or memory.
    func testInboxOverflowFailsInsteadOfDropping() async {
        let inbox = FrameInbox(maxFrames: 3, maxBytes: 100)
        XCTAssertTrue(inbox.yield(.text("a")))
        XCTAssertTrue(inbox.yield(.binary))
        XCTAssertTrue(inbox.yield(.text("c")))
        XCTAssertFalse(inbox.yield(.text("d")), "a fourth frame waiting: overflow")
        XCTAssertFalse(inbox.yield(.text("e")), "nothing more is taken")
        inbox.finish()
        var seen: [FrameInbox.Frame] = []
        for await frame in inbox.frames { seen.append(frame) }
        XCTAssertEqual(Array(seen.prefix(3)), [.text("a"), .binary, .text("c")])
        guard case .failed(.malformedPacket(let why))? = seen.last, seen.count == 4 else { return XCTFail("\(seen)") }
        XCTAssertTrue(why.contains("faster than they could be handled"), why)

        let bytes = FrameInbox(maxFrames: 100, maxBytes: 10)
        XCTAssertTrue(bytes.yield(.text("12345")))
        XCTAssertFalse(bytes.yield(.text("123456")), "11 bytes waiting")
    }

    func testInboxKeepsUpWithAConsumer() {
        let inbox = FrameInbox(maxFrames: 2, maxBytes: 100)
        for index in 0..<1000 {
            XCTAssertTrue(inbox.yield(.text("\(index)")))
            inbox.consumed(.text("\(index)"))
        }
    }

    /// The deadline ends the wait even when the body ignores cancellation, as a NIO future's
    /// `get()` does.
    func testDeadlineReturnsWhenTheBodyIgnoresCancellation() async throws {
        let never = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Int.self)
        let start = ContinuousClock.now
        do {
            _ = try await withDeadline(.milliseconds(300), what: "a step") { try await never.futureResult.get() }
            XCTFail("no timeout")
        } catch {
            XCTAssertEqual(error as? SocketIOError, .timeout(event: "a step", seconds: 0.3))
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        never.succeed(1)  // late: ignored
        let quick = try await withDeadline(.seconds(5), what: "quick") { 7 }
        XCTAssertEqual(quick, 7)
        do {
            _ = try await withDeadline(.seconds(5), what: "failing") { throw SocketIOError.closed }
        } catch {
            XCTAssertEqual(error as? SocketIOError, .closed)
        }
    }

    func testDeadlineHonoursCancellationOfTheCaller() async {
        let never = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Int.self)
        let task = Task { try await withDeadline(.seconds(30), what: "a step") { try await never.futureResult.get() } }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        let result = await task.result
        XCTAssertTrue((try? result.get()) == nil)
        never.succeed(0)
    }
}
