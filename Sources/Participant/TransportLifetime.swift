import DTLS
import Logging
import Signaling
import Transport

/// One recv or send transport's life within one signaling session: createWebRtcTransport,
/// connectTransport, ICE + DTLS, the stay, and an orderly end.
struct TransportLifetime {
    var participant: ParticipantConfiguration
    var room: RoomSession
    var attempt: RoomSupervisor.Attempt
    /// A send transport (produce) rather than a recv transport (consume).
    var producing: Bool

    /// Runs createWebRtcTransport, connectTransport, ICE + DTLS, then `stay`. Whatever ended the stay, the media side
    /// stops first (recordings get what was buffered and close their files), then `finish`
    /// keeps its reports, then, only when the stay ended normally, `leave` says goodbye to the
    /// server (`exitRoom` comes after the files are finished), and the transport closes last.
    func run<Media: TransportMedia>(
        media make: (WebRtcTransport) -> Media,
        stay: (WebRtcTransport, Media) async throws -> Void,
        finish: (Media) async -> Void,
        leave: () async -> Void
    ) async throws {
        let role = room.configuration.role
        let options = try await room.createWebRtcTransport(producing: producing, consuming: !producing,
                                                           forceTcp: participant.transportConfiguration.forceTcp)
        let transport: WebRtcTransport
        do {
            transport = try WebRtcTransport(options: options, certificate: participant.certificate,
                                            configuration: participant.transportConfiguration, logger: participant.logger)
        } catch {
            throw ParticipantError.media("\(role) transport: \(error)")
        }
        // Handlers are in place before the first packet can arrive.
        let media = make(transport)
        media.start()
        let outcome: Result<Void, any Error>
        do {
            try await room.connectTransport(transportId: transport.id, dtlsParameters: transport.localDtlsParameters)
            do {
                try await transport.connect()
            } catch let error as TransportError {
                throw ParticipantError(error, role: role)
            }
            attempt.established()
            participant.logger.info("\(role) transport connected", metadata: ["transport": "\(transport.id)"])
            try await stay(transport, media)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await media.stop()
        await finish(media)
        if case .success = outcome { await leave() }
        let statistics = await transport.currentStatistics()
        participant.logger.info("\(role) transport closed", metadata: [
            "rtp in": "\(statistics.rtpPacketsReceived)", "rtp out": "\(statistics.rtpPacketsSent)",
            "rtcp in": "\(statistics.rtcpPacketsReceived)", "rtcp out": "\(statistics.rtcpPacketsSent)",
            "probation dropped": "\(statistics.probationPacketsDropped)", "discarded": "\(statistics.packetsDiscarded)",
        ])
        await transport.close()
        try outcome.get()
    }
}

/// The media side of one transport (receive or send): started before the transport connects,
/// stopped before it closes.
protocol TransportMedia: Sendable {
    func start()
    func stop() async
}

extension MediaReceiver: TransportMedia {}
extension MediaSender: TransportMedia {}
