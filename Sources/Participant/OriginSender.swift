import DTLS
import Foundation
import Logging
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

        public init(kind: MediaKind, pipeline: SendPipeline, maxBitrate: Int, appData: String) {
            self.kind = kind
            self.pipeline = pipeline
            self.maxBitrate = maxBitrate
            self.appData = appData
        }
    }

    public var session: RoomSession.Configuration
    public var roomId: String
    public var memberNo: String
    public var joinType: String
    public var certificate: DTLSCertificate
    public var transportConfiguration: WebRtcTransport.Configuration
    public var cname: String
    public var producers: [Producer]
    public var logger: Logger

    public init(session: RoomSession.Configuration, roomId: String, memberNo: String, joinType: String, certificate: DTLSCertificate,
                transportConfiguration: WebRtcTransport.Configuration, cname: String, producers: [Producer], logger: Logger) {
        self.session = session
        self.roomId = roomId
        self.memberNo = memberNo
        self.joinType = joinType
        self.certificate = certificate
        self.transportConfiguration = transportConfiguration
        self.cname = cname
        self.producers = producers
        self.logger = logger
    }

    public struct Outcome: Sendable {
        public var producers: [SendSession.ProducerReport]
        public var reconnections: Int
    }

    public func run(until stop: StopSignal) async throws -> Outcome {
        let collected = ReportLedger<SendSession.ProducerReport>(key: \.producerId)
        let reconnections = try await RoomSupervisor.run(configuration: session, logger: logger) { room, _ in
            let entrance = try await RoomEntrance.enter(room, roomId: roomId, memberNo: memberNo, joinType: joinType, logger: logger)
            let options = try await room.createWebRtcTransport(producing: true, consuming: false, forceTcp: transportConfiguration.forceTcp)
            let transport: WebRtcTransport
            do {
                transport = try WebRtcTransport(options: options, certificate: certificate, configuration: transportConfiguration, logger: logger)
            } catch {
                throw ParticipantError.media("origin transport: \(error)")
            }
            let sender = SendSession(transport: transport, cname: cname, logger: logger)
            sender.start()
            var producerIds: [String] = []
            do {
                try await room.connectTransport(transportId: transport.id, dtlsParameters: transport.localDtlsParameters)
                do {
                    try await transport.connect()
                } catch {
                    throw ParticipantError.media("origin transport: \(error)")
                }
                logger.info("origin transport connected", metadata: ["transport": "\(transport.id)"])
                for (index, producer) in producers.enumerated() {
                    guard entrance.device.canProduce(producer.kind) else {
                        throw ParticipantError.media("origin produce: the router cannot take \(producer.kind) from nacho (no common codec)")
                    }
                    let ssrc = UInt32.random(in: 1...UInt32.max)
                    let parameters: RtpParameters
                    do {
                        parameters = try entrance.device.sendingRtpParameters(
                            kind: producer.kind, ssrc: ssrc, rtxSsrc: producer.kind == .video ? ssrc &+ 1 : nil,
                            cname: cname, mid: String(index))
                    } catch {
                        throw RoomError.from(error, step: "origin produce")
                    }
                    let id = try await room.produce(transportId: transport.id, kind: producer.kind, rtpParameters: parameters,
                                                    appData: ["source": .string(producer.appData)])
                    producerIds.append(id)
                    sender.add(producerId: id, kind: producer.kind, parameters: parameters, pipeline: producer.pipeline,
                               maxBitrate: producer.maxBitrate)
                    logger.notice("producing", metadata: ["kind": "\(producer.kind)", "producer": "\(id)",
                                                         "source": "\(producer.pipeline.sourceSummary)"])
                }
                try await stay(in: room, transport: transport, until: stop)
                // Leave in order: close each producer, then the room.
                for id in producerIds { try? await room.closeProducer(producerId: id) }
                try? await room.exitRoom()
            } catch {
                await collected.add(await sender.reports())
                await sender.stop()
                await transport.close()
                throw error
            }
            await collected.add(await sender.reports())
            await sender.stop()
            await transport.close()
        }
        return Outcome(producers: await collected.all { $0.kind.rawValue < $1.kind.rawValue }, reconnections: reconnections)
    }

    private func stay(in room: RoomSession, transport: WebRtcTransport, until stop: StopSignal) async throws {
        let pipelines = producers.map(\.pipeline)
        try await SessionStay.run(role: "origin", room: room, transport: transport, until: stop, watch: {
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
