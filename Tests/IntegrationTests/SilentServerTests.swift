import Foundation
import NIOCore
import NIOPosix
import XCTest

/// Servers that accept a TCP connection and then say nothing: nacho gives up within its
/// request timeout, in one line, instead of hanging with no output.
final class SilentServerTests: XCTestCase {
    /// Listens on 127.0.0.1, accepts every connection, never writes a byte.
    private final class SilentListener {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel: any Channel

        init() throws {
            channel = try ServerBootstrap(group: group)
                .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
                .bind(host: "127.0.0.1", port: 0).wait()
        }

        var port: Int { channel.localAddress?.port ?? 0 }

        deinit {
            try? channel.close().wait()
            try? group.syncShutdownGracefully()
        }
    }

    func testNoAnswerToTheWebSocketUpgrade() throws {
        let listener = try SilentListener()
        let start = Date()
        let run = try Nacho.run(["list-producers", "--edge", "ws://127.0.0.1:\(listener.port)", "--room", "42", "--member", "7",
                                 "--request-timeout", "2"], timeout: 30)
        let elapsed = Date().timeIntervalSince(start)
        assertOneLineError(run, code: 75, mentions: "edge connect: no answer from server within 2 s")
        // The message says the 2 s timeout ended it; the bound only catches a hang (a process
        // start on a busy machine can take seconds by itself).
        print("silent server: gave up after \(String(format: "%.1f", elapsed)) s")
        XCTAssertLessThan(elapsed, 15, "the request timeout bounds the connect")
    }
}
