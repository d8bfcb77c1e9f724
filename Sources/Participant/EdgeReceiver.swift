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
    public var seat: ParticipantSeat
    public var session: RoomSession.Configuration
    /// The `type` sent with `join` (default `consumer`).
    public var joinType: String
    /// Members to consume; nil for everyone.
    public var onlyMembers: Set<String>?
    /// Where a member's media is recorded; nil records nothing.
    public var recorders: (@Sendable (String) -> Recording.MemberRecorder?)?
    /// Live totals for a status display.
    public var progress: ReceiveProgress?

    public init(seat: ParticipantSeat, session: RoomSession.Configuration, joinType: String, onlyMembers: Set<String>? = nil,
                recorders: (@Sendable (String) -> Recording.MemberRecorder?)? = nil) {
        self.seat = seat
        self.session = session
        self.joinType = joinType
        self.onlyMembers = onlyMembers
        self.recorders = recorders
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
        let reconnections = try await RoomSupervisor.run(configuration: session, logger: seat.logger) { room, _ in
            let entrance = try await RoomEntrance.enter(room, roomId: seat.roomId, memberNo: seat.memberNo, joinType: joinType,
                                                        logger: seat.logger)
            try await seat.withTransport(
                in: room, role: "edge", producing: false,
                session: { ReceiveSession(transport: $0, cname: seat.cname, logger: seat.logger, recorders: recorders, progress: progress) },
                body: { transport, receiver in
                    try await stay(in: room, device: entrance.device, transport: transport, receiver: receiver, until: stop)
                    try? await room.exitRoom()
                },
                finish: { await collected.add(await $0.reports()) })
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
                seat.logger.notice("resume failed, continuing", metadata: ["consumer": "\(consumer.id)", "error": "\(error)"])
            }
            seat.logger.notice("consuming", metadata: ["member": "\(producer.owner ?? "?")", "kind": "\(consumer.kind)",
                                                 "producer": "\(producer.producerId)"])
        }
        try await room.requestProducers()
        try await SessionStay.run(role: "edge", room: room, transport: transport, until: stop) { event in
            switch event {
            case .newProducers(let list):
                for producer in list where producer.memberNo != seat.memberNo {
                    if let only = onlyMembers, !only.contains(producer.owner ?? "") { continue }
                    try await consume(producer)
                }
            case .consumerClosed(let id):
                seat.logger.notice("consumer closed by the server", metadata: ["consumer": "\(id)"])
                receiver.close(consumerId: id)
            case .disconnected:
                break  // handled by SessionStay
            }
        }
    }
}
