import ArgumentParser
import Foundation
import ORTC
import Logging
import Signaling

/// `nacho join`: takes part in a room (receive through the edge, send through the origin).
public struct JoinCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a room: consume every remote producer and produce mic and camera.",
        discussion: """
            Runs the edge sequence (createRoom, join, getRouterRtpCapabilities, \
            createWebRtcTransport, getProducers, consume) and then the origin sequence. \
            This build negotiates the room but has no media transport yet (ICE/DTLS/SRTP): \
            it exits with code 74 once signaling is done.
            """)

    @OptionGroup public var server: ServerOptions
    @OptionGroup public var media: MediaOptions

    public init() {}

    public func run() async throws {
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve()
        try await SignalingRehearsal.run(settings: settings, logger: logger, command: "join")
    }
}

/// Options for media sources and duration, shared by `join` and `record`.
public struct MediaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Audio source: alsa:DEVICE, synthetic, file:PATH.wav.", valueName: "uri"))
    public var audioSource: String?

    @Option(help: ArgumentHelp("Video source: v4l2:/dev/videoN, synthetic, file:PATH.y4m.", valueName: "uri"))
    public var videoSource: String?

    @Flag(help: "Do not send audio.")
    public var noAudio = false

    @Flag(help: "Do not send video.")
    public var noVideo = false

    @Option(help: ArgumentHelp("Leave after this many seconds (default: until Ctrl-C).", valueName: "seconds"))
    public var duration: Double?

    public init() {}

    public mutating func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        for (flag, value) in [("--audio-source", audioSource), ("--video-source", videoSource)] {
            guard let value else { continue }
            let scheme = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? value
            guard ["alsa", "v4l2", "synthetic", "file"].contains(scheme) else {
                throw ValidationError("\(flag) must be alsa:DEVICE, v4l2:PATH, synthetic or file:PATH, got \(value.debugDescription)")
            }
        }
        if noAudio && audioSource != nil { throw ValidationError("--no-audio and --audio-source exclude each other") }
        if noVideo && videoSource != nil { throw ValidationError("--no-video and --video-source exclude each other") }
    }
}

/// What `join` and `record` can do until the media transport lands: the whole signaling
/// sequence on the edge, with consume answers validated by the device, then a clear stop.
enum SignalingRehearsal {
    static func run(settings: ResolvedSettings, logger: Logger, command: String) async throws {
        let session = RoomSession(configuration: settings.session(.edge), logger: logger)
        do {
            try await session.connect()
            let entrance = try await RoomEntrance.enter(session, roomId: settings.room, memberNo: settings.member,
                                                        joinType: settings.edgeJoinType, logger: logger)
            let transport = try await session.createWebRtcTransport(producing: false, consuming: true)
            let producers = try await ProducerListing.collect(session, ownMember: settings.member,
                                                              timeout: settings.requestTimeout, settle: .zero)
            for producer in producers {
                let answer = try await session.consume(transportId: transport.id, producerId: producer.producerId,
                                                       rtpCapabilities: entrance.device.recvRtpCapabilities)
                do {
                    let consumer = try entrance.device.validateConsumer(answer)
                    logger.notice("consumer ready", metadata: [
                        "member": "\(producer.owner ?? "?")", "kind": "\(consumer.kind)", "consumer": "\(consumer.id)",
                    ])
                } catch {
                    throw RoomError.from(error, step: "edge consume")
                }
            }
            try? await session.exitRoom()
            await session.close()
            throw NachoFailure(.mediaFailure, "\(command): signaling done (\(producers.count) remote producers), but this build has no media transport yet (ICE/DTLS/SRTP)")
        } catch {
            await session.close()
            throw error
        }
    }
}
