import Capture
import DTLS
import Foundation
import ICE
import Logging
import Media
import MediaFormat
import NIOCore
import NIOPosix
import ORTC
import Synchronization

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
    /// Open now (created and not closed), and of those the ones with SRTP ready.
    public var transports = 0
    public var connectedTransports = 0
    /// Consumers open now.
    public var consumers = 0
    /// Datagrams handed to the sockets, and their bytes (SRTP included).
    public var rtpPacketsSent = 0
    public var rtpBytesSent = 0
    /// Datagrams the socket refused: dropped because its send queue was over its high-water
    /// mark (the kernel's buffer was full), plus errors the socket reported. The source could
    /// not keep up.
    public var sendErrors = 0
    /// SRTCP packets that authenticated.
    public var rtcpPacketsReceived = 0
    public var stunRequestsAnswered = 0

    public init() {}

    static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.transports += b.transports
        sum.connectedTransports += b.connectedTransports
        sum.consumers += b.consumers
        sum.rtpPacketsSent += b.rtpPacketsSent
        sum.rtpBytesSent += b.rtpBytesSent
        sum.sendErrors += b.sendErrors
        sum.rtcpPacketsReceived += b.rtcpPacketsReceived
        sum.stunRequestsAnswered += b.stunRequestsAnswered
        return sum
    }
}

/// The media plane of a load source: ICE-lite, DTLS (server role) and SRTP per transport, one
/// UDP socket per transport on 127.0.0.1 (as mediasoup's WebRtcTransport without a
/// WebRtcServer), and a replay clock that sends every producer's packets to its consumers.
/// The signaling side (`LoadSourceServer`) maps room requests onto these calls.
///
/// Transports go round-robin on the group's event loops; each loop has one repeating task
/// (every `tickInterval`) that sends the frames whose time came to its consumers and flushes
/// each socket once. Transport and consumer ids start with their loop's number.
public final class LoadMediaPlane: Sendable {
    private struct Engine: Sendable {
        let loop: any EventLoop
        let box: NIOLoopBoundBox<PlaneEngine>
    }

    /// How often each loop's replay clock runs.
    public static let tickInterval = TimeAmount.milliseconds(10)
    /// mediasoup's priority for a UDP host candidate.
    static let candidatePriority: UInt32 = 1_076_302_079

    /// The virtual members' producers, fixed at start: video producer i and audio producer i
    /// belong to member i + 1.
    public let producers: [VirtualProducer]
    /// What `getRouterRtpCapabilities` answers: Opus (100) and VP8 (101), no RTX; mid,
    /// abs-send-time, and transport-wide-cc-01 on video.
    public let routerRtpCapabilities: RtpCapabilities
    /// The DTLS certificate every transport presents (one per plane).
    public let certificate: DTLSCertificate
    private let producerIndex: [String: Int]
    private let cnames: [String]
    private let engines: [Engine]
    private let tasks: [RepeatedTask]
    private let host: String
    private let logger: Logger
    private let nextEngine = Mutex(0)
    private let isShutDown = Mutex(false)

    public init(media: LoadSourceMedia, group: any EventLoopGroup, host: String = "127.0.0.1", logger: Logger) throws {
        guard media.videoProducers >= 0, media.audioProducers >= 0 else {
            throw LoadMediaError.badMedia("negative producer count")
        }
        func load(_ path: String?, _ count: Int, _ kind: MediaKind, _ codec: MediaCodec) throws -> ReplayClip? {
            guard count > 0 else { return nil }
            guard let path else { throw LoadMediaError.badMedia("\(count) \(kind) producers but no \(kind) clip") }
            let clip = try ReplayClip.shared(contentsOf: path)
            guard clip.kind == kind, clip.codec == codec else {
                throw LoadMediaError.badMedia("\(path) is \(clip.codec.mimeType), the load source sends \(codec.mimeType) for \(kind)")
            }
            return clip
        }
        let video = try load(media.videoClip, media.videoProducers, .video, .vp8)
        let audio = try load(media.audioClip, media.audioProducers, .audio, .opus)
        var producers: [VirtualProducer] = []
        if video != nil {
            for i in 0..<media.videoProducers { producers.append(VirtualProducer(id: UUID().uuidString.lowercased(), kind: .video, memberNo: "\(i + 1)")) }
        }
        if audio != nil {
            for i in 0..<media.audioProducers { producers.append(VirtualProducer(id: UUID().uuidString.lowercased(), kind: .audio, memberNo: "\(i + 1)")) }
        }
        self.producers = producers
        producerIndex = Dictionary(uniqueKeysWithValues: producers.enumerated().map { ($0.element.id, $0.offset) })
        // A member's streams share a CNAME (receivers pair them for lip sync).
        let memberCnames = Dictionary(producers.map { ($0.memberNo, UUID().uuidString.lowercased()) }, uniquingKeysWith: { a, _ in a })
        cnames = producers.map { memberCnames[$0.memberNo] ?? "" }
        routerRtpCapabilities = PlaneCapabilities.router
        certificate = try DTLSCertificate.generate(commonName: "nacho-load-source")
        self.host = host
        self.logger = logger
        let epoch = MediaClock.now
        let ntpOffset = NTPTime.offset(fromClockReading: epoch)
        var engines: [Engine] = []
        var tasks: [RepeatedTask] = []
        for loop in group.makeIterator() {
            let engine = PlaneEngine(loop: loop, certificate: certificate, video: video, videoProducers: video == nil ? 0 : media.videoProducers,
                                     audio: audio, audioProducers: audio == nil ? 0 : media.audioProducers,
                                     epoch: epoch, ntpOffset: ntpOffset, logger: logger)
            let box = NIOLoopBoundBox.makeBoxSendingValue(engine, eventLoop: loop)
            engines.append(Engine(loop: loop, box: box))
            tasks.append(loop.scheduleRepeatedTask(initialDelay: Self.tickInterval, delay: Self.tickInterval) { _ in box.value.tick() })
        }
        guard !engines.isEmpty else { throw LoadMediaError.badMedia("the event loop group has no loop") }
        self.engines = engines
        self.tasks = tasks
    }

    /// Binds a UDP socket and answers what `createWebRtcTransport` answers.
    public func createTransport() async throws -> TransportOptions {
        guard !isShutDown.withLock({ $0 }) else { throw LoadMediaError.shutDown }
        let index = nextEngine.withLock { next in
            defer { next = (next + 1) % engines.count }
            return next
        }
        let engine = engines[index]
        let id = "\(index)-\(UUID().uuidString.lowercased())"
        let responder = ICELiteResponder.random()
        let box = engine.box
        let channel = try await DatagramBootstrap(group: engine.loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            // Room for a few ticks of a busy transport's packets (the kernel caps it at wmem_max).
            .channelOption(.socketOption(.so_sndbuf), value: 1 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PlaneDatagramHandler(engine: box, transportId: id))
                }
            }
            .bind(host: host, port: 0).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw LoadMediaError.badMedia("the UDP socket has no port")
        }
        try await engine.loop.submit {
            box.value.add(PlaneTransport(id: id, responder: responder, channel: channel, port: port))
        }.get()
        return TransportOptions(
            id: id,
            iceParameters: IceParameters(usernameFragment: responder.localUfrag, password: responder.localPassword, iceLite: true),
            iceCandidates: [IceCandidate(foundation: "udpcandidate", priority: Self.candidatePriority, address: host, protocol: .udp, port: port)],
            dtlsParameters: DtlsParameters(role: .auto, fingerprints: [DtlsFingerprint(algorithm: "sha-256", value: certificate.sha256Fingerprint)]))
    }

    /// `connectTransport`: the client's fingerprints (its DTLS role must be client or auto).
    public func connectTransport(id: String, dtlsParameters: DtlsParameters) async throws {
        let engine = try self.engine(of: id, LoadMediaError.unknownTransport(id))
        guard dtlsParameters.role != .server else {
            throw LoadMediaError.badDtlsParameters("the client wants the server role; the load source is the DTLS server")
        }
        let fingerprints = dtlsParameters.fingerprints.map { (algorithm: $0.algorithm, value: $0.value) }
        let box = engine.box
        try await engine.loop.submit { try box.value.connect(transportId: id, fingerprints: fingerprints) }.get()
    }

    /// `consume`: a consumer of `producerId` on the transport, for a client with these
    /// capabilities; it starts paused until `resume` (mediasoup's default for video and audio
    /// in the room servers nacho talks to is unpaused: see `paused`).
    public func consume(transportId: String, producerId: String, rtpCapabilities: RtpCapabilities,
                        paused: Bool) async throws -> ConsumerOptions {
        let engine = try self.engine(of: transportId, LoadMediaError.unknownTransport(transportId))
        guard let index = producerIndex[producerId] else { throw LoadMediaError.unknownProducer(producerId) }
        let consumerId = "\(transportId.prefix { $0 != "-" })-\(UUID().uuidString.lowercased())"
        let cname = cnames[index]
        let box = engine.box
        return try await engine.loop.submit {
            try box.value.consume(transportId: transportId, producerIndex: index, producerId: producerId, consumerId: consumerId,
                                  client: rtpCapabilities, paused: paused, cname: cname)
        }.get()
    }

    public func resume(consumerId: String) async throws {
        let engine = try self.engine(of: consumerId, LoadMediaError.unknownConsumer(consumerId))
        let box = engine.box
        try await engine.loop.submit { try box.value.resume(consumerId: consumerId) }.get()
    }

    /// Closes the transport and its consumers (its client left or disconnected).
    public func closeTransport(id: String) async {
        guard let engine = try? self.engine(of: id, LoadMediaError.unknownTransport(id)) else { return }
        let box = engine.box
        try? await engine.loop.submit { box.value.close(transportId: id) }.get()
    }

    public func statistics() async -> LoadSourceStatistics {
        var sum = LoadSourceStatistics()
        for engine in engines {
            let box = engine.box
            if let figures = try? await engine.loop.submit({ box.value.statistics }).get() { sum = sum + figures }
        }
        return sum
    }

    /// Stops the replay clock and closes every socket.
    public func shutdown() async {
        guard isShutDown.withLock({ done in
            defer { done = true }
            return !done
        }) else { return }
        for task in tasks { task.cancel() }
        for engine in engines {
            let box = engine.box
            try? await engine.loop.submit { box.value.shutdown() }.get()
        }
    }

    /// The engine an id belongs to: its loop number, before the first "-".
    private func engine(of id: String, _ unknown: LoadMediaError) throws -> Engine {
        guard let index = Int(id.prefix { $0 != "-" }), engines.indices.contains(index) else { throw unknown }
        return engines[index]
    }
}
