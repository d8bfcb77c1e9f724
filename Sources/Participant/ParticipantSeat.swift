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

    public init(roomId: String, memberNo: String, certificate: DTLSCertificate,
                transportConfiguration: WebRtcTransport.Configuration = .init(), cname: String, logger: Logger) {
        self.roomId = roomId
        self.memberNo = memberNo
        self.certificate = certificate
        self.transportConfiguration = transportConfiguration
        self.cname = cname
        self.logger = logger
    }

    /// A transport's lifetime within one signaling session: createWebRtcTransport,
    /// connectTransport, ICE + DTLS, then `body`; whatever happens, `finish` (to keep the
    /// session's reports), the media session's stop and the transport's close run after.
    func withTransport<Session: MediaSession>(
        in room: RoomSession, role: String, producing: Bool,
        session make: (WebRtcTransport) -> Session,
        body: (WebRtcTransport, Session) async throws -> Void,
        finish: (Session) async -> Void
    ) async throws {
        let options = try await room.createWebRtcTransport(producing: producing, consuming: !producing,
                                                           forceTcp: transportConfiguration.forceTcp)
        let transport: WebRtcTransport
        do {
            transport = try WebRtcTransport(options: options, certificate: certificate, configuration: transportConfiguration, logger: logger)
        } catch {
            throw ParticipantError.media("\(role) transport: \(error)")
        }
        // Handlers are in place before the first packet can arrive.
        let session = make(transport)
        session.start()
        let outcome: Result<Void, any Error>
        do {
            try await room.connectTransport(transportId: transport.id, dtlsParameters: transport.localDtlsParameters)
            do {
                try await transport.connect()
            } catch {
                throw ParticipantError.media("\(role) transport: \(error)")
            }
            logger.info("\(role) transport connected", metadata: ["transport": "\(transport.id)"])
            try await body(transport, session)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await finish(session)
        await session.stop()
        let statistics = await transport.currentStatistics()
        logger.info("\(role) transport closed", metadata: [
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
protocol MediaSession: Sendable {
    func start()
    func stop() async
}

extension ReceiveSession: MediaSession {}
extension SendSession: MediaSession {}
