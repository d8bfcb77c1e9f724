import Logging
import MediaFormat
import NIOCore
import ORTC

/// What a load source serves: virtual members publishing looped replay clips. Every consumer
/// of a producer gets the same packets (its own SSRC, protected with its own transport's
/// SRTP keys), as an SFU forwards one producer to many consumers.
public struct LoadSourceMedia: Sendable {
    /// A VP8 clip in IVF and an Opus clip in Ogg (the files `nacho bots --video-source replay:`
    /// takes); nil: no producer of that kind.
    public var videoClip: String?
    public var audioClip: String?
    public var videoProducers: Int
    public var audioProducers: Int

    public init(videoClip: String?, audioClip: String?, videoProducers: Int, audioProducers: Int) {
        self.videoClip = videoClip
        self.audioClip = audioClip
        self.videoProducers = videoProducers
        self.audioProducers = audioProducers
    }
}

/// One virtual member's producer.
public struct VirtualProducer: Sendable, Hashable {
    public var id: String
    public var kind: MediaKind
    public var memberNo: String

    public init(id: String, kind: MediaKind, memberNo: String) {
        self.id = id
        self.kind = kind
        self.memberNo = memberNo
    }
}

/// The load source's own figures, for the benchmark to print next to nacho's.
public struct LoadSourceStatistics: Sendable, Codable, Equatable {
    public var transports = 0
    public var connectedTransports = 0
    public var consumers = 0
    public var rtpPacketsSent = 0
    public var rtpBytesSent = 0
    /// Datagrams the socket refused (a full send buffer): the source could not keep up.
    public var sendErrors = 0
    public var rtcpPacketsReceived = 0
    public var stunRequestsAnswered = 0

    public init() {}
}

/// The media plane of a load source: ICE-lite, DTLS (server role) and SRTP per transport, one
/// UDP socket per transport on 127.0.0.1 (as mediasoup's WebRtcTransport without a
/// WebRtcServer), and a replay clock that sends every producer's packets to its consumers.
/// The signaling side (`LoadSourceServer`) maps room requests onto these calls.
public final class LoadMediaPlane: Sendable {
    public init(media: LoadSourceMedia, group: any EventLoopGroup, host: String = "127.0.0.1", logger: Logger) throws {
        fatalError("skeleton")
    }

    /// The virtual members' producers, fixed at start.
    public var producers: [VirtualProducer] { fatalError("skeleton") }

    /// What `getRouterRtpCapabilities` answers.
    public var routerRtpCapabilities: RtpCapabilities { fatalError("skeleton") }

    /// Binds a UDP socket and answers what `createWebRtcTransport` answers.
    public func createTransport() async throws -> TransportOptions { fatalError("skeleton") }

    /// `connectTransport`: the client's fingerprints (its DTLS role must be client or auto).
    public func connectTransport(id: String, dtlsParameters: DtlsParameters) async throws { fatalError("skeleton") }

    /// `consume`: a consumer of `producerId` on the transport, for a client with these
    /// capabilities; it starts paused until `resume` (mediasoup's default for video and audio
    /// in the room servers nacho talks to is unpaused: see `paused`).
    public func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities,
                        paused: Bool) async throws -> ConsumerOptions { fatalError("skeleton") }

    public func resume(consumerId: String) async throws { fatalError("skeleton") }

    /// Closes the transport and its consumers (its client left or disconnected).
    public func closeTransport(id: String) async { fatalError("skeleton") }

    public func statistics() async -> LoadSourceStatistics { fatalError("skeleton") }

    /// Stops the replay clock and closes every socket.
    public func shutdown() async { fatalError("skeleton") }
}
