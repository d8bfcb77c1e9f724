import DTLS

extension DTLSHarness {
    /// Handshakes with the harness's own server: whole, with datagrams dropped, repeated or
    /// changed, against a client that expects another certificate or offers one profile, then
    /// alerts and shutdowns; and, for the client alone, a real server flight (as datagrams and
    /// as records: the client's random differs, so it gets as far as the server's signature),
    /// timeouts and an alert.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        /// Operation bytes as `run` documents them; `deliver` is op 5 with no change.
        let serve: [UInt8] = [4]
        let deliver: [UInt8] = [5, 0, 0, 0, 0]
        let exchange = serve + deliver + deliver + deliver
        let handshake = exchange + exchange + exchange + exchange
        var seeds: [[UInt8]] = [
            [0] + handshake,
            [0] + handshake + [3, 4, 7] + deliver + deliver,
            [0] + handshake + [7] + deliver + [2, 6],
            [1] + handshake,
            [2] + handshake,
            [0] + serve + [5, 1, 0, 0, 0] + [2, 4] + deliver + deliver + exchange + exchange + exchange,
            [0] + serve + [5, 2, 0, 0, 0] + deliver + deliver + exchange + exchange + exchange,
            [0] + serve + [5, 4, 0, 40, 0xFF] + exchange,
            [0] + serve + [5, 4, 0x01, 0x00, 0x01] + exchange,
            [0, 6, 6, 2, 2, 3, 3],
        ]

        // A real server flight for a client that is not the harness's (its random differs).
        let client = try! DTLSEndpoint(role: .client, certificate: certificate,
                                       remoteFingerprints: [("sha-256", serverCertificate.sha256Fingerprint)], mtu: mtu)
        let server = try! DTLSEndpoint(role: .server, certificate: serverCertificate,
                                       remoteFingerprints: [("sha-256", certificate.sha256Fingerprint)], mtu: mtu)
        let flight = client.start().datagrams.flatMap { server.receive($0[...]).datagrams }
        guard !flight.isEmpty else { fatalError("the seed server sent no flight") }
        var datagrams = FuzzInputWriter()
        datagrams.u8(0)
        for datagram in flight {
            datagrams.u8(0)
            datagrams.chunk(datagram)
        }
        var records = FuzzInputWriter()
        records.u8(0)
        for record in flight.flatMap({ (try? DTLSRecord.split($0[...])) ?? [] }) {
            records.u8(1)
            records.u8(1)
            records.u8(record.contentType)
            records.u16(record.epoch)
            records.u32(UInt32(truncatingIfNeeded: record.sequenceNumber))
            records.chunk(record.fragment)
        }
        var alert = FuzzInputWriter()
        alert.u8(0)
        alert.u8(0)
        alert.chunk(DTLSRecord(contentType: 21, epoch: 0, sequenceNumber: 9, fragment: [2, 40]).serialize())
        seeds += [datagrams.bytes, datagrams.bytes + [2, 2, 3], records.bytes, alert.bytes]
        return seeds
    }
}
