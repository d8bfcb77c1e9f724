import Bytes

/// ICE as the controlling agent against an ICE-lite server (RFC 8445 §2.5, mediasoup), without
/// I/O: feed it received STUN datagrams and the time, send what it returns, call `tick` at
/// `nextDeadline`. It checks the remote candidates by priority with USE-CANDIDATE (the lite
/// peer nominates what succeeds), retransmits per RFC 8489, keeps consent fresh (RFC 7675)
/// well inside mediasoup's 30 s timeout, and reports a lost connection when answers stop.
public struct ICEAgent: Sendable {
    public struct Configuration: Sendable {
        public var localUfrag: String
        public var localPassword: String
        public var remoteUfrag: String
        public var remotePassword: String
        public var tieBreaker: UInt64
        /// First retransmission timeout of a check (doubles up to `maxRTO`).
        public var initialRTO: Duration = .milliseconds(250)
        public var maxRTO: Duration = .seconds(2)
        /// Give up connecting after this long.
        public var connectTimeout: Duration = .seconds(10)
        /// Mean interval of consent checks (randomized ±20 %, RFC 7675 §5.1).
        public var consentInterval: Duration = .seconds(5)
        /// Consent is lost when no check succeeded for this long.
        public var consentTimeout: Duration = .seconds(30)

        public init(localUfrag: String, localPassword: String, remoteUfrag: String, remotePassword: String, tieBreaker: UInt64) {
            self.localUfrag = localUfrag
            self.localPassword = localPassword
            self.remoteUfrag = remoteUfrag
            self.remotePassword = remotePassword
            self.tieBreaker = tieBreaker
        }
    }

    public enum Output: Sendable, Equatable {
        case send([UInt8], to: ICEEndpoint)
        /// A pair works; media goes to this endpoint from now on.
        case connected(ICEEndpoint)
        /// No candidate answered in time.
        case failed(String)
        /// Consent expired: the server stopped answering.
        case connectionLost(String)
    }

    public enum State: Sendable, Equatable { case new, checking, connected, failed, lost }

    private struct Transaction {
        var id: [UInt8]
        var candidate: ICERemoteCandidate
        var bytes: [UInt8]
        var nextSend: ContinuousClock.Instant
        var rto: Duration
        var attemptsLeft: Int
        var isConsent: Bool
        /// When it first went out and how often: an answer to a check sent once measures the RTT.
        var firstSent: ContinuousClock.Instant?
        var sends = 0

        /// Counts a send at `now` (the first or a retransmission), schedules the next one an
        /// RTO later, and returns the datagram to send.
        mutating func send(at now: ContinuousClock.Instant) -> Output {
            if firstSent == nil { firstSent = now }
            sends += 1
            attemptsLeft -= 1
            nextSend = now + rto
            return .send(bytes, to: candidate.endpoint)
        }
    }

    public let configuration: Configuration
    public private(set) var state: State = .new
    public private(set) var selected: ICEEndpoint?
    /// The round-trip time of the last check answered without a retransmission (DTLS starts
    /// its retransmission timer from it).
    public private(set) var roundTripTime: Duration?
    private var candidates: [ICERemoteCandidate]
    private var transactions: [Transaction] = []
    private var startedAt: ContinuousClock.Instant?
    private var lastConsent: ContinuousClock.Instant?
    private var nextConsentCheck: ContinuousClock.Instant?
    private var random: SplitMix64

    /// The PRIORITY a peer-reflexive candidate of ours would have (RFC 8445 §5.1.2.1).
    public static let localPriority: UInt32 = (110 << 24) | (65535 << 8) | 255

    public init(configuration: Configuration, remoteCandidates: [ICERemoteCandidate], seed: UInt64) {
        self.configuration = configuration
        self.candidates = remoteCandidates.sorted { $0.priority > $1.priority }
        self.random = SplitMix64(seed: seed)
    }

    /// Starts checks on every candidate of `transport`, best first.
    public mutating func start(now: ContinuousClock.Instant, transport: ICEEndpoint.Transport = .udp) -> [Output] {
        // USERNAME is "remote:local", less than 513 bytes (RFC 8489 §14.3); the remote part
        // comes from the signaling server.
        guard configuration.remoteUfrag.utf8.count + 1 + configuration.localUfrag.utf8.count < 513 else {
            state = .failed
            return [.failed("ICE username fragment of \(configuration.remoteUfrag.utf8.count) bytes is too long for a STUN username")]
        }
        state = .checking
        startedAt = now
        var out: [Output] = []
        var offset = Duration.zero
        for candidate in candidates where candidate.endpoint.transport == transport {
            // Pace the first checks (RFC 8445 Ta), best candidate immediately.
            var t = newTransaction(for: candidate, consent: false, now: now + offset)
            if offset == .zero { out.append(t.send(at: now)) }
            transactions.append(t)
            offset += .milliseconds(50)
        }
        if transactions.isEmpty {
            state = .failed
            out.append(.failed("no \(transport) candidate to check"))
        }
        return out
    }

    public var nextDeadline: ContinuousClock.Instant? {
        // Asked after every datagram: the earliest of a few candidates, without building a list.
        var next = nextConsentCheck
        for transaction in transactions where next.map({ transaction.nextSend < $0 }) ?? true { next = transaction.nextSend }
        if state == .checking, let startedAt {
            let timeout = startedAt + configuration.connectTimeout
            if next.map({ timeout < $0 }) ?? true { next = timeout }
        }
        if state == .connected, let lastConsent {
            let timeout = lastConsent + configuration.consentTimeout
            if next.map({ timeout < $0 }) ?? true { next = timeout }
        }
        return next
    }

    public mutating func tick(now: ContinuousClock.Instant) -> [Output] {
        var out: [Output] = []
        switch state {
        case .checking:
            if let startedAt, now >= startedAt + configuration.connectTimeout {
                state = .failed
                transactions.removeAll()
                return [.failed("no answer to ICE connectivity checks within \(configuration.connectTimeout)")]
            }
        case .connected:
            if let lastConsent, now >= lastConsent + configuration.consentTimeout {
                state = .lost
                transactions.removeAll()
                nextConsentCheck = nil
                return [.connectionLost("no answer to ICE consent checks for \(configuration.consentTimeout)")]
            }
            if let next = nextConsentCheck, now >= next, let selected, let candidate = candidates.first(where: { $0.endpoint == selected }) {
                var t = newTransaction(for: candidate, consent: true, now: now)
                out.append(t.send(at: now))
                transactions.append(t)
                scheduleConsent(after: now)
            }
        case .new, .failed, .lost:
            return []
        }
        for index in transactions.indices where transactions[index].nextSend <= now {
            if transactions[index].attemptsLeft <= 0 {
                transactions[index].nextSend = now + .seconds(3600)  // wait for the overall timeout
                continue
            }
            transactions[index].rto = min(transactions[index].rto * 2, configuration.maxRTO)
            out.append(transactions[index].send(at: now))
        }
        transactions.removeAll { $0.attemptsLeft <= 0 && $0.isConsent }
        return out
    }

    /// Handles a STUN datagram. Requests from the peer are answered; responses to our checks
    /// move the state forward. Anything unauthenticated is dropped.
    public mutating func handle(_ bytes: ArraySlice<UInt8>, from endpoint: ICEEndpoint, now: ContinuousClock.Instant) -> [Output] {
        guard let message = try? STUNMessage(parsing: bytes), STUNMessage.verifyFingerprint(bytes) else { return [] }
        switch message.messageClass {
        case .request:
            return answer(message, raw: bytes, from: endpoint)
        case .success, .error:
            guard let index = transactions.firstIndex(where: { $0.id == message.transactionID }) else { return [] }
            guard STUNMessage.verifyIntegrity(bytes, key: Array(configuration.remotePassword.utf8)) else { return [] }
            let transaction = transactions.remove(at: index)
            if message.messageClass == .error {
                // 487 would mean a role conflict; a lite server never has one. Let the
                // other candidates or the timeout decide.
                return []
            }
            lastConsent = now
            if transaction.sends == 1, let sent = transaction.firstSent, now >= sent { roundTripTime = now - sent }
            guard state == .checking else { return [] }
            state = .connected
            selected = transaction.candidate.endpoint
            transactions.removeAll()
            scheduleConsent(after: now)
            return [.connected(transaction.candidate.endpoint)]
        case .indication:
            return []
        }
    }

    private mutating func answer(_ request: STUNMessage, raw: ArraySlice<UInt8>, from endpoint: ICEEndpoint) -> [Output] {
        let localPassword = Array(configuration.localPassword.utf8)
        guard request.method == STUNMessage.Method.binding.rawValue,
              request.username?.hasPrefix(configuration.localUfrag + ":") == true,
              STUNMessage.verifyIntegrity(raw, key: localPassword),
              let address = STUNAddress(ipv4: endpoint.host, port: UInt16(clamping: endpoint.port)) else { return [] }
        let response = STUNMessage(class: .success, transactionID: request.transactionID,
                                   attributes: [.xorMappedAddress(address, transactionID: request.transactionID)])
        return [.send(response.serialize(integrityKey: localPassword, fingerprint: true), to: endpoint)]
    }

    private mutating func newTransaction(for candidate: ICERemoteCandidate, consent: Bool, now: ContinuousClock.Instant) -> Transaction {
        let id = (0..<12).map { _ in UInt8.random(in: 0...255, using: &random) }
        var attributes: [STUNAttribute] = [
            .username("\(configuration.remoteUfrag):\(configuration.localUfrag)"),
            .priority(Self.localPriority),
            .iceControlling(tieBreaker: configuration.tieBreaker),
        ]
        if !consent { attributes.append(.useCandidateFlag) }
        let request = STUNMessage(class: .request, transactionID: id, attributes: attributes)
        let bytes = request.serialize(integrityKey: Array(configuration.remotePassword.utf8), fingerprint: true)
        return Transaction(id: id, candidate: candidate, bytes: bytes, nextSend: now, rto: configuration.initialRTO,
                           attemptsLeft: consent ? 3 : 7, isConsent: consent)
    }

    private mutating func scheduleConsent(after now: ContinuousClock.Instant) {
        let base = configuration.consentInterval
        let factor = Double.random(in: 0.8...1.2, using: &random)
        nextConsentCheck = now + base * factor
    }
}
