import DTLS
import Logging
import Signaling
import Transport

/// Who a participant is in a room and how it connects: shared by its edge and origin halves.
public struct ParticipantSeat: Sendable {
    public var roomId: String
    public var memberNo: String
    public var certificate: DTLSCertificate
    public var transportConfiguration: WebRtcTransport.Configuration
    /// The CNAME of all this participant's RTP streams (RFC 3550 §6.5.1).
    public var cname: String
    public var logger: Logger
    /// Reconnection attempts and shutdown grace of both halves.
    public var supervision: RoomSupervisor.Policy

    public init(roomId: String, memberNo: String, certificate: DTLSCertificate,
                transportConfiguration: WebRtcTransport.Configuration = .init(), cname: String, logger: Logger,
                supervision: RoomSupervisor.Policy = .init()) {
        self.roomId = roomId
        self.memberNo = memberNo
        self.certificate = certificate
        self.transportConfiguration = transportConfiguration
        self.cname = cname
        self.logger = logger
        self.supervision = supervision
    }

    /// A transport's lifetime within one signaling session: createWebRtcTransport,
    /// connectTransport, ICE + DTLS, then `stay`. Whatever ended the stay, the media side
    /// stops first (recordings get what was buffered and close their files), then `finish`
    /// keeps its reports, then, only when the stay ended normally, `leave` says goodbye to the
    /// server (`exitRoom` comes after the files are finished), and the transport closes last.
    func withTransport<Media: TransportMedia>(
        in room: RoomSession, attempt: RoomSupervisor.Attempt, producing: Bool,
        media make: (WebRtcTransport) -> Media,
        stay: (WebRtcTransport, Media) async throws -> Void,
        finish: (Media) async -> Void,
        leave: () async -> Void
    ) async throws {
        let role = room.configuration.role
        let options = try await room.createWebRtcTransport(producing: producing, consuming: !producing,
                                                           forceTcp: transportConfiguration.forceTcp)
        let transport: WebRtcTransport
        do {
            transport = try WebRtcTransport(options: options, certificate: certificate, configuration: transportConfiguration, logger: logger)
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
                throw Self.participantError(error, role: role)
            }
            attempt.established()
            logger.info("\(role) transport connected", metadata: ["transport": "\(transport.id)"])
            try await stay(transport, media)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await media.stop()
        await finish(media)
        if case .success = outcome { await leave() }
        let statistics = await transport.currentStatistics()
        logger.info("\(role) transport closed", metadata: [
            "rtp in": "\(statistics.rtpPacketsReceived)", "rtp out": "\(statistics.rtpPacketsSent)",
            "rtcp in": "\(statistics.rtcpPacketsReceived)", "rtcp out": "\(statistics.rtcpPacketsSent)",
            "probation dropped": "\(statistics.probationPacketsDropped)", "discarded": "\(statistics.packetsDiscarded)",
        ])
        await transport.close()
        try outcome.get()
    }

    /// A certificate that does not match is a misconfigured (or impersonated) server, never
    /// the network: not worth a reconnect. Everything else may be.
    static func participantError(_ error: TransportError, role: RoomSession.Role) -> ParticipantError {
        if case .dtls(.fingerprintMismatch) = error { return .media("\(role) transport: \(error)") }
        return .transport("\(role) transport: \(error)")
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
