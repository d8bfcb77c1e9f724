import DTLS
import Foundation
import Logging
import ORTC
import Recording
import Signaling
import Transport

/// The edge half of a participant (PROTOCOL.md "edge first"): enter the room as a consumer,
/// bring up the receive transport (ICE, DTLS, SRTP), consume every remote producer (those
/// announced later too), resume them, and stay until `stop` fires. A signaling drop re-runs
/// the whole sequence with a new transport; what was received is kept across sessions.
public struct EdgeReceiver: Sendable {
    public var session: RoomSession.Configuration
    public var roomId: String
    public var memberNo: String
    public var joinType: String
    public var certificate: DTLSCertificate
    public var transportConfiguration: WebRtcTransport.Configuration
    public var cname: String
    public var logger: Logger
    /// Members to consume; nil for everyone.
    public var onlyMembers: Set<String>?
    /// Where a member's media is recorded; nil records nothing.
    public var recorders: (@Sendable (String) -> Recording.MemberRecorder?)?
    /// Live totals for a status display.
    public var progress: ReceiveProgress?

    public init(session: RoomSession.Configuration, roomId: String, memberNo: String, joinType: String,
                certificate: DTLSCertificate, transportConfiguration: WebRtcTransport.Configuration = .init(),
                cname: String, logger: Logger, onlyMembers: Set<String>? = nil,
                recorders: (@Sendable (String) -> Recording.MemberRecorder?)? = nil) {
        self.onlyMembers = onlyMembers
        self.recorders = recorders
        self.session = session
        self.roomId = roomId
        self.memberNo = memberNo
        self.joinType = joinType
        self.certificate = certificate
        self.transportConfiguration = transportConfiguration
        self.cname = cname
        self.logger = logger
    }

    public struct Outcome: Sendable {
        public var consumers: [ReceiveSession.ConsumerReport]
        public var reconnections: Int

        public init(consumers: [ReceiveSession.ConsumerReport], reconnections: Int) {
            self.consumers = consumers
            self.reconnections = reconnections
        }
    }

    /// Runs until `stop` fires; throws on a failure that reconnecting cannot fix.
    public func run(until stop: StopSignal) async throws -> Outcome {
        let collected = ReportLedger<ReceiveSession.ConsumerReport>(key: \.consumerId)
        let reconnections = try await RoomSupervisor.run(configuration: session, logger: logger) { room, attempt in
            let entrance = try await RoomEntrance.enter(room, roomId: roomId, memberNo: memberNo, joinType: joinType, logger: logger)
            let options = try await room.createWebRtcTransport(producing: false, consuming: true,
                                                               forceTcp: transportConfiguration.forceTcp)
            let transport: WebRtcTransport
            do {
                transport = try WebRtcTransport(options: options, certificate: certificate, configuration: transportConfiguration, logger: logger)
            } catch {
                throw ParticipantError.media("edge transport: \(error)")
            }
            let receiver = ReceiveSession(transport: transport, cname: cname, logger: logger, recorders: recorders, progress: progress)
            receiver.start()
            do {
                try await room.connectTransport(transportId: transport.id, dtlsParameters: transport.localDtlsParameters)
                do {
                    try await transport.connect()
                } catch {
                    throw ParticipantError.media("edge transport: \(error)")
                }
                logger.info("edge transport connected", metadata: ["transport": "\(transport.id)"])
                try await stay(in: room, device: entrance.device, transport: transport, receiver: receiver, until: stop)
                try? await room.exitRoom()
            } catch {
                await collected.add(await receiver.reports())
                await receiver.stop()
                await transport.close()
                throw error
            }
            await collected.add(await receiver.reports())
            await receiver.stop()
            await transport.close()
        }
        let consumers = await collected.all { ($0.owner, $0.kind.rawValue) < ($1.owner, $1.kind.rawValue) }
        return Outcome(consumers: consumers, reconnections: reconnections)
    }

    private func stay(in room: RoomSession, device: Device, transport: WebRtcTransport, receiver: ReceiveSession,
                      until stop: StopSignal) async throws {
        let consume: @Sendable (ProducerInfo) async throws -> Void = { producer in
            let answer = try await room.consume(transportId: transport.id, producerId: producer.producerId,
                                                rtpCapabilities: device.recvRtpCapabilities)
            let consumer: ConsumerOptions
            do {
                consumer = try device.validateConsumer(answer)
            } catch {
                throw RoomError.from(error, step: "edge consume")
            }
            receiver.add(consumer, owner: producer.owner ?? "?")
            // Servers differ: some need resume, some consumers start unpaused and have no
            // working handler. A failing resume is logged, not fatal.
            do {
                try await room.resume(consumerId: consumer.id)
            } catch let error as RoomError {
                logger.notice("resume failed, continuing", metadata: ["consumer": "\(consumer.id)", "error": "\(error)"])
            }
            logger.notice("consuming", metadata: ["member": "\(producer.owner ?? "?")", "kind": "\(consumer.kind)",
                                                 "producer": "\(producer.producerId)"])
        }
        try await room.requestProducers()
        try await SessionStay.run(role: "edge", room: room, transport: transport, until: stop) { event in
            switch event {
            case .newProducers(let list):
                for producer in list where producer.memberNo != memberNo {
                    if let only = onlyMembers, !only.contains(producer.owner ?? "") { continue }
                    try await consume(producer)
                }
            case .consumerClosed(let id):
                logger.notice("consumer closed by the server", metadata: ["consumer": "\(id)"])
                receiver.close(consumerId: id)
            case .disconnected:
                break  // handled by SessionStay
            }
        }
    }
}
