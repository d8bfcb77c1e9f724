import ArgumentParser
import DTLS
import Foundation
import Logging
import ORTC
import Participant
import Recording
import Signaling
import Transport

/// `nacho join`: takes part in a room (receive through the edge, send through the origin).
public struct JoinCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a room: consume every remote producer and produce mic and camera.",
        discussion: """
            Runs the edge sequence (createRoom, join, getRouterRtpCapabilities, \
            createWebRtcTransport, getProducers, consume) and then the origin sequence \
            (produce microphone and camera). Leaves in order on --duration, SIGINT or SIGTERM. \
            Sources: --audio-source alsa:DEVICE (default alsa:default), synthetic, synthetic:speech, \
            file:PATH.wav; --video-source v4l2:PATH (default v4l2:/dev/video0), synthetic, \
            file:PATH.y4m. Sizes, rates and bitrates come from the configuration file.
            """)

    @OptionGroup public var server: ServerOptions
    @OptionGroup public var media: MediaOptions

    public init() {}

    @Flag(help: "Print the report (what was sent, what was received) as one JSON object per producer per line.")
    public var json = false

    @Flag(help: "Use the servers' TCP candidates instead of UDP (for networks that block UDP).")
    public var forceTcp = false

    @Option(help: ArgumentHelp("Also record the remote members to this directory (as `nacho record`).", valueName: "dir"))
    public var record: String?

    public func run() async throws {
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve()
        // Open the devices first: a missing camera or microphone is reported before any
        // network traffic, one line per device.
        let producers = try MediaSetup.producers(media: media, settings: settings, logger: logger)
        let registry = try record.map { try RecorderRegistry(directory: $0, room: settings.room, overwrite: false, logger: logger) }
        var recorders: (@Sendable (String) -> MemberRecorder?)?
        if let registry {
            recorders = { member in registry.recorder(for: member) }
        }
        let participant = try ParticipantSetup.participant(settings: settings, forceTcp: forceTcp, logger: logger, command: "join")
        let stop = ParticipantSetup.stopSignal(duration: media.duration, lastWords: { registry?.finishAll() })
        let receiver = EdgeReceiver(participant: participant, session: settings.session(.edge), joinType: settings.edgeJoinType,
                                    recorders: recorders)
        let sender = OriginSender(participant: participant, session: settings.session(.origin), joinType: settings.originJoinType,
                                  producers: producers)
        for producer in producers { producer.pipeline.start() }
        defer { for producer in producers { producer.pipeline.stop() } }
        do {
            // Edge first (receive), then origin (send); both stay until stop, and a failure
            // of either ends the other.
            let (received, sent) = try await withThrowingTaskGroup(of: JoinHalf.self) { group in
                group.addTask { .edge(try await receiver.run(until: stop)) }
                if !producers.isEmpty {
                    group.addTask { .origin(try await sender.run(until: stop)) }
                }
                var received: EdgeReceiver.Outcome?
                var sent: OriginSender.Outcome?
                do {
                    for try await half in group {
                        switch half {
                        case .edge(let outcome): received = outcome
                        case .origin(let outcome): sent = outcome
                        }
                    }
                } catch {
                    stop.fire()
                    throw error
                }
                return (received, sent)
            }
            registry?.finishAll()
            TotalsPrinter.print(received: received, sent: sent, json: json)
            if let registry { try registry.printSummary(outcome: received ?? .init(consumers: [], reconnections: 0), json: json) }
        } catch {
            // Whatever ended the run, recordings are finalized and stay playable.
            registry?.finishAll()
            guard let failure = error as? ParticipantError else { throw error }
            throw NachoFailure(.mediaFailure, failure.description)
        }
    }
}

private enum JoinHalf: Sendable {
    case edge(EdgeReceiver.Outcome)
    case origin(OriginSender.Outcome)
}

/// Options for what `join` sends, and how long it stays.
public struct MediaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Audio source: alsa:DEVICE, synthetic, file:PATH.wav.", valueName: "uri"))
    public var audioSource: String?

    @Option(help: ArgumentHelp("Video source: v4l2:/dev/videoN, synthetic, file:PATH.y4m.", valueName: "uri"))
    public var videoSource: String?

    @Option(help: ArgumentHelp("Video codec to send: vp8 or vp9 (default: VP8 when the router has it, else VP9).", valueName: "codec"))
    public var videoCodec: String?

    @Flag(help: "Send video as VP8 simulcast: three encodings at 1/4, 1/2 and full size (as browsers do).")
    public var simulcast = false

    @Flag(help: "Do not send audio.")
    public var noAudio = false

    @Flag(help: "Do not send video.")
    public var noVideo = false

    @Option(help: ArgumentHelp("Leave after this many seconds (default: until Ctrl-C).", valueName: "seconds"))
    public var duration: Double?

    public init() {}

    public mutating func validate() throws {
        try ServerOptions.validateSeconds(duration, flag: "--duration", max: 365 * 24 * 3600)
        for (flag, value) in [("--audio-source", audioSource), ("--video-source", videoSource)] {
            guard let value else { continue }
            let scheme = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? value
            guard ["alsa", "v4l2", "synthetic", "file", "replay"].contains(scheme) else {
                throw ValidationError("\(flag) must be alsa:DEVICE, v4l2:PATH, synthetic, file:PATH or replay:PATH, got \(value.debugDescription)")
            }
        }
        if noAudio && audioSource != nil { throw ValidationError("--no-audio and --audio-source exclude each other") }
        if noVideo && videoSource != nil { throw ValidationError("--no-video and --video-source exclude each other") }
        if let videoCodec, !["vp8", "vp9", "video/vp8", "video/vp9"].contains(videoCodec.lowercased()) {
            throw ValidationError("--video-codec must be vp8 or vp9, got \(videoCodec.debugDescription)")
        }
    }
}
