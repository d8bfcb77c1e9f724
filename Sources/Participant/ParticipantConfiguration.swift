import DTLS
import Logging
import Signaling
import Transport

/// What both halves of a participant (edge and origin) share: who it is in the room (room,
/// member, CNAME, certificate) and how it connects and reconnects.
public struct ParticipantConfiguration: Sendable {
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
}
