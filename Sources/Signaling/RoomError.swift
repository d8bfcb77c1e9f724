import ORTC
import SocketIO

/// Why a room step failed. Every case names the step (`join`, `consume`, ...) so one line tells
/// the user where the session broke.
public enum RoomError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached (DNS, TCP, TLS, WebSocket upgrade).
    case unreachable(step: String, String)
    /// The server answered with `{error}` or refused the namespace connection.
    case refused(step: String, String)
    /// No answer in time.
    case timeout(step: String, seconds: Double)
    /// The server sent something that breaks the protocol (garbage frames, wrong shapes).
    case protocolViolation(step: String, String)
    /// The link dropped after it was up.
    case connectionLost(step: String, String)
    /// Configuration that cannot work (bad URL, unknown name override).
    case configuration(String)

    /// One line, with what the server said clipped to `ServerText.maxBytes`: it is logged and
    /// kept (skipped producers) and may come from a hostile server.
    public var description: String {
        switch self {
        case .unreachable(let step, let why): return "\(step): cannot reach server: \(ServerText.clipped(why))"
        case .refused(let step, let why): return "\(step): server refused: \(ServerText.clipped(why))"
        case .timeout(let step, let seconds):
            return "\(step): no answer from server within \(seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)) s"
        case .protocolViolation(let step, let why): return "\(step): protocol error: \(ServerText.clipped(why))"
        case .connectionLost(let step, let why): return "\(step): connection lost: \(ServerText.clipped(why))"
        case .configuration(let why): return "configuration: \(why)"
        }
    }

    /// The step this error happened in.
    public var step: String {
        switch self {
        case .unreachable(let s, _), .refused(let s, _), .timeout(let s, _), .protocolViolation(let s, _),
             .connectionLost(let s, _):
            return s
        case .configuration: return "configuration"
        }
    }

    /// Maps a link failure onto the step that was running.
    public static func from(_ error: any Error, step: String) -> RoomError {
        switch error {
        case let error as RoomError: return error
        case let error as SocketIOError:
            switch error {
            case .unreachable(let why): return .unreachable(step: step, why)
            case .malformedPacket(let why): return .protocolViolation(step: step, why)
            case .connectRefused(let why): return .refused(step: step, why)
            case .heartbeatTimeout: return .connectionLost(step: step, error.description)
            case .disconnected(let why): return .connectionLost(step: step, why)
            case .timeout(_, let seconds): return .timeout(step: step, seconds: seconds)
            case .closed: return .connectionLost(step: step, "connection closed")
            }
        case let error as ORTCError: return .protocolViolation(step: step, error.description)
        case let error as DecodingError: return .protocolViolation(step: step, "unexpected answer shape: \(describe(error))")
        default: return .protocolViolation(step: step, "\(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "(top level)" : String(p.drop(while: { $0 == "." }))
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(key.stringValue) at \(path(context))"
        case .typeMismatch(let type, let context): return "\(path(context)) is not \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
