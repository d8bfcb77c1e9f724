import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A WebSocket server on 127.0.0.1 that misbehaves on purpose: it never answers, answers late,
/// or sends a scripted list of frames after the upgrade. It counts the connections that the
/// client closed, so tests can tell a connection was ended rather than leaked.
final class HostileWebSocketServer: @unchecked Sendable {
    enum Behavior: Sendable {
        /// Accepts TCP and never writes a byte.
        case silent
        /// Answers the upgrade after a delay, then stays quiet.
        case upgradeAfter(TimeAmount)
        /// Upgrades at once and sends these frames.
        case script([WebSocketFrame])
    }

    let port: Int
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let server: any Channel
    private let counters = NIOLockedValueBox((accepted: 0, closed: 0))

    var accepted: Int { counters.withLockedValue { $0.accepted } }
    var closed: Int { counters.withLockedValue { $0.closed } }

    init(_ behavior: Behavior) throws {
        let counters = self.counters
        server = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counters.withLockedValue { $0.accepted += 1 }
                channel.closeFuture.whenComplete { _ in counters.withLockedValue { $0.closed += 1 } }
                switch behavior {
                case .silent:
                    return channel.eventLoop.makeSucceededVoidFuture()
                case .upgradeAfter(let delay):
                    // Read nothing until then, so the request waits in the socket.
                    try? channel.syncOptions?.setOption(.autoRead, value: false)
                    channel.eventLoop.scheduleTask(in: delay) {
                        Self.upgrade(channel, sending: [])
                        channel.setOption(.autoRead, value: true).whenComplete { _ in channel.read() }
                    }
                    return channel.eventLoop.makeSucceededVoidFuture()
                case .script(let frames):
                    Self.upgrade(channel, sending: frames)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = server.localAddress?.port ?? 0
    }

    private static func upgrade(_ channel: any Channel, sending frames: [WebSocketFrame]) {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 26, automaticErrorHandling: false,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.submit {
                    for frame in frames { channel.write(frame, promise: nil) }
                    channel.flush()
                }
            })
        try? channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
    }

    /// An Engine.IO open packet, as every Socket.IO server sends first.
    static let open = text(#"0{"sid":"e1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#)

    static func text(_ string: String, fin: Bool = true, continuation: Bool = false) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: continuation ? .continuation : .text, data: ByteBuffer(string: string))
    }

    deinit {
        try? server.close().wait()
        try? group.syncShutdownGracefully()
    }
}
