import ICE

extension ICEHarness {
    /// Scripts built with nacho's own STUN serializer: a lite server answering the first check
    /// (raw, with the agent's real transaction id, and re-signed), the peer's own checks,
    /// error answers, consent checks answered and then lost, TCP, and plain timeouts.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        // The agent is deterministic: its first check's transaction id is known in advance.
        var agent = makeAgent()
        guard case .send(let check, _)? = agent.start(now: FuzzClock.epoch).first,
              let request = try? STUNMessage(parsing: check) else { fatalError("the ICE agent sent no check") }
        let id = request.transactionID
        let remoteKey = Array(remotePassword.utf8)
        let localKey = Array(localPassword.utf8)
        let mapped = STUNAddress(ipv4: "192.0.2.1", port: 5000)!
        let success = STUNMessage(class: .success, transactionID: id, attributes: [.xorMappedAddress(mapped, transactionID: id)])
        let peerCheck = STUNMessage(class: .request, transactionID: Array(repeating: 7, count: 12), attributes: [
            .username("nacho:server"), .priority(1_853_817_087), .iceControlling(tieBreaker: 9), .useCandidateFlag,
        ])
        let roleConflict = STUNMessage(class: .error, transactionID: id, attributes: [.errorCode(487, reason: "Role Conflict")])

        var seeds: [[UInt8]] = []
        func script(tcp: Bool = false, _ build: (inout FuzzInputWriter) -> Void) {
            var writer = FuzzInputWriter()
            writer.bool(tcp)
            build(&writer)
            seeds.append(writer.bytes)
        }
        func raw(_ writer: inout FuzzInputWriter, _ bytes: [UInt8], from endpoint: UInt8 = 0) {
            writer.u8(1)
            writer.u8(endpoint)
            writer.chunk(bytes)
        }
        /// Op 2; flags as documented on `run` (class in bits 1-2).
        func signed(_ writer: inout FuzzInputWriter, _ message: STUNMessage, flags: UInt8, pick: UInt8 = 0, from endpoint: UInt8 = 0) {
            writer.u8(2)
            writer.u8(endpoint)
            writer.u8(flags | message.messageClass.rawValue << 1)
            writer.u8(pick)
            writer.chunk(message.serialize())
        }
        func jump(_ writer: inout FuzzInputWriter, times: Int) {
            for _ in 0..<times { writer.u8(3) }
        }

        script { raw(&$0, success.serialize(integrityKey: remoteKey, fingerprint: true)) }
        script {
            raw(&$0, success.serialize(integrityKey: remoteKey, fingerprint: true))
            jump(&$0, times: 2)
            signed(&$0, success, flags: 1 | 8 | 32)  // answers the newest check: consent
            jump(&$0, times: 12)
        }
        script { signed(&$0, success, flags: 1 | 8 | 32) }
        script { signed(&$0, roleConflict, flags: 1 | 8 | 32) ; jump(&$0, times: 10) }
        script {
            raw(&$0, peerCheck.serialize(integrityKey: localKey, fingerprint: true), from: 0)
            raw(&$0, peerCheck.serialize(integrityKey: localKey, fingerprint: true), from: 3)
            raw(&$0, peerCheck.serialize(integrityKey: localKey, fingerprint: true), from: 4)
            signed(&$0, peerCheck, flags: 16, from: 2)
        }
        script { raw(&$0, success.serialize(integrityKey: Array("wrong".utf8), fingerprint: true)) }
        script { raw(&$0, success.serialize(fingerprint: true)); raw(&$0, check) }
        script(tcp: true) { signed(&$0, success, flags: 1 | 8, from: 1); jump(&$0, times: 3) }
        script {
            for step: UInt16 in [100, 250, 500, 1000, 2000, 2000, 2000, 3000] {
                $0.u8(0)
                $0.u16(step)
            }
        }
        script { jump(&$0, times: 20) }
        return seeds
    }
}
