import Bytes
import DTLS
import ICE
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ORTC
import RTP
import SRTP

/// The NIO side of one mediasoup WebRtcTransport: a UDP socket (shared with the loop's other
/// transports, see `SharedDatagramSockets`; or the TCP connection of the fallback), one timer,
/// and the `TransportCore` they drive, all on one event loop. Everything
/// the loop owns sits in a loop-bound box, so touching it from elsewhere traps instead of
/// racing. Received media is decrypted and parsed without allocating and handed to the
/// handlers on the loop; sent media is protected in the buffer it goes out in.
public final class WebRtcTransport: Sendable {
    public struct Configuration: Sendable {
        /// Local address to bind; nil picks 127.0.0.1 when every remote candidate is on
        /// loopback (tests never leave the machine), else 0.0.0.0.
        public var bindHost: String?
        /// Skip UDP and use the server's TCP candidates (RFC 6544 passive, RFC 4571 framing).
        public var forceTcp = false
        public var timing = TransportCore.Timing()
        public var consentInterval: Duration = .seconds(5)
        public var consentTimeout: Duration = .seconds(30)
        /// Datagrams read per system call (recvmmsg) on a socket of its own.
        public var datagramsPerRead = 16
        /// Share a UDP socket with the other transports of the event loop, told apart by the
        /// server's address (a server with one address for many transports still gets a socket
        /// per transport). On unless NACHO_SHARED_SOCKETS=0 (an escape hatch, and the
        /// "before" of a comparison).
        public var sharesSockets = WebRtcTransport.sharingDefault
        /// Datagrams read per system call on a shared socket.
        public var sharedDatagramsPerRead = 64
        /// Receive buffer asked for a shared socket: it holds the bursts of all its transports
        /// (a key frame reaches every subscriber at once). Memory is taken only while queued.
        public var sharedReceiveBufferBytes = 32 << 20
        /// At most this many transports on one shared socket; fewer when the kernel grants
        /// less buffer than that many sockets of their own would have had (no CAP_NET_ADMIN and
        /// a small net.core.rmem_max).
        public var transportsPerSocket = 256

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

    /// Media handlers, called on the event loop for every packet. The RTP packet reads from a
    /// buffer the next packet reuses: use it within the call.
    public struct Handlers: Sendable {
        public var rtp: @Sendable (RTPPacket, Int) -> Void
        public var rtcp: @Sendable ([RTCPPacket]) -> Void

        public init(rtp: @escaping @Sendable (RTPPacket, Int) -> Void, rtcp: @escaping @Sendable ([RTCPPacket]) -> Void) {
            self.rtp = rtp
            self.rtcp = rtcp
        }
    }

    /// What the event loop owns.
    private final class LoopState {
        let core: TransportCore
        var channel: (any Channel)?
        var tcpChannel: (any Channel)?
        var tcpRemote: SocketAddress?
        var selected: SocketAddress?
        var timer: Scheduled<Void>?
        var timerDeadline: ContinuousClock.Instant?
        var connectPromise: EventLoopPromise<Void>?
        var finished = false
        /// The shared socket this transport is on (nil: a socket of its own, or none yet).
        var sharedSocket: SharedDatagramSocket?
        /// Datagrams arrived since the last `readComplete`.
        var readPending = false
        var handlers: Handlers?
        /// Reused for every call into the core.
        var outputs: [TransportCore.Output] = []
        /// Writes are flushed once per read burst or per frame, not per packet.
        var unflushed = false

        init(core: TransportCore) {
            self.core = core
            outputs.reserveCapacity(8)
        }
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
    private let state: NIOLoopBoundBox<LoopState>

    public init(options: TransportOptions, certificate: DTLSCertificate, configuration: Configuration = Configuration(),
                eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(), logger: Logger) throws {
        self.id = options.id
        self.eventLoop = eventLoop
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "transport"] = "\(options.id.prefix(8))"
        self.logger = logger
        let candidates = options.iceCandidates.map {
            ICERemoteCandidate(endpoint: ICEEndpoint(host: $0.address, port: $0.port, transport: $0.protocol == .udp ? .udp : .tcp),
                               priority: $0.priority)
        }
        remoteCandidates = candidates
        var random = SystemRandomNumberGenerator()
        var ice = ICEAgent.Configuration(
            localUfrag: Self.randomToken(8, using: &random), localPassword: Self.randomToken(24, using: &random),
            remoteUfrag: options.iceParameters.usernameFragment, remotePassword: options.iceParameters.password,
            tieBreaker: random.next())
        ice.consentInterval = configuration.consentInterval
        ice.consentTimeout = configuration.consentTimeout
        let dtls: DTLSEndpoint
        do {
            dtls = try DTLSEndpoint(role: .client, certificate: certificate,
                                    remoteFingerprints: options.dtlsParameters.fingerprints.map { ($0.algorithm, $0.value) })
        } catch let error as DTLSError {
            throw TransportError.dtls(error)
        }
        let core = TransportCore(ice: ice, remoteCandidates: candidates, dtls: dtls, timing: configuration.timing, seed: random.next())
        state = NIOLoopBoundBox.makeBoxSendingValue(LoopState(core: core), eventLoop: eventLoop)
        localDtlsParameters = DtlsParameters(role: .client, fingerprints: [
            DtlsFingerprint(algorithm: "sha-256", value: certificate.sha256Fingerprint),
        ])
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(16))
    }

    /// Installs the media handlers (before `connect`, so no packet is missed).
    public func setHandlers(_ handlers: Handlers) {
        onLoop { $0.handlers = handlers }
    }

    /// Runs `body` with the loop's state, at once when on the loop, else by hopping there.
    private func onLoop(_ body: @escaping @Sendable (LoopState) -> Void) {
        if eventLoop.inEventLoop {
            body(state.value)
        } else {
            let state = state
            eventLoop.execute { body(state.value) }
        }
    }

    /// Binds the socket, runs ICE then the DTLS handshake; returns when SRTP is ready. UDP
    /// first; the server's TCP candidate when UDP gets no answer or `forceTcp` is set.
    /// Cancelling the calling task ends the attempt at once (the transport is then closed).
    public func connect() async throws {
        let promise = eventLoop.makePromise(of: Void.self)
        try await withTaskCancellationHandler {
            try await eventLoop.submit { [self] in
                let loop = state.value
                if loop.finished { promise.fail(TransportError.closed) } else { loop.connectPromise = promise }
            }.get()
            if configuration.forceTcp || !remoteCandidates.contains(where: { $0.endpoint.transport == .udp }) {
                guard let tcp = try await eventLoop.submit({ self.state.value.core.tcpCandidate }).get() else {
                    throw TransportError.iceFailed("the server offers no TCP candidate")
                }
                try await connectTCP(to: tcp)
            } else {
                try await bindUDP()
            }
            try await promise.futureResult.get()
        } onCancel: {
            onLoop { self.finish($0, nil) }
        }
        try Task.checkCancellation()
    }

    private var bindHost: String {
        configuration.bindHost
            ?? (remoteCandidates.allSatisfy { $0.endpoint.host.hasPrefix("127.") || $0.endpoint.host == "::1" } ? "127.0.0.1" : "0.0.0.0")
    }

    private func bindUDP() async throws {
        let channel = configuration.sharesSockets ? try await attachShared() : try await bindOwn()
        try await eventLoop.submit { [self] in
            let loop = state.value
            // Closed (or cancelled) while the socket was being bound: it must not outlive us.
            guard !loop.finished else {
                if loop.sharedSocket == nil { channel.close(promise: nil) }
                return
            }
            loop.channel = channel
            logger.debug("checking", metadata: ["local": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                                                "loop": "\(ObjectIdentifier(eventLoop))"])
            let now = ContinuousClock.now
            apply(loop, loop.core.start(now: now), now: now)
        }.get()
    }

    /// A UDP socket of this transport's own.
    private func bindOwn() async throws -> any Channel {
        let bindHost = bindHost
        do {
            return try await DatagramBootstrap(group: eventLoop)
                .channelOption(.datagramVectorReadMessageCount, value: configuration.datagramsPerRead)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048 * configuration.datagramsPerRead))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(InboundDatagramHandler(transport: self))
                    }
                }
                .bind(host: bindHost, port: 0).get()
        } catch {
            throw TransportError.socket("cannot bind \(bindHost): \(error)")
        }
    }

    /// A place on a socket of the loop's shared ones, routed by the server's UDP addresses.
    private func attachShared() async throws -> any Channel {
        let settings = SharedDatagramSockets.Settings(
            bindHost: bindHost, datagramsPerRead: max(1, configuration.sharedDatagramsPerRead),
            receiveBufferBytes: configuration.sharedReceiveBufferBytes, transportsPerSocket: max(1, configuration.transportsPerSocket))
        let remotes = Set(remoteCandidates.compactMap { candidate -> SocketAddress? in
            guard candidate.endpoint.transport == .udp else { return nil }
            return try? SocketAddress(ipAddress: candidate.endpoint.host, port: candidate.endpoint.port)
        })
        let logger = logger
        do {
            return try await eventLoop.flatSubmit { [self] () -> EventLoopFuture<any Channel> in
                let loop = state.value
                guard !loop.finished else { return eventLoop.makeFailedFuture(TransportError.closed) }
                let socket = SharedDatagramSockets.attach(self, remotes: remotes, settings: settings, on: eventLoop, logger: logger)
                loop.sharedSocket = socket
                return socket.channel
            }.get()
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError.socket("cannot bind \(settings.bindHost): \(error)")
        }
    }

    /// Connects to the server's TCP candidate and runs ICE over it (RFC 6544 active side).
    private func connectTCP(to candidate: ICEEndpoint) async throws {
        guard let address = try? SocketAddress(ipAddress: candidate.host, port: candidate.port) else {
            throw TransportError.iceFailed("the server's TCP candidate \(candidate) is not an IP address")
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
            throw TransportError.iceFailed("cannot open TCP to \(candidate): \(error)")
        }
        try await eventLoop.submit { [self] in
            let loop = state.value
            // The fallback may finish connecting after close(): close the late channel, whose
            // handler would otherwise keep the transport alive.
            guard !loop.finished else {
                channel.close(promise: nil)
                return
            }
            loop.tcpChannel = channel
            loop.tcpRemote = address
            logger.debug("checking over TCP", metadata: ["remote": "\(candidate)"])
            let now = ContinuousClock.now
            apply(loop, loop.core.startTCP(now: now), now: now)
        }.get()
    }

    // MARK: - Sending (on the event loop)

    /// Protects one RTP packet and queues it; `flush()` sends what is queued. On the loop.
    public func sendRTP(_ packet: UnsafeRawBufferPointer) {
        send(packet, rtcp: false)
    }

    /// Protects one RTCP compound and sends it in this turn of the loop (on a shared socket
    /// together with what the loop's other transports send in it). Any thread.
    public func sendRTCP(_ packets: [RTCPPacket]) {
        let bytes = RTCPPacket.serializeCompound(packets)
        onLoop { [self] loop in
            bytes.withUnsafeBytes { send($0, rtcp: true, loop: loop) }
            if let shared = loop.sharedSocket, loop.unflushed, loop.tcpChannel == nil {
                loop.unflushed = false
                shared.flushSoon(on: eventLoop)
            } else {
                flush(loop)
            }
        }
    }

    /// Sends what `sendRTP` queued. On the loop.
    public func flush() {
        flush(state.value)
    }

    private func send(_ packet: UnsafeRawBufferPointer, rtcp: Bool) {
        send(packet, rtcp: rtcp, loop: state.value)
    }

    private func send(_ packet: UnsafeRawBufferPointer, rtcp: Bool, loop: LoopState) {
        guard !loop.finished, let remote = loop.selected, loop.core.isConnected else { return }
        let tcp = loop.tcpChannel != nil && remote == loop.tcpRemote
        guard let channel = tcp ? loop.tcpChannel : loop.channel else { return }
        let framing = tcp ? 2 : 0
        var buffer = channel.allocator.buffer(capacity: framing + packet.count + SRTPContext.maxTrailer)
        if tcp { buffer.writeInteger(UInt16(0)) }  // the RFC 4571 length, set below
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: packet.count + SRTPContext.maxTrailer) { raw in
            raw.copyMemory(from: packet)
            return loop.core.protect(raw, length: packet.count, rtcp: rtcp) ?? 0
        }
        guard written > 0 else { return }
        if tcp {
            buffer.setInteger(UInt16(written), at: buffer.readerIndex)
            channel.write(buffer, promise: nil)
        } else {
            channel.write(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
        }
        loop.unflushed = true
    }

    private func flush(_ loop: LoopState) {
        guard loop.unflushed else { return }
        loop.unflushed = false
        loop.channel?.flush()
        loop.tcpChannel?.flush()
    }

    public func currentStatistics() async -> TransportStatistics {
        (try? await eventLoop.submit { self.state.value.core.statistics }.get()) ?? TransportStatistics()
    }

    /// Sends close_notify and closes the socket.
    public func close() async {
        let channels: [any Channel] = (try? await eventLoop.submit { () -> [any Channel] in
            let loop = self.state.value
            if !loop.finished {
                let now = ContinuousClock.now
                self.write(loop, loop.core.close(), now: now)
                self.flush(loop)
                self.finish(loop, nil)
            }
            // A shared socket closes when its last transport leaves (`finish`).
            return [loop.sharedSocket == nil ? loop.channel : nil, loop.tcpChannel].compactMap { $0 }
        }.get()) ?? []
        for channel in channels { try? await channel.close() }
    }

    // MARK: - Event loop

    /// One datagram from the socket (or one RFC 4571 frame). True when it is the first since
    /// the last `readComplete` (the caller then owes this transport one).
    @discardableResult
    func receive(_ datagram: ByteBuffer, from address: SocketAddress, over transport: ICEEndpoint.Transport) -> Bool {
        let loop = state.value
        guard !loop.finished else { return false }
        let first = !loop.readPending
        loop.readPending = true
        let now = ContinuousClock.now
        loop.outputs.removeAll(keepingCapacity: true)
        let received = datagram.withUnsafeReadableBytes { bytes in
            loop.core.receive(bytes, fromSelected: address == loop.selected,
                              endpoint: { ICEEndpoint(address, transport: transport) }, now: now, outputs: &loop.outputs)
        }
        switch received {
        case .nothing: break
        case .rtp(let packet, let size): loop.handlers?.rtp(packet, size)
        case .rtcp(let packets): loop.handlers?.rtcp(packets)
        }
        if !loop.outputs.isEmpty {
            let outputs = loop.outputs
            apply(loop, outputs, now: now)
        }
        return first
    }

    /// The end of a read burst: send what the handlers queued, at once (or leave the flush to
    /// a shared socket, which flushes once for all its transports).
    func readComplete(flushing: Bool = true) {
        let loop = state.value
        loop.readPending = false
        if flushing {
            flush(loop)
        } else {
            loop.unflushed = false
        }
        rearm(loop, now: .now)
    }

    private func apply(_ loop: LoopState, _ outputs: [TransportCore.Output], now: ContinuousClock.Instant) {
        write(loop, outputs, now: now)
        flush(loop)
        rearm(loop, now: now)
    }

    private func write(_ loop: LoopState, _ outputs: [TransportCore.Output], now: ContinuousClock.Instant) {
        for output in outputs {
            switch output {
            case .send(let datagram, let endpoint):
                writeControl(loop, datagram, to: endpoint)
            case .openTCP(let candidate):
                logger.notice("no answer over UDP, falling back to TCP", metadata: ["candidate": "\(candidate)"])
                Task { [self] in
                    do {
                        try await connectTCP(to: candidate)
                    } catch let error as TransportError {
                        onLoop { self.finish($0, error) }
                    } catch {
                        onLoop { self.finish($0, .iceFailed("\(error)")) }
                    }
                }
            case .connected(let remote, let profile):
                loop.selected = try? SocketAddress(ipAddress: remote.host, port: remote.port)
                logger.debug("DTLS connected", metadata: ["profile": "\(profile.rawValue)", "remote": "\(remote)"])
                eventSink.yield(.connected(remote: "\(remote)", profile: profile))
                loop.connectPromise?.succeed()
                loop.connectPromise = nil
            case .failed(let error):
                finish(loop, error)
            }
        }
        // ICE selected a path: DTLS and media come from there.
        if loop.selected == nil, let remote = loop.core.remote {
            loop.selected = try? SocketAddress(ipAddress: remote.host, port: remote.port)
        }
    }

    private func writeControl(_ loop: LoopState, _ bytes: [UInt8], to endpoint: ICEEndpoint) {
        if endpoint.transport == .tcp {
            guard let channel = loop.tcpChannel, bytes.count <= 0xFFFF else { return }
            var buffer = channel.allocator.buffer(capacity: bytes.count + 2)
            buffer.writeInteger(UInt16(bytes.count))
            buffer.writeBytes(bytes)
            channel.write(buffer, promise: nil)
        } else {
            guard let channel = loop.channel, let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) else { return }
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        }
        loop.unflushed = true
    }

    /// Re-arms the one timer only when the core's deadline moved earlier (or there is none).
    private func rearm(_ loop: LoopState, now: ContinuousClock.Instant) {
        guard !loop.finished, let deadline = loop.core.nextDeadline(now: now) else { return }
        if let scheduled = loop.timerDeadline, scheduled <= deadline, loop.timer != nil { return }
        loop.timer?.cancel()
        loop.timerDeadline = deadline
        let delay = max(deadline - now, .zero)
        let (seconds, attoseconds) = delay.components
        loop.timer = eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) { [self] in
            let loop = state.value
            loop.timer = nil
            loop.timerDeadline = nil
            guard !loop.finished else { return }
            let now = ContinuousClock.now
            apply(loop, loop.core.tick(now: now), now: now)
        }
    }

    private func finish(_ loop: LoopState, _ error: TransportError?) {
        guard !loop.finished else { return }
        loop.finished = true
        loop.timer?.cancel()
        loop.timer = nil
        if let error {
            logger.debug("transport failed: \(error)")
            loop.connectPromise?.fail(error)
            eventSink.yield(.failed(error))
            if loop.sharedSocket == nil { loop.channel?.close(promise: nil) }
            loop.tcpChannel?.close(promise: nil)
        } else {
            loop.connectPromise?.fail(TransportError.closed)
        }
        // Off the shared socket now (whatever ended us): its routes hold this transport.
        loop.sharedSocket?.detach(self)
        loop.connectPromise = nil
        loop.handlers = nil
        eventSink.finish()
    }

    /// Sharing is on unless NACHO_SHARED_SOCKETS=0.
    public static let sharingDefault: Bool = {
        guard let value = getenv("NACHO_SHARED_SOCKETS") else { return true }
        return String(cString: value) != "0"
    }()

    private static func randomToken(_ length: Int, using random: inout SystemRandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }
}

extension ICEEndpoint {
    init?(_ address: SocketAddress, transport: ICEEndpoint.Transport = .udp) {
        guard let host = address.ipAddress, let port = address.port else { return nil }
        self.init(host: host, port: port, transport: transport)
    }
}
