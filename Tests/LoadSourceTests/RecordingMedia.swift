import LoadSource
import MediaFormat
import ORTC
import Synchronization

/// A media plane for the signaling tests: fixed producers and answers, every call recorded,
/// no sockets. Consume fails for capabilities without the producer's codec, as a router does.
final class RecordingMedia: LoadRoomMedia {
    enum Call: Hashable {
        case createTransport(String)
        case connectTransport(String, DtlsRole?)
        case consume(transport: String, producer: String, paused: Bool)
        case resume(String)
        case closeTransport(String)
        case shutdown
    }

    let producers = [
        VirtualProducer(id: "pv1", kind: .video, memberNo: "1001"),
        VirtualProducer(id: "pa1", kind: .audio, memberNo: "1002"),
    ]

    let routerRtpCapabilities = RtpCapabilities(codecs: [
        RtpCodecCapability(kind: .audio, mimeType: "audio/opus", preferredPayloadType: 100, clockRate: 48000, channels: 2),
        RtpCodecCapability(kind: .video, mimeType: "video/VP8", preferredPayloadType: 101, clockRate: 90000),
    ])

    private let state = Mutex((calls: [Call](), transports: 0, consumers: 0))

    var calls: [Call] { state.withLock { $0.calls } }

    func createTransport() async throws -> TransportOptions {
        let id = state.withLock { state in
            state.transports += 1
            state.calls.append(.createTransport("t\(state.transports)"))
            return "t\(state.transports)"
        }
        return TransportOptions(
            id: id, iceParameters: IceParameters(usernameFragment: "ufrag", password: "password", iceLite: true),
            iceCandidates: [IceCandidate(foundation: "udp", priority: 1, address: "127.0.0.1", protocol: .udp, port: 40000)],
            dtlsParameters: DtlsParameters(role: .auto, fingerprints: [DtlsFingerprint(algorithm: "sha-256", value: "AB:CD")]))
    }

    func connectTransport(id: String, dtlsParameters: DtlsParameters) async throws {
        state.withLock { $0.calls.append(.connectTransport(id, dtlsParameters.role)) }
    }

    func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities, paused: Bool) async throws -> ConsumerOptions {
        guard let producer = producers.first(where: { $0.id == producerId }) else { throw RoomRequestError("no producer") }
        guard let codec = rtpCapabilities.codecs.first(where: { $0.kind == producer.kind }) else {
            throw RoomRequestError("cannot consume \(producer.kind): no codec in common")
        }
        let id = state.withLock { state in
            state.consumers += 1
            state.calls.append(.consume(transport: transportId, producer: producerId, paused: paused))
            return "c\(state.consumers)"
        }
        let parameters = RtpParameters(mid: "0", codecs: [RtpCodecParameters(mimeType: codec.codec.mimeType, payloadType: 101,
                                                                            clockRate: codec.codec.clockRate)],
                                       encodings: [RtpEncodingParameters(ssrc: 1111)])
        return ConsumerOptions(id: id, producerId: producerId, kind: producer.kind, rtpParameters: parameters, producerPaused: false)
    }

    func resume(consumerId: String) async throws {
        state.withLock { $0.calls.append(.resume(consumerId)) }
    }

    func closeTransport(id: String) async {
        state.withLock { $0.calls.append(.closeTransport(id)) }
    }

    func statistics() async -> LoadSourceStatistics {
        var figures = LoadSourceStatistics()
        figures.transports = state.withLock { $0.transports }
        return figures
    }

    func shutdown() async {
        state.withLock { $0.calls.append(.shutdown) }
    }
}
