import Foundation
import Logging
import ORTC
import Recording
import Signaling
import Transport

/// The edge half of a participant (PROTOCOL.md "edge first"): enter the room as a consumer,
/// bring up the receive transport (ICE, DTLS, SRTP), consume every remote producer (those
/// announced later too), resume them, and stay until `stop` fires. A signaling drop or a lost
/// transport re-runs the whole sequence with a new transport; what was received is kept
/// across sessions.
public struct EdgeReceiver: Sendable {
    public var participant: ParticipantConfiguration
    public var session: RoomSession.Configuration
    /// The `type` sent with `join` (default `consumer`).
    public var joinType: String
    /// Members to consume; nil for everyone.
    public var onlyMembers: Set<String>?
    /// Where a member's media is recorded; nil records nothing.
    public var recorders: (@Sendable (String) -> Recording.MemberRecorder?)?
    /// Live totals for a status display.
    public var progress: ReceiveProgress?
    /// Where load tests read the live figures of what is received.
    public var trackStats: TrackStatsRegistry?
    /// Told about each session's joins and failures (load-test statistics).
    public var observer: (any AttemptObserver)?

    public init(participant: ParticipantConfiguration, session: RoomSession.Configuration, joinType: String, onlyMembers: Set<String>? = nil,
                recorders: (@Sendable (String) -> Recording.MemberRecorder?)? = nil) {
        self.participant = participant
        self.session = session
        self.joinType = joinType
        self.onlyMembers = onlyMembers
        self.recorders = recorders
    }

    public struct Outcome: Sendable {
        public var consumers: [MediaReceiver.ConsumerTotals]
        public var reconnections: Int
        /// Producers that could not be consumed (refused, unanswered, unsupported codec).
        public var skipped: [SkippedProducer]

        public init(consumers: [MediaReceiver.ConsumerTotals], reconnections: Int, skipped: [SkippedProducer] = []) {
            self.consumers = consumers
            self.reconnections = reconnections
            self.skipped = skipped
        }
    }

    public struct SkippedProducer: Sendable, Equatable {
        public var producerId: String
        public var owner: String
        public var kind: MediaKind?
        public var reason: String
    }

    /// Runs until `stop` fires; throws on a failure that reconnecting cannot fix.
    public func run(until stop: StopSignal) async throws -> Outcome {
        let collected = TotalsRegistry<MediaReceiver.ConsumerTotals>(key: \.track.consumerId)
        let skipped = TotalsRegistry<SkippedProducer>(key: \.producerId)
        let supervisor = RoomSupervisor(policy: participant.supervision, stop: stop, logger: participant.logger, observer: observer)
        let reconnections = try await supervisor.run(session) { room, supervised in
            let entrance = try await RoomEntrance.enter(room, roomId: participant.roomId, memberNo: participant.memberNo, joinType: joinType,
                                                        logger: participant.logger)
            try await TransportLifetime(participant: participant, room: room, attempt: supervised, producing: false).run(
                media: { transport in
                    let receiver = MediaReceiver(transport: transport, cname: participant.cname, logger: participant.logger, recorders: recorders,
                                                 progress: progress)
                    trackStats?.register(receiver)
                    return receiver
                },
                stay: { transport, receiver in
                    try await stay(in: room, device: entrance.device, transport: transport, receiver: receiver,
                                   skipped: skipped, until: stop)
                },
                finish: { receiver in
                    await collected.add(await receiver.totals())
                    await trackStats?.retire(receiver)
                },
                leave: { try? await room.exitRoom() })
        }
        let consumers = await collected.all { ($0.track.owner, $0.track.kind.rawValue) < ($1.track.owner, $1.track.kind.rawValue) }
        return Outcome(consumers: consumers, reconnections: reconnections,
                       skipped: await skipped.all { $0.producerId < $1.producerId })
    }

    /// Reads the room's announcements without ever waiting on the network (each consume runs
    /// in a task of its own, so one unanswered `consume` or `resume` delays nobody else) and
    /// stays until `stop` or a failure.
    private func stay(in room: RoomSession, device: Device, transport: WebRtcTransport, receiver: MediaReceiver,
                      skipped: TotalsRegistry<SkippedProducer>, until stop: StopSignal) async throws {
        let table = ConsumerTable()
        let (announced, announce) = AsyncStream.makeStream(of: ProducerInfo.self)
        let consume: @Sendable (ProducerInfo) async -> Void = { producer in
            await consumeOne(producer, in: room, device: device, transport: transport, receiver: receiver,
                             table: table, skipped: skipped)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Discarding: a group keeps each finished child until it is awaited, and a
                // server that announces and closes producers forever would grow it forever.
                await withDiscardingTaskGroup { consumes in
                    for await producer in announced {
                        consumes.addTask { await consume(producer) }
                    }
                }
            }
            defer {
                announce.finish()
                group.cancelAll()
            }
            try await room.requestProducers()
            try await room.stay(with: transport, until: stop) { event in
                switch event {
                case .newProducers(let list):
                    for producer in list where producer.memberNo != participant.memberNo {
                        if let only = onlyMembers, !only.contains(producer.owner ?? "") { continue }
                        switch table.claim(producer.producerId) {
                        case .new: announce.yield(producer)
                        case .known: continue  // announced twice (broadcast and getProducers answer)
                        case .full:
                            throw RoomError.protocolViolation(
                                step: "edge newProducers", "more than \(ConsumerTable.limit) producers announced in one session")
                        }
                    }
                case .consumerClosed(let id):
                    participant.logger.notice("consumer closed by the server", metadata: ["consumer": "\(id)"])
                    table.closed(consumerId: id)
                    receiver.close(consumerId: id)
                case .consumerPaused(let id):
                    participant.logger.notice("producer paused", metadata: ["consumer": "\(id)"])
                    receiver.setPaused(consumerId: id, true)
                case .consumerResumed(let id):
                    participant.logger.notice("producer resumed", metadata: ["consumer": "\(id)"])
                    receiver.setPaused(consumerId: id, false)
                case .disconnected:
                    break  // handled by RoomSession.stay
                }
            }
        }
    }

    /// `consume` one producer, check the answer against the device, start receiving, then
    /// `resume`. A producer that cannot be consumed is skipped with one warning; the others go on.
    private func consumeOne(_ producer: ProducerInfo, in room: RoomSession, device: Device, transport: WebRtcTransport,
                            receiver: MediaReceiver, table: ConsumerTable, skipped: TotalsRegistry<SkippedProducer>) async {
        let owner = producer.owner ?? "?"
        let consumer: ConsumerOptions
        do {
            let answer = try await room.consume(transportId: transport.id, producerId: producer.producerId,
                                                rtpCapabilities: device.recvRtpCapabilities)
            do {
                consumer = try device.validateConsumer(answer)
            } catch {
                throw RoomError.from(error, step: "edge consume")
            }
        } catch {
            // A dead link ends the session anyway (stay reports it); anything else is
            // this producer's problem only.
            if Task.isCancelled || (error as? RoomError)?.isLinkFailure == true { return }
            // What the server said is clipped: it is logged and kept for the whole run.
            let reason = ServerText.clipped("\(error)")
            participant.logger.warning("skipping a producer that cannot be consumed", metadata: [
                "member": "\(owner)", "kind": "\(producer.kind?.rawValue ?? "?")", "producer": "\(producer.producerId)",
                "reason": "\(reason)",
            ])
            await skipped.add([SkippedProducer(producerId: producer.producerId, owner: owner, kind: producer.kind,
                                               reason: reason)])
            return
        }
        table.bind(producerId: producer.producerId, consumerId: consumer.id)
        let paused = consumer.producerPaused ?? false
        receiver.add(consumer, owner: owner, paused: paused)
        participant.logger.notice("consuming", metadata: ["member": "\(owner)", "kind": "\(consumer.kind)",
                                                   "producer": "\(producer.producerId)", "paused": "\(paused)"])
        // Servers differ: some need resume, some start consumers unpaused and never answer it.
        // Media may already flow; a failing resume is worth a warning, not the session.
        do {
            try await room.resume(consumerId: consumer.id)
        } catch {
            if Task.isCancelled || (error as? RoomError)?.isLinkFailure == true { return }
            participant.logger.warning("resume failed; receiving anyway", metadata: [
                "member": "\(owner)", "kind": "\(consumer.kind)", "consumer": "\(consumer.id)", "error": "\(error)",
            ])
        }
    }
}
