import ArgumentParser
import Foundation
import Signaling

/// `nacho record`: records every remote member to one file each.
public struct RecordCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record remote members to disk, one playable file per member.",
        discussion: """
            Consumes every remote producer through the edge and writes what arrives, without \
            re-encoding, to OUT/<room>-<member>-<start time>.webm. This build negotiates the \
            room but has no media transport yet: it exits with code 74 once signaling is done.
            """)

    @OptionGroup public var server: ServerOptions

    @Option(help: ArgumentHelp("Directory for the recordings.", valueName: "dir"))
    public var out: String = "recordings"

    @Option(help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C).", valueName: "seconds"))
    public var duration: Double?

    @Flag(help: "Overwrite existing files instead of refusing.")
    public var overwrite = false

    public init() {}

    public mutating func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        if out.isEmpty { throw ValidationError("--out must name a directory") }
    }

    public func run() async throws {
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve()
        try await SignalingRehearsal.run(settings: settings, duration: duration, logger: logger, command: "record")
    }
}
