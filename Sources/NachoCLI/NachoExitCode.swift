import Signaling

/// nacho's exit codes (documented in the README). sysexits(3) values where one fits.
public enum NachoExitCode: Int32, CaseIterable, Sendable {
    case ok = 0
    /// A bug or an unclassified failure.
    case failure = 1
    /// A `--expect` threshold was missed (`nacho report`, `nacho bots`): the run worked, the
    /// figures did not meet the bar. Distinct from every failure code so CI can tell them apart.
    case expectationsMissed = 3
    /// Bad flags, bad configuration file.
    case usage = 64
    /// The server cannot be reached, or the link dropped.
    case unreachable = 69
    /// A media device, codec or transport failed (or media is not available).
    case mediaFailure = 74
    /// The server did not answer in time.
    case timeout = 75
    /// The server broke the protocol (garbage frames, wrong payloads).
    case protocolError = 76
    /// The server answered with an error or refused the connection.
    case refused = 77

    public init(_ error: RoomError) {
        switch error {
        case .unreachable, .connectionLost: self = .unreachable
        case .refused: self = .refused
        case .timeout: self = .timeout
        case .protocolViolation: self = .protocolError
        case .configuration: self = .usage
        }
    }
}

/// An error that ends the process with a given code and one line on stderr.
public struct NachoFailure: Error, CustomStringConvertible {
    public var code: NachoExitCode
    public var message: String

    public init(_ code: NachoExitCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: RoomError) {
        self.init(NachoExitCode(error), error.description)
    }

    public var description: String { message }
}
