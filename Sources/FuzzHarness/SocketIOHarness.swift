import SocketIO

/// Engine.IO / Socket.IO text frames into `SocketIOClientCore`, the way `SocketIOClient`
/// drives it: frames, clock ticks, binary frames, emits and close, in any order.
///
/// Input: lines separated by `\n`. A line is a received text frame, except
///   `~N`  advance the fake clock by N ms, then `tick`
///   `~b`  a binary frame arrives
///   `~e`  emit the last event received back (with an ack id), once connected
///   `~c`  the client closes
/// Unless the first line is itself an open packet (`0...`), a valid open packet and the
/// namespace connect come first, so mutations spend their time on the connected state.
///
/// Invariants: nothing is produced after `.failed` or `close()`; `.connected` once, before any
/// event or ack; every frame to send parses back; liveness deadlines never trap.
public enum SocketIOHarness {
    static let handshake = #"0{"sid":"fuzz","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    static let connect = #"40{"sid":"fuzz-namespace"}"#

    public static func run(_ data: [UInt8]) {
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.first?.first != "0" { lines.insert(contentsOf: [handshake, connect], at: 0) }

        var clock = FuzzClock()
        var core = SocketIOClientCore(now: clock.now)
        var state = Observed()
        var lastEvent: (name: String, args: [JSONValue])?

        for line in lines {
            _ = core.livenessDeadline
            guard line.first == "~" else {
                let outputs = core.receive(frame: line, now: clock.now)
                if let event = state.check(outputs, core) { lastEvent = event }
                continue
            }
            let command = line.dropFirst()
            switch command.first {
            case "b":
                state.check(core.receiveBinaryFrame(), core)
            case "c":
                let frames = core.close()
                require(core.phase == .closed, "close() left phase \(core.phase)")
                state.checkFramesToSend(frames)
                state.closed = true
            case "e":
                guard core.phase == .connected, let event = lastEvent else { continue }
                let (frame, ackId) = core.emit(event.name, event.args, expectsAck: true)
                state.checkEmitted(frame, name: event.name, ackId: ackId)
            default:
                // Clamped so a run covers at most ~3 years of fake time per step, far past every timeout.
                let milliseconds = Int(command.prefix(11).filter(\.isASCII).compactMap(\.wholeNumberValue).reduce(0) { $0 * 10 + $1 })
                clock.advance(milliseconds: milliseconds)
                state.check(core.tick(now: clock.now), core)
            }
        }
        _ = core.livenessDeadline
    }

    /// What the harness has seen so far, to check each new batch of outputs against.
    private struct Observed {
        var failed = false
        var closed = false
        var connected = false
        var lastAckId: Int?

        @discardableResult
        mutating func check(_ outputs: [SocketIOClientCore.Output], _ core: SocketIOClientCore) -> (name: String, args: [JSONValue])? {
            var event: (name: String, args: [JSONValue])?
            for output in outputs {
                require(!failed, "output after .failed: \(output)")
                require(!closed, "output after close(): \(output)")
                switch output {
                case .failed:
                    failed = true
                    require(core.phase == .closed, ".failed but phase is \(core.phase)")
                case .connected:
                    require(!connected, "connected twice")
                    connected = true
                    require(core.phase == .connected, ".connected but phase is \(core.phase)")
                case .event(let name, let args):
                    require(connected, "event before connect")
                    event = (name, args)
                case .ack:
                    require(connected, "ack before connect")
                case .send(let frame):
                    checkFramesToSend([frame])
                }
            }
            return event
        }

        func checkFramesToSend(_ frames: [String]) {
            for frame in frames {
                require((try? EngineIOPacket(parsing: frame)) != nil, "frame to send does not parse: \(frame.debugDescription)")
            }
        }

        /// An emitted event must read back as the same event name with a fresh, growing ack id.
        mutating func checkEmitted(_ frame: String, name: String, ackId: Int?) {
            guard let ackId else { return require(false, "emit with expectsAck returned no ack id") }
            if let lastAckId { require(ackId > lastAckId, "ack id \(ackId) after \(lastAckId)") }
            lastAckId = ackId
            do {
                let engine = try EngineIOPacket(parsing: frame)
                require(engine.type == .message, "emitted frame is not a message: \(frame.debugDescription)")
                let packet = try SocketIOPacket(parsing: engine.payload)
                require(packet.eventContent?.name == name, "emitted event reads back as \(String(describing: packet.eventContent?.name))")
                require(packet.ackId == ackId, "emitted ack id reads back as \(String(describing: packet.ackId))")
            } catch {
                require(false, "emitted frame does not parse (\(error)): \(frame.debugDescription)")
            }
        }
    }
}
