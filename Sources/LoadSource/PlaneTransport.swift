import DTLS
import ICE
import NIOCore
import SRTP

/// One transport of the plane (mediasoup's WebRtcTransport without a WebRtcServer): its own UDP
/// socket, ICE-lite, the DTLS server and the SRTP contexts, its consumers. Owned by its event loop.
final class PlaneTransport {
    let id: String
    let responder: ICELiteResponder
    let channel: any Channel
    let port: Int
    /// Where media goes: the source of the first answered check with USE-CANDIDATE (or of any
    /// answered check until one has it).
    var remote: SocketAddress?
    var remoteNominated = false
    var dtls: DTLSEndpoint?
    /// DTLS that came before `connectTransport` gave the client's fingerprints, replayed then.
    var earlyDTLS: [[UInt8]] = []
    var outbound: SRTPContext?
    var inbound: SRTPContext?
    var closed = false
    var transportSequence = UInt16.random(in: 0...UInt16.max)
    var consumers: [PlaneConsumer] = []
    var nextMid = 0
    /// Written to since the last flush.
    var unflushed = false

    init(id: String, responder: ICELiteResponder, channel: any Channel, port: Int) {
        self.id = id
        self.responder = responder
        self.channel = channel
        self.port = port
    }

    var isConnected: Bool { outbound != nil && remote != nil && !closed }
}
