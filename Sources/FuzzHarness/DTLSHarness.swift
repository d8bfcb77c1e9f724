import DTLS

/// DTLS datagrams into a client `DTLSEndpoint` that has sent its ClientHello (the role nacho
/// plays against mediasoup), plus the record layer nacho parses itself (`DTLSRecord`).
///
/// Input: operations until the end:
///   0  a raw datagram (16-bit length-prefixed)
///   1  a datagram of well-formed records: count u8 % 4, then per record content type u8,
///      epoch u16, sequence u32 and a length-prefixed fragment (lengths always right, so the
///      fuzzer spends its time on handshake messages, not on the record header)
///   2  the retransmission timer fires
///   3  shutdown (close_notify)
///
/// Invariants: every received datagram that splits into records serializes back to the same
/// bytes and packetizes into datagrams of whole records; what the endpoint sends is whole
/// records within the MTU; keys never come out without a completed handshake.
public enum DTLSHarness {
    /// Made once per process: key generation would dominate each run, and one certificate
    /// serves every transport in nacho too.
    static let certificate = try! DTLSCertificate.generate(commonName: "nacho-fuzz")
    static let serverCertificate = try! DTLSCertificate.generate(commonName: "server-fuzz")
    static let mtu = 1200

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        guard let endpoint = try? DTLSEndpoint(role: .client, certificate: certificate,
                                               remoteFingerprints: [("sha-256", serverCertificate.sha256Fingerprint)], mtu: mtu) else {
            return require(false, "cannot create the client endpoint")
        }
        check(endpoint.start(), endpoint)
        while !input.isAtEnd {
            switch input.u8() % 4 {
            case 0:
                let datagram = input.chunk()
                checkRecords(datagram)
                check(endpoint.receive(datagram[...]), endpoint)
            case 1:
                var datagram: [UInt8] = []
                for _ in 0..<(input.u8() % 4) {
                    let contentType = input.u8()
                    let epoch = input.u16()
                    let sequence = UInt64(input.u32())
                    datagram += DTLSRecord(contentType: contentType, epoch: epoch, sequenceNumber: sequence,
                                           fragment: input.chunk()[...]).serialize()
                }
                checkRecords(datagram)
                check(endpoint.receive(datagram[...]), endpoint)
            case 2:
                check(endpoint.handleTimeout(), endpoint)
            default:
                checkSent(endpoint.shutdown())
            }
        }
    }

    private static func check(_ output: DTLSEndpoint.Output, _ endpoint: DTLSEndpoint) {
        checkSent(output.datagrams)
        if output.keys != nil {
            require(endpoint.isEstablished, "keys without an established association")
        }
    }

    private static func checkSent(_ datagrams: [[UInt8]]) {
        for datagram in datagrams {
            guard let records = try? DTLSRecord.split(datagram[...]) else { return require(false, "sent a datagram of broken records") }
            require(datagram.count <= mtu || records.count == 1, "sent \(datagram.count) bytes in \(records.count) records past the MTU")
        }
    }

    /// The record layer on its own: split, serialize, packetize.
    private static func checkRecords(_ datagram: [UInt8]) {
        _ = DTLSRecord.looksLikeDTLS(datagram[...])
        guard let records = try? DTLSRecord.split(datagram[...]) else { return }
        require(records.flatMap { $0.serialize() } == datagram, "records do not serialize back to the datagram")
        let packets = DTLSRecord.packetize(datagram, mtu: 200)
        let again = packets.compactMap { try? DTLSRecord.split($0[...]) }
        require(again.count == packets.count && Array(again.joined()) == records, "packetize lost or changed records")
    }
}
