import ArgumentParser
import DTLS
import Transport
import Foundation
import ORTC
import Participant
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

    @Flag(help: "Print the receive report as one JSON object per producer per line.")
    public var json = false

    @Flag(help: "Use the servers' TCP candidates instead of UDP (for networks that block UDP).")
    public var forceTcp = false

    public func run() async throws {
        let logger = LoggingSetup.bootstrap(level: server.resolvedLogLevel())
        let settings = try server.resolve()
        guard media.noAudio && media.noVideo else {
            throw NachoFailure(.mediaFailure, "join: sending microphone and camera is not available in this build yet; pass --no-audio --no-video to join receive-only")
        }
        let certificate: DTLSCertificate
        do {
            certificate = try DTLSCertificate.generate()
        } catch {
            throw NachoFailure(.mediaFailure, "join: cannot create the DTLS certificate: \(error)")
        }
        let stop = StopSignal()
        SignalTrap.install(stop)
        if let duration = media.duration {
            Task {
                try? await Task.sleep(for: .milliseconds(Int(duration * 1000)))
                stop.fire()
            }
        }
        let receiver = EdgeReceiver(
            session: settings.session(.edge), roomId: settings.room, memberNo: settings.member,
            joinType: settings.edgeJoinType, certificate: certificate,
            transportConfiguration: settings.transportConfiguration(forceTcp: forceTcp), cname: "nacho-\(settings.member)-\(UInt32.random(in: 0...UInt32.max))",
            logger: logger)
        let outcome: EdgeReceiver.Outcome
        do {
            outcome = try await receiver.run(until: stop)
        } catch let error as ParticipantError {
            switch error {
            case .signaling(let room): throw NachoFailure(room)
            case .media(let why): throw NachoFailure(.mediaFailure, why)
            }
        }
        ReceiveReportPrinter.print(outcome, json: json)
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

/// What `join` and `record` can do until the media transport lands: the whole edge signaling
/// sequence, consume answers checked by the device, new producers consumed as they appear,
/// reconnection with backoff when the link drops; then a clear stop.
enum SignalingRehearsal {
    static func run(settings: ResolvedSettings, duration: Double?, logger: Logger, command: String) async throws {
        let deadline = duration.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let tally = ConsumerTally()
        let reconnects = try await RoomSupervisor.run(configuration: settings.session(.edge), logger: logger) { session, attempt in
            let entrance = try await RoomEntrance.enter(session, roomId: settings.room, memberNo: settings.member,
                                                        joinType: settings.edgeJoinType, logger: logger)
            let transport = try await session.createWebRtcTransport(producing: false, consuming: true)
            let consume: @Sendable (ProducerInfo) async throws -> Void = { producer in
                let answer = try await session.consume(transportId: transport.id, producerId: producer.producerId,
                                                       rtpCapabilities: entrance.device.recvRtpCapabilities)
                let consumer: ConsumerOptions
                do {
                    consumer = try entrance.device.validateConsumer(answer)
                } catch {
                    throw RoomError.from(error, step: "edge consume")
                }
                tally.add(consumer.id)
                logger.notice("consumer ready", metadata: [
                    "member": "\(producer.owner ?? "?")", "kind": "\(consumer.kind)", "consumer": "\(consumer.id)",
                ])
            }
            let events = session.events
            for producer in try await ProducerListing.collect(session, ownMember: settings.member,
                                                               timeout: settings.requestTimeout, settle: .zero) {
                try await consume(producer)
            }
            guard let deadline else {
                try? await session.exitRoom()
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        switch event {
                        case .newProducers(let list):
                            for producer in list where producer.memberNo != settings.member { try await consume(producer) }
                        case .consumerClosed(let id):
                            logger.notice("consumer closed by the server", metadata: ["consumer": "\(id)"])
                        case .disconnected(let error):
                            throw error
                        }
                    }
                    throw RoomError.connectionLost(step: "edge session", "event stream ended")
                }
                group.addTask { try await Task.sleep(until: deadline, clock: .continuous) }
                defer { group.cancelAll() }
                try await group.next()
            }
            try? await session.exitRoom()
        }
        let summary = "signaling done (\(tally.count) consumers\(reconnects > 0 ? ", \(reconnects) reconnections" : ""))"
        throw NachoFailure(.mediaFailure, "\(command): \(summary), but this build has no media transport yet (ICE/DTLS/SRTP)")
    }
}

/// Counts consumers across sessions and tasks.
final class ConsumerTally: @unchecked Sendable {
    private let lock = NSLock()
    private var ids = Set<String>()
    func add(_ id: String) { lock.withLock { _ = ids.insert(id) } }
    var count: Int { lock.withLock { ids.count } }
}
