import ArgumentParser
import Foundation
import Logging
import Signaling

/// The `nacho` command: a headless participant for mediasoup rooms.
public struct NachoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nacho",
        abstract: "A headless participant for mediasoup rooms.",
        discussion: """
            Exit codes: 0 ok, 3 an --expect threshold missed, 64 usage or configuration error, \
            69 cannot reach the server (or the link dropped), 74 media failure, 75 server did not answer in time, \
            76 protocol error (malformed data from the server), 77 server refused, 1 other failure.
            """,
        version: "0.1.0",
        subcommands: [JoinCommand.self, ListProducersCommand.self, RecordCommand.self, BotsCommand.self, ReportCommand.self]
    )

    public init() {}
}

/// Entry point: runs the command and turns failures into one stderr line and an exit code.
public enum Nacho {
    public static func main() async {
        do {
            var command = try NachoCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(NachoExitCode.ok.rawValue)
        } catch let failure as NachoFailure {
            FileHandle.standardError.write(Data(errorLines(failure.message).utf8))
            exit(failure.code.rawValue)
        } catch let error as RoomError {
            let failure = NachoFailure(error)
            FileHandle.standardError.write(Data(errorLines(failure.message).utf8))
            exit(failure.code.rawValue)
        } catch {
            // Usage errors: one line like every other failure (the usage summary is in --help).
            if NachoCommand.exitCode(for: error) == .validationFailure {
                let message = NachoCommand.message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
                FileHandle.standardError.write(Data("nacho: error: \(message)\n".utf8))
                exit(ExitCode.validationFailure.rawValue)
            }
            // Help and version: ArgumentParser prints and picks the code.
            NachoCommand.exit(withError: error)
        }
    }
}

extension Nacho {
    /// `nacho: error:` lines for a failure: one per line of its message (one per problem, e.g.
    /// per missing device), each escaped like a log line (`LogText`), since a message can quote
    /// a server's error text.
    static func errorLines(_ message: String) -> String {
        message.split(separator: "\n").map { "nacho: error: \(LogText.escaped(String($0)))\n" }.joined()
    }
}

/// Logging goes to stderr, so stdout stays machine-readable, with control characters escaped
/// (`EscapingLogHandler`), so that text a server sent cannot start a line of its own.
enum LoggingSetup {
    /// Unsafe because it is a global; sound because it is read and written between
    /// `lock.lock()` and `lock.unlock()` only.
    nonisolated(unsafe) private static var done = false
    private static let lock = NSLock()

    static func bootstrap(level: Logger.Level) -> Logger {
        lock.lock()
        if !done {
            LoggingSystem.bootstrap { label in
                var handler = EscapingLogHandler(wrapping: StreamLogHandler.standardError(label: label, metadataProvider: nil))
                handler.logLevel = level
                return handler
            }
            done = true
        }
        lock.unlock()
        var logger = Logger(label: "nacho")
        logger.logLevel = level
        return logger
    }
}
