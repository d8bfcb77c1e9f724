import Foundation
import Logging
import Synchronization
import ORTC
import Signaling
import Transport

/// The origin half of a participant (PROTOCOL.md "then origin"): enter the room as a
/// producer, bring up the send transport, `produce` one producer per pipeline with RTP
/// parameters from the device, and send until `stop` fires; then close the producers and
/// leave in order. A signaling drop re-runs the sequence; the pipelines keep capturing.
public struct OriginSender: Sendable {
    public struct Producer: Sendable {
        public var kind: MediaKind
        public var pipeline: SendPipeline
        public var maxBitrate: Int
        public var appData: String
        /// The MIME type to send (`video/VP9`); nil lets the device choose.
        public var codec: String?

        public init(kind: MediaKind, pipeline: SendPipeline, maxBitrate: Int, appData: String, codec: String? = nil) {
            self.kind = kind
            self.pipeline = pipeline
            self.maxBitrate = maxBitrate
            self.appData = appData
            self.codec = codec
        }
    }

    public var participant: ParticipantConfiguration
    public var session: RoomSession.Configuration
    /// The `type` sent with `join` (default `producer`).
    public var joinType: String
    public var producers: [Producer]
    /// Where load tests read the live figures of what is sent.
    public var trackStats: TrackStatsRegistry?
    /// Told about each session's joins and failures (load-test statistics).
    public var observer: (any AttemptObserver)?

    public init(participant: ParticipantConfiguration, session: RoomSession.Configuration, joinType: String, producers: [Producer]) {
        self.participant = participant
        self.session = session
        self.joinType = joinType
        self.producers = producers
    }

    public struct Outcome: Sendable {
        public var producers: [MediaSender.ProducerTotals]
        public var reconnections: Int
    }

    public func run(until stop: StopSignal) async throws -> Outcome {
        let collected = TotalsRegistry<MediaSender.ProducerTotals>(key: \.producerId)
        let supervisor = RoomSupervisor(policy: participant.supervision, stop: stop, logger: participant.logger, observer: observer)
        let reconnections = try await supervisor.run(session) { room, supervised in
            let entrance = try await RoomEntrance.enter(room, roomId: participant.roomId, memberNo: participant.memberNo, joinType: joinType,
                                                        logger: participant.logger)
            let producerIds = ProducerIds()
            try await TransportLifetime(participant: participant, room: room, attempt: supervised, producing: true).run(
                media: { transport in
                    let sender = MediaSender(transport: transport, cname: participant.cname, logger: participant.logger)
                    trackStats?.register(sender)
                    return sender
                },
                stay: { transport, sender in
                    producerIds.set(try await produce(in: room, device: entrance.device, transport: transport, sender: sender))
                    try await stay(in: room, transport: transport, until: stop)
                },
                finish: { sender in
                    await collected.add(await sender.totals())
                    await trackStats?.retire(sender)
                },
                leave: {
                    // Leave in order: close each producer, then the room.
                    for id in producerIds.all { try? await room.closeProducer(producerId: id) }
                    try? await room.exitRoom()
                })
        }
        return Outcome(producers: await collected.all { $0.kind.rawValue < $1.kind.rawValue }, reconnections: reconnections)
    }

    /// `produce` one producer per pipeline, RTP parameters from the device; returns their ids.
    private func produce(in room: RoomSession, device: Device, transport: WebRtcTransport, sender: MediaSender) async throws -> [String] {
        var producerIds: [String] = []
        for (index, producer) in producers.enumerated() {
            let ssrc = UInt32.random(in: 1...(UInt32.max - 16))
            let parameters: RtpParameters
            do {
                // The codec the router takes (VP8 if it has it, else VP9; or the one asked for).
                let codec = try device.sendCodec(kind: producer.kind, preferred: producer.codec ?? producer.pipeline.fixedCodec)
                try producer.pipeline.use(videoCodec: codec.mimeType)
                if producer.pipeline.layerCount > 1 && MediaCodec(mimeType: codec.mimeType) == .vp8 {
                    // Simulcast: an SSRC and an RTX SSRC per layer, smallest first.
                    let layers = zip(producer.pipeline.simulcastFactors, producer.pipeline.layerBitrates).enumerated().map { layer, pair in
                        SimulcastLayer(ssrc: ssrc &+ UInt32(2 * layer), rtxSsrc: ssrc &+ UInt32(2 * layer + 1),
                                       scaleResolutionDownBy: Double(pair.0), maxBitrate: pair.1)
                    }
                    parameters = try device.sendingSimulcastRtpParameters(layers: layers, cname: participant.cname, mid: String(index),
                                                                          codec: codec.mimeType)
                } else {
                    parameters = try device.sendingRtpParameters(
                        kind: producer.kind, ssrc: ssrc, rtxSsrc: producer.kind == .video ? ssrc &+ 1 : nil,
                        cname: participant.cname, mid: String(index), codec: codec.mimeType)
                }
            } catch let error as ORTCError {
                throw ParticipantError.media("origin produce: \(error)")
            } catch {
                throw ParticipantError.media("origin produce: \(producer.kind) encoder: \(error)")
            }
            let id = try await room.produce(transportId: transport.id, kind: producer.kind, rtpParameters: parameters,
                                            appData: ["source": .string(producer.appData)])
            producerIds.append(id)
            sender.add(producerId: id, kind: producer.kind, parameters: parameters, pipeline: producer.pipeline,
                       maxBitrate: producer.maxBitrate)
            participant.logger.notice("producing", metadata: ["kind": "\(producer.kind)", "producer": "\(id)",
                                                      "codec": "\(parameters.codecs.first?.mimeType ?? "?")",
                                                      "source": "\(producer.pipeline.sourceSummary)"])
        }
        return producerIds
    }

    private func stay(in room: RoomSession, transport: WebRtcTransport, until stop: StopSignal) async throws {
        let pipelines = producers.map(\.pipeline)
        try await room.stay(with: transport, until: stop, watch: {
            // A source that dies (device unplugged, file unreadable) ends the session.
            while !stop.isFired {
                if let failed = pipelines.first(where: { $0.error != nil }), let error = failed.error {
                    throw ParticipantError.media("\(failed.kind) source \(failed.sourceSummary): \(error)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        })
    }
}

/// The producers one session created, for leaving in order.
private final class ProducerIds: Sendable {
    private let ids = Mutex<[String]>([])
    func set(_ new: [String]) { ids.withLock { $0 = new } }
    var all: [String] { ids.withLock { $0 } }
}
