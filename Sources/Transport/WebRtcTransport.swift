import Bytes
import DTLS
import ICE
import Logging
import NIOCore
import NIOPosix
import ORTC
import RTP
import SRTP

/// One mediasoup WebRtcTransport seen from the client: a UDP socket, the ICE agent, the DTLS
/// endpoint and the two SRTP contexts, coordinated on one NIO event loop. Every packet is
/// handled on that loop from socket to handler: no locks, no actor hops on the media path.
/// Control calls (`connect`, `close`, statistics) hop onto the loop.
public final class WebRtcTransport: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Local address to bind; nil picks 127.0.0.1 when every remote candidate is on
        /// loopback (tests never leave the machine), else 0.0.0.0.
        public var bindHost: String?
        /// Skip UDP and use the server's TCP candidates (RFC 6544 passive, RFC 4571 framing).
        public var forceTcp = false
        public var iceConnectTimeout: Duration = .seconds(10)
        /// When the server also has TCP candidates, how long UDP may try before falling back.
        public var udpTimeoutBeforeTcpFallback: Duration = .seconds(5)
        public var dtlsTimeout: Duration = .seconds(15)
        public var consentInterval: Duration = .seconds(5)
        public var consentTimeout: Duration = .seconds(30)

        public init(bindHost: String? = nil, forceTcp: Bool = false) {
            self.bindHost = bindHost
            self.forceTcp = forceTcp
        }
    }

    public enum Event: Sendable {
        case connected(remote: String, profile: SRTPProtectionProfile)
        /// The transport is over: ICE consent lost, DTLS closed or failed.
        case failed(TransportError)
    }

    public let id: String
    public let eventLoop: any EventLoop
    /// What to send in `connectTransport`: role client and this certificate's sha-256.
    public let localDtlsParameters: DtlsParameters
    public let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    private let logger: Logger
    private let configuration: Configuration
    private let remoteCandidates: [ICERemoteCandidate]

    // Confined to `eventLoop`.
    private var ice: ICEAgent
    private let iceConfiguration: ICEAgent.Configuration
    private let dtls: DTLSEndpoint
    private var channel: (any Channel)?
    private var tcpChannel: (any Channel)?
    private var tcpRemote: SocketAddress?
    private var usingTcp = false
    private var selected: SocketAddress?
    private var sendContext: SRTPContext?
    private var receiveContext: SRTPContext?
    private var timer: Scheduled<Void>?
    private var connectPromise: EventLoopPromise<Void>?
    private var dtlsDeadline: ContinuousClock.Instant?
    private var finished = false
    private var statistics = TransportStatistics()
    private var rtpHandler: (@Sendable (RTPPacket) -> Void)?
    private var rtcpHandler: (@Sendable ([RTCPPacket]) -> Void)?

    public init(options: TransportOptions, certificate: DTLSCertificate, configuration: Configuration = Configuration(),
                eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(), logger: Logger) throws {
        self.id = options.id
        self.eventLoop = eventLoop
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "transport"] = "\(options.id.prefix(8))"
        self.logger = logger
        remoteCandidates = options.iceCandidates.map {
            ICERemoteCandidate(endpoint: ICEEndpoint(host: $0.address, port: $0.port, transport: $0.protocol == .udp ? .udp : .tcp),
                               priority: $0.priority)
        }
        var random = SystemRandomNumberGenerator()
        var iceConfig = ICEAgent.Configuration(
            localUfrag: Self.randomToken(8, using: &random), localPassword: Self.randomToken(24, using: &random),
            remoteUfrag: options.iceParameters.usernameFragment, remotePassword: options.iceParameters.password,
            tieBreaker: random.next())
        iceConfig.connectTimeout = configuration.iceConnectTimeout
        iceConfig.consentInterval = configuration.consentInterval
        iceConfig.consentTimeout = configuration.consentTimeout
        iceConfig.connectTimeout = remoteCandidates.contains { $0.endpoint.transport == .tcp } && !configuration.forceTcp
            ? min(configuration.udpTimeoutBeforeTcpFallback, configuration.iceConnectTimeout)
            : configuration.iceConnectTimeout
        iceConfiguration = iceConfig
        ice = ICEAgent(configuration: iceConfig, remoteCandidates: remoteCandidates, seed: random.next())
        do {
            dtls = try DTLSEndpoint(role: .client, certificate: certificate,
                                    remoteFingerprints: options.dtlsParameters.fingerprints.map { ($0.algorithm, $0.value) })
        } catch let error as DTLSError {
            throw TransportError.dtls(error)
        }
        localDtlsParameters = DtlsParameters(role: .client, fingerprints: [
            DtlsFingerprint(algorithm: "sha-256", value: certificate.sha256Fingerprint),
        ])
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(16))
    }

    /// Handlers for decrypted media, called on the event loop for every packet.
    public func setHandlers(rtp: @escaping @Sendable (RTPPacket) -> Void, rtcp: @escaping @Sendable ([RTCPPacket]) -> Void) {
        eventLoop.execute {
            self.rtpHandler = rtp
            self.rtcpHandler = rtcp
        }
    }

    /// Binds the socket, runs ICE then the DTLS handshake; returns when SRTP is ready. UDP
    /// first; the server's TCP candidates when UDP gets no answer or `forceTcp` is set.
    /// Cancelling the calling task ends the attempt at once (the transport is then closed).
    public func connect() async throws {
        try await withTaskCancellationHandler {
            try await connectOnce()
        } onCancel: {
            eventLoop.execute { self.finish(nil, announce: false) }
        }
        try Task.checkCancellation()
    }

    private func connectOnce() async throws {
        let promise = eventLoop.makePromise(of: Void.self)
        eventLoop.execute {
            if self.finished { promise.fail(TransportError.closed) } else { self.connectPromise = promise }
        }
        if configuration.forceTcp || !remoteCandidates.contains(where: { $0.endpoint.transport == .udp }) {
            try await connectTCP()
        } else {
            let bindHost = configuration.bindHost
                ?? (remoteCandidates.allSatisfy { $0.endpoint.host.hasPrefix("127.") || $0.endpoint.host == "::1" } ? "127.0.0.1" : "0.0.0.0")
            let channel: any Channel
            do {
                channel = try await DatagramBootstrap(group: eventLoop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(InboundDatagramHandler(transport: self))
                        }
                    }
                    .bind(host: bindHost, port: 0).get()
            } catch {
                throw TransportError.socket("cannot bind \(bindHost): \(error)")
            }
            eventLoop.execute {
                // Closed (or cancelled) while the socket was being bound: it must not outlive us.
                guard !self.finished else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                self.logger.debug("checking", metadata: ["local": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                self.apply(self.ice.start(now: .now))
                self.reschedule()
            }
        }
        try await promise.futureResult.get()
    }

    /// Connects to the best TCP candidate and runs ICE over it (RFC 6544 active side).
    private func connectTCP() async throws {
        guard let candidate = remoteCandidates.filter({ $0.endpoint.transport == .tcp }).max(by: { $0.priority < $1.priority }),
              let address = try? SocketAddress(ipAddress: candidate.endpoint.host, port: candidate.endpoint.port) else {
            throw TransportError.iceFailed("the server offers no TCP candidate")
        }
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(5))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(InboundStreamHandler(transport: self, remote: address))
                    }
                }
                .connect(to: address).get()
        } catch {
            throw TransportError.iceFailed("cannot open TCP to \(candidate.endpoint): \(error)")
        }
        eventLoop.execute {
            // The fallback may finish connecting after close(): close the late channel, whose
            // handler would otherwise keep the transport alive.
            guard !self.finished else {
                channel.close(promise: nil)
                return
            }
            self.tcpChannel = channel
            self.tcpRemote = address
            self.usingTcp = true
            self.logger.debug("checking over TCP", metadata: ["remote": "\(candidate.endpoint)"])
            self.ice = ICEAgent(configuration: self.iceWithFullTimeout, remoteCandidates: self.remoteCandidates, seed: UInt64.random(in: 0...UInt64.max))
            self.apply(self.ice.start(now: .now, transport: .tcp))
            self.reschedule()
        }
    }

    private var iceWithFullTimeout: ICEAgent.Configuration {
        var configuration = iceConfiguration
        configuration.connectTimeout = self.configuration.iceConnectTimeout
        return configuration
    }

    /// Protects and sends one RTP packet. Any thread; work happens on the loop. Serialized
    /// with room for the SRTP tag, so protecting it in place does not copy it again.
    public func send(_ packet: RTPPacket) {
        if eventLoop.inEventLoop {
            sendMedia(Self.serialize(packet), rtcp: false)
        } else {
            eventLoop.execute { self.sendMedia(Self.serialize(packet), rtcp: false) }
        }
    }

    public func sendRTCP(_ packets: [RTCPPacket]) {
        var writer = ByteWriter(capacity: packets.reduce(SRTPContext.maxTrailer) { $0 + $1.serializedSize })
        for packet in packets { packet.write(to: &writer) }
        let bytes = writer.bytes
        if eventLoop.inEventLoop { sendMedia(bytes, rtcp: true) } else { eventLoop.execute { self.sendMedia(bytes, rtcp: true) } }
    }

    private static func serialize(_ packet: RTPPacket) -> [UInt8] {
        var writer = ByteWriter(capacity: packet.serializedSize + SRTPContext.maxTrailer)
        packet.write(to: &writer)
        return writer.bytes
    }

    public func currentStatistics() async -> TransportStatistics {
        (try? await eventLoop.submit { self.statistics }.get()) ?? TransportStatistics()
    }


    /// Sends close_notify and closes the socket.
    public func close() async {
        let channels: [any Channel] = (try? await eventLoop.submit { () -> [any Channel] in
            if !self.finished {
                if self.dtls.isEstablished, let remote = self.selected {
                    for datagram in self.dtls.shutdown() { self.write(datagram, to: remote) }
                }
                self.finish(nil, announce: false)
            }
            return [self.channel, self.tcpChannel].compactMap { $0 }
        }.get()) ?? []
        for channel in channels { try? await channel.close() }
    }

    // MARK: - Event loop

    fileprivate func receive(_ datagram: consuming [UInt8], from address: SocketAddress, over transport: ICEEndpoint.Transport = .udp) {
        switch PacketClass(datagram[...]) {
        case .stun:
            guard let endpoint = ICEEndpoint(address, transport: transport) else { return }
            apply(ice.handle(datagram[...], from: endpoint, now: .now))
        case .dtls:
            guard address == selected else { return }
            handleDTLS(dtls.receive(datagram[...]))
        case .rtp:
            guard address == selected, let receiveContext else { return }
            // Decrypted in place: the datagram is not needed afterwards.
            var packet = consume datagram
            do {
                try receiveContext.unprotect(&packet)
                let rtp = try RTPPacket(parsing: packet)
                if rtp.ssrc == 1234 && rtp.payloadType == 127 {
                    statistics.probationPacketsDropped += 1
                    return
                }
                statistics.rtpPacketsReceived += 1
                statistics.rtpBytesReceived += packet.count
                rtpHandler?(rtp)
            } catch {
                statistics.packetsDiscarded += 1
            }
        case .rtcp:
            guard address == selected, let receiveContext else { return }
            var packet = consume datagram
            do {
                try receiveContext.unprotectRTCP(&packet)
                let packets = try RTCPPacket.parseCompound(packet)
                statistics.rtcpPacketsReceived += 1
                rtcpHandler?(packets)
            } catch {
                statistics.packetsDiscarded += 1
            }
        case .unknown:
            statistics.packetsDiscarded += 1
        }
        reschedule()
    }

    private func apply(_ outputs: [ICEAgent.Output]) {
        for output in outputs {
            switch output {
            case .send(let datagram, let endpoint):
                guard let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) else { continue }
                write(datagram, to: address)
            case .connected(let endpoint):
                guard let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) else { continue }
                logger.debug("ICE connected", metadata: ["remote": "\(endpoint)"])
                selected = address
                dtlsDeadline = .now + configuration.dtlsTimeout
                dtls.initialRetransmissionTimeout = Self.initialDTLSTimeout(roundTripTime: ice.roundTripTime)
                handleDTLS(dtls.start())
            case .failed(let why):
                if !usingTcp && remoteCandidates.contains(where: { $0.endpoint.transport == .tcp }) {
                    logger.notice("no answer over UDP, falling back to TCP", metadata: ["reason": "\(why)"])
                    usingTcp = true
                    Task { [self] in
                        do {
                            try await self.connectTCP()
                        } catch let error as TransportError {
                            self.eventLoop.execute { self.finish(.failed(error), announce: true) }
                        }
                    }
                    continue
                }
                finish(.failed(.iceFailed(why)), announce: true)
            case .connectionLost(let why):
                finish(.failed(.connectionLost(why)), announce: true)
            }
        }
    }

    private func handleDTLS(_ output: DTLSEndpoint.Output) {
        if let remote = selected {
            for datagram in output.datagrams { write(datagram, to: remote) }
        }
        if let keys = output.keys {
            do {
                sendContext = try SRTPContext(keys: keys.local, direction: .outbound)
                receiveContext = try SRTPContext(keys: keys.remote, direction: .inbound)
            } catch {
                finish(.failed(.srtp("\(error)")), announce: true)
                return
            }
            dtlsDeadline = nil
            let profile = dtls.selectedProfile ?? .aes128CMHMACSHA1_80
            logger.debug("DTLS connected", metadata: ["profile": "\(profile.rawValue)"])
            eventSink.yield(.connected(remote: selected.map { "\($0)" } ?? "?", profile: profile))
            connectPromise?.succeed()
            connectPromise = nil
        }
        if let failure = output.failure {
            finish(.failed(.dtls(failure)), announce: true)
        }
    }

    private func sendMedia(_ packet: consuming [UInt8], rtcp: Bool) {
        guard let sendContext, let remote = selected, !finished else { return }
        let plainSize = packet.count
        var bytes = consume packet
        do {
            if rtcp {
                try sendContext.protectRTCP(&bytes)
                statistics.rtcpPacketsSent += 1
            } else {
                try sendContext.protect(&bytes)
                statistics.rtpPacketsSent += 1
                statistics.rtpBytesSent += plainSize
            }
        } catch {
            logger.debug("SRTP protect failed: \(error)")
            return
        }
        write(bytes, to: remote)
    }

    private func write(_ bytes: [UInt8], to address: SocketAddress) {
        if let tcpChannel, address == tcpRemote {
            var buffer = tcpChannel.allocator.buffer(capacity: bytes.count + 2)
            buffer.writeBytes(RFC4571Framer.frame(bytes))
            tcpChannel.writeAndFlush(buffer, promise: nil)
            return
        }
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    private func reschedule() {
        guard !finished else { return }
        var deadlines: [ContinuousClock.Instant] = []
        if let next = ice.nextDeadline { deadlines.append(next) }
        if let timeout = dtls.timeout, !dtls.isEstablished { deadlines.append(.now + timeout) }
        if let dtlsDeadline { deadlines.append(dtlsDeadline) }
        guard let next = deadlines.min() else { return }
        timer?.cancel()
        let delay = max(next - .now, .zero)
        timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)) {
            self.onTimer()
        }
    }

    private func onTimer() {
        guard !finished else { return }
        let now = ContinuousClock.now
        apply(ice.tick(now: now))
        if !dtls.isEstablished, selected != nil, let timeout = dtls.timeout, timeout <= .milliseconds(1) {
            handleDTLS(dtls.handleTimeout())
        }
        if let dtlsDeadline, now >= dtlsDeadline, !dtls.isEstablished {
            finish(.failed(.dtls(.timedOut)), announce: true)
            return
        }
        reschedule()
    }

    private func finish(_ event: Event?, announce: Bool) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        if case .failed(let error)? = event {
            logger.debug("transport failed: \(error)")
            connectPromise?.fail(error)
            if announce { eventSink.yield(.failed(error)) }
        } else {
            connectPromise?.fail(TransportError.closed)
        }
        connectPromise = nil
        eventSink.finish()
        if announce {
            channel?.close(promise: nil)
            tcpChannel?.close(promise: nil)
        }
    }

    /// As libwebrtc: twice the ICE round trip, 50 ms to 3 s (100 ms when unknown).
    static func initialDTLSTimeout(roundTripTime: Duration?) -> Duration {
        guard let roundTripTime else { return .milliseconds(100) }
        return min(max(roundTripTime * 2, .milliseconds(50)), .seconds(3))
    }

    private static func randomToken(_ length: Int, using random: inout SystemRandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }
}


/// Hands each datagram to the transport, on the event loop.
private final class InboundDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let transport: WebRtcTransport

    init(transport: WebRtcTransport) { self.transport = transport }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var buffer = envelope.data
        guard let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        transport.receive(bytes, from: envelope.remoteAddress)
    }
}

/// Deframes RFC 4571 and hands each datagram to the transport, on the event loop.
private final class InboundStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let transport: WebRtcTransport
    private let remote: SocketAddress
    private var framer = RFC4571Framer()

    init(transport: WebRtcTransport, remote: SocketAddress) {
        self.transport = transport
        self.remote = remote
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        for frame in framer.append(bytes) {
            transport.receive(frame, from: remote, over: .tcp)
        }
    }
}

extension ICEEndpoint {
    init?(_ address: SocketAddress, transport: ICEEndpoint.Transport = .udp) {
        guard let host = address.ipAddress, let port = address.port else { return nil }
        self.init(host: host, port: port, transport: transport)
    }
}
