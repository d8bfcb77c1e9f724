import ICE

/// STUN datagrams into `ICEAgent` after `start`, with fake-clock ticks: the checks, the
/// answers to the peer's checks, nomination, consent freshness and the timeouts.
///
/// Input: a first byte (bit 0: start on TCP instead of UDP), then operations:
///   0  advance the clock by a 16-bit number of ms, then `tick`
///   1  a raw datagram (16-bit length-prefixed) from endpoint #u8
///   2  a STUN message from endpoint #u8, re-signed so it gets past authentication: flags u8
///      (bit 0: take the transaction id of the agent's request #u8, counting back from the
///      newest; bits 1-2: class; bit 3: sign with the server's password, bit 4: with nacho's;
///      bit 5: fingerprint), then the length-prefixed message; one that does not parse is dropped
///   3  jump to the agent's next deadline and `tick`
/// Integrity and fingerprints cannot be forged by a mutator; op 2 lets it reach what comes
/// after them.
///
/// Invariants: what the agent sends is STUN with a valid fingerprint, signed with the right
/// password, and an answer maps the sender's address; `.connected` at most once and never
/// after failure; after `tick(now)` the next deadline is in the future (no busy loop).
public enum ICEHarness {
    static let localPassword = "local-password-0123456789"
    static let remotePassword = "remote-password-0123456789"
    static let endpoints = [
        ICEEndpoint(host: "127.0.0.1", port: 40000),
        ICEEndpoint(host: "127.0.0.1", port: 40001, transport: .tcp),
        ICEEndpoint(host: "10.0.0.1", port: 40002),
        ICEEndpoint(host: "::1", port: 40003),
        ICEEndpoint(host: "127.0.0.1", port: 70000),
    ]

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        var agent = makeAgent()
        var clock = FuzzClock()
        var observed = Observed()
        observed.check(agent.start(now: clock.now, transport: input.bool() ? .tcp : .udp), agent)

        while !input.isAtEnd {
            switch input.u8() % 4 {
            case 0:
                clock.advance(milliseconds: Int(input.u16()))
                tick(&agent, clock, &observed)
            case 1:
                let endpoint = endpoints[Int(input.u8()) % endpoints.count]
                let datagram = input.chunk()
                observed.check(agent.handle(datagram[...], from: endpoint, now: clock.now), agent, from: endpoint)
            case 2:
                let endpoint = endpoints[Int(input.u8()) % endpoints.count]
                let flags = input.u8()
                let pick = Int(input.u8())
                guard var message = try? STUNMessage(parsing: input.chunk()) else { continue }
                if flags & 1 != 0, !observed.requestIDs.isEmpty {
                    message.transactionID = observed.requestIDs[observed.requestIDs.count - 1 - pick % observed.requestIDs.count]
                }
                message.messageClass = STUNMessage.Class(rawValue: (flags >> 1) & 3) ?? .request
                let key = flags & 8 != 0 ? remotePassword : flags & 16 != 0 ? localPassword : nil
                let datagram = message.serialize(integrityKey: key.map { Array($0.utf8) }, fingerprint: flags & 32 != 0)
                observed.check(agent.handle(datagram[...], from: endpoint, now: clock.now), agent, from: endpoint)
            default:
                if let deadline = agent.nextDeadline, deadline > clock.now {
                    clock.advance(milliseconds: Int(((deadline - clock.now) / .milliseconds(1)).rounded(.up)))
                }
                tick(&agent, clock, &observed)
            }
        }
    }

    /// The agent every run starts with; its transaction ids follow from the fixed seed.
    static func makeAgent() -> ICEAgent {
        let configuration = ICEAgent.Configuration(localUfrag: "nacho", localPassword: localPassword, remoteUfrag: "server",
                                                   remotePassword: remotePassword, tieBreaker: 42)
        return ICEAgent(configuration: configuration, remoteCandidates: [
            ICERemoteCandidate(endpoint: endpoints[0], priority: 1_076_302_079),
            ICERemoteCandidate(endpoint: endpoints[1], priority: 1_076_276_479),
            ICERemoteCandidate(endpoint: endpoints[2], priority: 1_000),
        ], seed: 1)
    }

    private static func tick(_ agent: inout ICEAgent, _ clock: FuzzClock, _ observed: inout Observed) {
        observed.check(agent.tick(now: clock.now), agent)
        if let deadline = agent.nextDeadline {
            require(deadline > clock.now, "after tick(now) the next deadline is not in the future (state \(agent.state))")
        }
    }

    private struct Observed {
        var connected = false
        var ended = false
        /// Transaction ids of the checks the agent sent, newest last (at most 16).
        var requestIDs: [[UInt8]] = []

        mutating func check(_ outputs: [ICEAgent.Output], _ agent: ICEAgent, from source: ICEEndpoint? = nil) {
            for output in outputs {
                switch output {
                case .send(let bytes, let destination):
                    checkSent(bytes, to: destination, source: source)
                case .connected(let endpoint):
                    require(!connected, "connected twice")
                    require(!ended, "connected after failing")
                    connected = true
                    require(agent.state == .connected && agent.selected == endpoint, "connected to \(endpoint) but state \(agent.state)")
                case .failed:
                    ended = true
                    require(agent.state == .failed, ".failed but state \(agent.state)")
                case .connectionLost:
                    ended = true
                    require(agent.state == .lost, ".connectionLost but state \(agent.state)")
                }
            }
        }

        private mutating func checkSent(_ bytes: [UInt8], to destination: ICEEndpoint, source: ICEEndpoint?) {
            guard let message = try? STUNMessage(parsing: bytes) else { return require(false, "sent a datagram that is not STUN") }
            require(STUNMessage.verifyFingerprint(bytes[...]), "sent STUN with a wrong fingerprint")
            switch message.messageClass {
            case .request:
                require(STUNMessage.verifyIntegrity(bytes[...], key: Array(remotePassword.utf8)), "check not signed with the server's password")
                requestIDs.append(message.transactionID)
                if requestIDs.count > 16 { requestIDs.removeFirst() }
            case .success:
                require(destination == source, "answered \(String(describing: source)) at \(destination)")
                require(STUNMessage.verifyIntegrity(bytes[...], key: Array(localPassword.utf8)), "answer not signed with nacho's password")
                require(message.xorMappedAddress?.description == "\(destination.host):\(UInt16(clamping: destination.port))",
                        "answer maps \(String(describing: message.xorMappedAddress)) for \(destination)")
            case .error, .indication:
                require(false, "sent a STUN \(message.messageClass)")
            }
        }
    }
}
