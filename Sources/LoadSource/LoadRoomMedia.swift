import ORTC

/// What the room server asks of its media plane: `LoadMediaPlane`, or in the protocol tests a
/// plane that records the calls (the signaling is tested without sockets or DTLS).
public protocol LoadRoomMedia: Sendable {
    var producers: [VirtualProducer] { get }
    var routerRtpCapabilities: RtpCapabilities { get }
    func createTransport() async throws -> TransportOptions
    func connectTransport(id: String, dtlsParameters: DtlsParameters) async throws
    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities, paused: Bool) async throws -> ConsumerOptions
    func resume(consumerId: String) async throws
    func closeTransport(id: String) async
    func statistics() async -> LoadSourceStatistics
    func shutdown() async
}

extension LoadMediaPlane: LoadRoomMedia {}
