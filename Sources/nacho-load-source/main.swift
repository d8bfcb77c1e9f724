// nacho-load-source: a room server for load tests (see Sources/LoadSource).
import ArgumentParser
import Dispatch
import Foundation
import LoadSource
import Logging
import NIOCore
import NIOPosix

struct LoadSourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nacho-load-source",
        abstract: "A room server for load tests: virtual members publishing replayed clips over ICE-lite, DTLS and SRTP.",
        discussion: """
            Speaks the room protocol (docs/PROTOCOL.md) on ws://127.0.0.1:PORT, one URL for edge and \
            origin; every room holds the same virtual members and their producers (given by the \
            media plane). Clients only receive: produce is refused. Prints \
            {"listening": URL} as the first line on stdout, then with --stats-interval one JSON \
            line of statistics per interval, and a last one (type "final") on SIGINT or SIGTERM.
            """)

    @Option(help: ArgumentHelp("TCP port on 127.0.0.1 (0: any free port, printed).", valueName: "port"))
    var port = 0

    @Option(help: ArgumentHelp("VP8 clip in IVF the video members replay.", valueName: "path"))
    var videoClip: String?

    @Option(help: ArgumentHelp("Opus clip in Ogg the audio members replay.", valueName: "path"))
    var audioClip: String?

    @Option(help: ArgumentHelp("Virtual members publishing video (default 1 with --video-clip, else 0).", valueName: "n"))
    var videoProducers: Int?

    @Option(help: ArgumentHelp("Virtual members publishing audio (default 1 with --audio-clip, else 0).", valueName: "n"))
    var audioProducers: Int?

    @Option(help: ArgumentHelp("Event loop threads (default: one per core).", valueName: "n"))
    var threads = System.coreCount

    @Option(help: ArgumentHelp("Print statistics as one JSON line every this many seconds.", valueName: "seconds"))
    var statsInterval: Double?

    @Option(help: ArgumentHelp("Log level on stderr: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel = "warning"

    static let producerRange = 0...1000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
        for (flag, value, clip) in [("--video-producers", videoProducers, videoClip), ("--audio-producers", audioProducers, audioClip)] {
            guard let value else { continue }
            guard Self.producerRange.contains(value) else {
                throw ValidationError("\(flag) must be between \(Self.producerRange.lowerBound) and \(Self.producerRange.upperBound)")
            }
            if value > 0, clip == nil { throw ValidationError("\(flag) needs a clip (--\(flag.dropFirst(2).split(separator: "-")[0])-clip)") }
        }
        if let statsInterval, !(statsInterval > 0 && statsInterval <= 3600) {
            throw ValidationError("--stats-interval must be positive (at most an hour)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        try await serve()
    }

    func serve() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "nacho-load-source")
        let stop = SignalWatch()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let media = LoadSourceMedia(videoClip: videoClip, audioClip: audioClip,
                                    videoProducers: videoProducers ?? (videoClip == nil ? 0 : 1),
                                    audioProducers: audioProducers ?? (audioClip == nil ? 0 : 1))
        let plane: LoadMediaPlane
        let server: LoadSourceServer
        do {
            plane = try LoadMediaPlane(media: media, group: group, host: "127.0.0.1", logger: logger)
            server = try await LoadSourceServer(media: plane, group: group, host: "127.0.0.1", port: port, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        StatisticsLine.write(["listening": server.url])
        let started = ContinuousClock.now
        let printer = statsInterval.map { seconds in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(seconds))
                    guard !Task.isCancelled else { break }
                    StatisticsLine.write(StatisticsLine(type: "stats", since: started, report: await server.statistics()))
                }
            }
        }
        await stop.wait()
        printer?.cancel()
        let last = await server.statistics()
        await server.shutdown()
        await plane.shutdown()
        StatisticsLine.write(StatisticsLine(type: "final", since: started, report: last))
        try? await group.shutdownGracefully()
    }
}

/// One statistics line: the time since start and the load source's figures, snake_case.
struct StatisticsLine: Encodable {
    var type: String
    var elapsedS: Double
    var signaling: LoadSourceSignalingStatistics
    var media: LoadSourceStatistics

    init(type: String, since start: ContinuousClock.Instant, report: LoadSourceReport) {
        self.type = type
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        elapsedS = ((Double(seconds) + Double(attoseconds) / 1e18) * 1000).rounded() / 1000
        signaling = report.signaling
        media = report.media
    }

    /// Writes one JSON line on stdout, unbuffered (a pipe's reader sees it at once).
    static func write(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// SIGINT and SIGTERM, awaited once (by `run`, the only user: the watch never leaves it).
final class SignalWatch {
    private let signals: AsyncStream<Int32>
    /// Kept alive while the watch is.
    private let sources: [any DispatchSourceSignal]

    init() {
        let (signals, sink) = AsyncStream.makeStream(of: Int32.self)
        self.signals = signals
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { sink.yield(number) }
            source.resume()
            return source
        }
    }

    func wait() async {
        for await _ in signals { return }
    }
}

// Parsed as this type and served directly: without `@main`, ArgumentParser's `main` and a
// call to `run` resolve to ParsableCommand's synchronous defaults (which print the help).
do {
    try await LoadSourceCommand.parse().serve()
} catch {
    LoadSourceCommand.exit(withError: error)
}
