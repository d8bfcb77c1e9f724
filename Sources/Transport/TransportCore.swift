import Bytes
import DTLS
import ICE
import RTP
import SRTP

/// One mediasoup WebRtcTransport seen from the client, without I/O: datagrams and the time go
/// in; datagrams to send, state changes and the next deadline come out. ICE (controlling, against
/// an ICE-lite server) finds the path, DTLS runs on it and exports the SRTP keys, then SRTP
/// protects and unprotects media. Sockets, timers and threads are the adapter's
/// (`WebRtcTransport`); this is what is tested without sockets.
///
/// Not thread-safe: one owner (the adapter's event loop) drives it.
public final class TransportCore {
    public enum State: Sendable, Equatable {
        case new
        /// ICE checks over UDP, or over TCP after falling back.
        case checking(ICEEndpoint.Transport)
        /// ICE found the path; the DTLS handshake runs on it.
        case handshaking(ICEEndpoint)
        case connected(ICEEndpoint, SRTPProtectionProfile)
        case failed(TransportError)
        case closed
    }

    public enum Output: Sendable, Equatable {
        case send([UInt8], to: ICEEndpoint)
        /// UDP got no answer and the server has a TCP candidate: connect to it, then `startTCP`.
        case openTCP(ICEEndpoint)
        case connected(remote: ICEEndpoint, profile: SRTPProtectionProfile)
        /// The transport is over: ICE found no path, consent was lost, DTLS failed or closed.
        case failed(TransportError)
    }

    /// What a received datagram was, once handled. The packet of `.rtp` reads from a scratch
    /// buffer the next call reuses: use it before calling again.
    public enum Received {
        case nothing
        case rtp(RTPPacket, size: Int)
        case rtcp([RTCPPacket])
    }

    public struct Timing: Sendable {
        public var iceConnectTimeout: Duration = .seconds(10)
        /// When the server also has TCP candidates, how long UDP may try before falling back.
        public var udpTimeoutBeforeTcpFallback: Duration = .seconds(5)
        public var dtlsTimeout: Duration = .seconds(15)

        public init() {}
    }

    public private(set) var state: State = .new
    public private(set) var statistics = TransportStatistics()
    private var ice: ICEAgent
    /// The agent's next deadline, read once after each call that can change it: reading it
    /// from the agent copies the whole agent out of this class (its strings and arrays
    /// retained and released), and `nextDeadline` is asked after every read burst.
    private var iceNextDeadline: ContinuousClock.Instant?
    private let iceConfiguration: ICEAgent.Configuration
    private let remoteCandidates: [ICERemoteCandidate]
    private let timing: Timing
    private let dtls: DTLSEndpoint
    private var dtlsDeadline: ContinuousClock.Instant?
    private var sendContext: SRTPContext?
    private var receiveContext: SRTPContext?
    /// Received media is decrypted here, then parsed in place: no allocation per packet.
    private var scratch: [UInt8]
    private var fellBackToTCP = false

    /// - Parameters:
    ///   - ice: credentials and timers of the ICE agent (its connect timeout is set here).
    ///   - dtls: the DTLS endpoint (client role) checking the server's fingerprints.
    public init(ice configuration: ICEAgent.Configuration, remoteCandidates: [ICERemoteCandidate], dtls: DTLSEndpoint,
                timing: Timing = Timing(), seed: UInt64) {
        self.remoteCandidates = remoteCandidates
        self.timing = timing
        self.dtls = dtls
        var configuration = configuration
        configuration.connectTimeout = remoteCandidates.contains { $0.endpoint.transport == .tcp }
            ? min(timing.udpTimeoutBeforeTcpFallback, timing.iceConnectTimeout)
            : timing.iceConnectTimeout
        iceConfiguration = configuration
        ice = ICEAgent(configuration: configuration, remoteCandidates: remoteCandidates, seed: seed)
        scratch = []
        scratch.reserveCapacity(2048 + SRTPContext.maxTrailer)
    }

    public var hasUDPCandidate: Bool { remoteCandidates.contains { $0.endpoint.transport == .udp } }

    /// The server's best TCP candidate (RFC 6544 passive).
    public var tcpCandidate: ICEEndpoint? {
        remoteCandidates.filter { $0.endpoint.transport == .tcp }.max { $0.priority < $1.priority }?.endpoint
    }

    public var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Starts ICE over UDP.
    public func start(now: ContinuousClock.Instant) -> [Output] {
        guard state == .new else { return [] }
        state = .checking(.udp)
        return apply(ice.start(now: now, transport: .udp), now: now)
    }

    /// Starts ICE over the TCP connection the adapter opened (after `.openTCP`, or at once when
    /// TCP is forced), with the full connect timeout.
    public func startTCP(now: ContinuousClock.Instant) -> [Output] {
        switch state {
        case .new, .checking(.udp): break
        default: return []
        }
        fellBackToTCP = true
        state = .checking(.tcp)
        var configuration = iceConfiguration
        configuration.connectTimeout = timing.iceConnectTimeout
        ice = ICEAgent(configuration: configuration, remoteCandidates: remoteCandidates, seed: UInt64.random(in: 0...UInt64.max))
        return apply(ice.start(now: now, transport: .tcp), now: now)
    }

    /// When `tick` must run next (ICE retransmissions and consent, DTLS retransmissions and
    /// timeout); nil when nothing is pending.
    public func nextDeadline(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        switch state {
        case .failed, .closed, .new: return nil
        default: break
        }
        var next = iceNextDeadline
        if case .handshaking = state {
            if let timeout = dtls.timeout { next = min(next ?? now + timeout, now + timeout) }
            if let dtlsDeadline { next = min(next ?? dtlsDeadline, dtlsDeadline) }
        }
        return next
    }

    public func tick(now: ContinuousClock.Instant) -> [Output] {
        switch state {
        case .failed, .closed, .new: return []
        default: break
        }
        var out = apply(ice.tick(now: now), now: now)
        guard case .handshaking(let remote) = state else { return out }
        if let timeout = dtls.timeout, timeout <= .milliseconds(1) {
            out += handleDTLS(dtls.handleTimeout(), remote: remote)
        }
        if case .handshaking = state, let dtlsDeadline, now >= dtlsDeadline {
            out += fail(.dtls(.timedOut))
        }
        return out
    }

    /// Handles one datagram. `fromSelected` says it came from the path ICE selected (only
    /// then are DTLS and media accepted); `endpoint` gives its source for STUN.
    public func receive(_ datagram: UnsafeRawBufferPointer, fromSelected: Bool, endpoint: () -> ICEEndpoint?,
                        now: ContinuousClock.Instant, outputs: inout [Output]) -> Received {
        guard let first = datagram.first else {
            statistics.packetsDiscarded += 1
            return .nothing
        }
        switch first {
        case 0...3:
            let bytes = Array(datagram)
            guard STUNMessage.looksLikeSTUN(bytes[...]), let from = endpoint() else {
                statistics.packetsDiscarded += 1
                return .nothing
            }
            outputs += apply(ice.handle(bytes[...], from: from, now: now), now: now)
        case 20...63:
            guard fromSelected, case .handshaking(let remote) = state else {
                // After the handshake only an alert or close_notify is meaningful.
                if fromSelected, case .connected(let remote, _) = state {
                    outputs += handleDTLS(dtls.receive(Array(datagram)[...]), remote: remote)
                }
                return .nothing
            }
            outputs += handleDTLS(dtls.receive(Array(datagram)[...]), remote: remote)
        case 128...191:
            guard fromSelected, let receiveContext else {
                statistics.packetsDiscarded += 1
                return .nothing
            }
            return receiveMedia(datagram, context: receiveContext)
        default:
            statistics.packetsDiscarded += 1
        }
        return .nothing
    }

    /// SRTP/SRTCP into the scratch buffer, verified and decrypted there, parsed in place.
    private func receiveMedia(_ datagram: UnsafeRawBufferPointer, context: SRTPContext) -> Received {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: datagram)
        let isRTCP = RTPPacket.isRTCP(scratch[...])
        do {
            if isRTCP {
                try context.unprotectRTCP(&scratch)
                let packets = try RTCPPacket.parseCompound(scratch[...])
                statistics.rtcpPacketsReceived += 1
                return .rtcp(packets)
            }
            try context.unprotect(&scratch)
            let packet = try RTPPacket(parsing: scratch[...])
            if packet.ssrc == 1234 && packet.payloadType == 127 {
                // mediasoup's bandwidth probation: padding to measure with, no media.
                statistics.probationPacketsDropped += 1
                return .nothing
            }
            statistics.rtpPacketsReceived += 1
            statistics.rtpBytesReceived += scratch.count
            return .rtp(packet, size: scratch.count)
        } catch {
            statistics.packetsDiscarded += 1
            return .nothing
        }
    }

    /// Protects the RTP (or RTCP) packet of `length` bytes at the start of `buffer` in place
    /// (room for `SRTPContext.maxTrailer` more); returns the length to send, nil when there is
    /// no SRTP yet or protection failed.
    public func protect(_ buffer: UnsafeMutableRawBufferPointer, length: Int, rtcp: Bool) -> Int? {
        guard isConnected, let sendContext else { return nil }
        do {
            if rtcp {
                let size = try sendContext.protectRTCP(buffer, length: length)
                statistics.rtcpPacketsSent += 1
                return size
            }
            let size = try sendContext.protect(buffer, length: length)
            statistics.rtpPacketsSent += 1
            statistics.rtpBytesSent += length
            return size
        } catch {
            return nil
        }
    }

    /// Where media goes: the selected path, once connected.
    public var remote: ICEEndpoint? {
        switch state {
        case .handshaking(let remote), .connected(let remote, _): return remote
        default: return nil
        }
    }

    /// Ends the transport: close_notify when DTLS is up.
    public func close() -> [Output] {
        var out: [Output] = []
        if case .connected(let remote, _) = state {
            out = dtls.shutdown().map { .send($0, to: remote) }
        }
        switch state {
        case .failed, .closed: break
        default: state = .closed
        }
        return out
    }

    // MARK: - State changes

    /// Every call into the agent passes its outputs through here, so the cached deadline
    /// follows every change.
    private func apply(_ outputs: [ICEAgent.Output], now: ContinuousClock.Instant) -> [Output] {
        iceNextDeadline = ice.nextDeadline
        var out: [Output] = []
        for output in outputs {
            switch output {
            case .send(let datagram, let endpoint):
                out.append(.send(datagram, to: endpoint))
            case .connected(let endpoint):
                guard case .checking = state else { continue }
                state = .handshaking(endpoint)
                dtlsDeadline = now + timing.dtlsTimeout
                dtls.initialRetransmissionTimeout = Self.initialDTLSTimeout(roundTripTime: ice.roundTripTime)
                out += handleDTLS(dtls.start(), remote: endpoint)
            case .failed(let why):
                if !fellBackToTCP, let tcp = tcpCandidate {
                    out.append(.openTCP(tcp))
                    continue
                }
                out += fail(.iceFailed(why))
            case .connectionLost(let why):
                out += fail(.connectionLost(why))
            }
        }
        return out
    }

    private func handleDTLS(_ output: DTLSEndpoint.Output, remote: ICEEndpoint) -> [Output] {
        var out = output.datagrams.map { Output.send($0, to: remote) }
        if let keys = output.keys {
            do {
                sendContext = try SRTPContext(keys: keys.local, direction: .outbound)
                receiveContext = try SRTPContext(keys: keys.remote, direction: .inbound)
            } catch {
                return out + fail(.srtp("\(error)"))
            }
            dtlsDeadline = nil
            let profile = dtls.selectedProfile ?? .aes128CMHMACSHA1_80
            state = .connected(remote, profile)
            out.append(.connected(remote: remote, profile: profile))
        }
        if let failure = output.failure {
            out += fail(.dtls(failure))
        }
        return out
    }

    private func fail(_ error: TransportError) -> [Output] {
        switch state {
        case .failed, .closed: return []
        default: break
        }
        state = .failed(error)
        return [.failed(error)]
    }

    /// As libwebrtc: twice the ICE round trip, 50 ms to 3 s (100 ms when unknown).
    public static func initialDTLSTimeout(roundTripTime: Duration?) -> Duration {
        guard let roundTripTime else { return .milliseconds(100) }
        return min(max(roundTripTime * 2, .milliseconds(50)), .seconds(3))
    }
}
