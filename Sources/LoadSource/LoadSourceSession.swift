import Logging
import SocketIO

/// One client's session: its Socket.IO core and the rooms. Frames in, frames out; the
/// WebSocket around it (`LoadSourceServer`) only moves them. Inputs are handled one at a time
/// in order, so a client's requests are answered in the order it sent them.
public struct LoadSourceSession: Sendable {
    public enum Action: Sendable, Equatable {
        case send(String)
        /// Close the WebSocket; `protocolError`: with status 1002 and the reason, else 1000.
        case close(reason: String, protocolError: Bool)
    }

    public private(set) var core: SocketIOServerCore
    private let rooms: LoadRooms
    private let logger: Logger

    public init(core: SocketIOServerCore, rooms: LoadRooms, logger: Logger) {
        self.core = core
        self.rooms = rooms
        self.logger = logger
    }

    public var id: LoadRooms.Session { core.socketSid }

    /// The first frame (the Engine.IO open packet); the session counts as open from here.
    public mutating func start() async -> [Action] {
        await rooms.open(id)
        return [.send(core.openFrame)]
    }

    public mutating func receive(frame: String, now: ContinuousClock.Instant) async -> [Action] {
        await perform(core.receive(frame: frame, now: now))
    }

    public mutating func receiveBinaryFrame() async -> [Action] {
        await perform(core.receiveBinaryFrame())
    }

    public mutating func tick(now: ContinuousClock.Instant) async -> [Action] {
        await perform(core.tick(now: now))
    }

    /// The WebSocket is gone (closed by either side): the member leaves, its transports close.
    public func end() async {
        await rooms.close(id)
    }

    private mutating func perform(_ outputs: [SocketIOServerCore.Output]) async -> [Action] {
        var actions: [Action] = []
        for output in outputs {
            switch output {
            case .send(let frame):
                actions.append(.send(frame))
            case .connected:
                logger.debug("client session connected", metadata: ["session": "\(id)"])
            case .event(let name, let args, let ackId):
                let outcome = await rooms.handle(name, args: args, from: id)
                actions += outcome.events.map { .send(core.eventFrame($0.name, $0.args)) }
                if let ackId {
                    actions.append(.send(core.ackFrame(id: ackId, args: outcome.answer.map { [$0] } ?? [])))
                }
            case .close(let reason, let protocolError):
                if protocolError {
                    await rooms.countProtocolError()
                    logger.warning("closing a client session", metadata: ["session": "\(id)", "why": "\(reason)"])
                } else {
                    logger.debug("client session over", metadata: ["session": "\(id)", "why": "\(reason)"])
                }
                actions.append(.close(reason: reason, protocolError: protocolError))
            }
        }
        return actions
    }
}
