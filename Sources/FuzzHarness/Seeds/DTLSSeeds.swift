import DTLS

extension DTLSHarness {
    /// A real handshake between nacho's endpoints: the server's flights (ServerHello,
    /// Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone; then
    /// ChangeCipherSpec, Finished), as whole datagrams, as records, split and repeated, plus
    /// alerts, timeouts and shutdowns. The harness's client has its own random, so the
    /// replayed flight gets as far as the server's signature: the certificate check runs.
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let client = try! DTLSEndpoint(role: .client, certificate: certificate,
                                       remoteFingerprints: [("sha-256", serverCertificate.sha256Fingerprint)], mtu: mtu)
        let server = try! DTLSEndpoint(role: .server, certificate: serverCertificate,
                                       remoteFingerprints: [("sha-256", certificate.sha256Fingerprint)], mtu: mtu)
        var serverFlights: [[[UInt8]]] = []
        var toServer = client.start().datagrams
        for _ in 0..<4 where !toServer.isEmpty {
            let flight = toServer.flatMap { server.receive($0[...]).datagrams }
            serverFlights.append(flight)
            toServer = flight.flatMap { client.receive($0[...]).datagrams }
        }
        guard client.isEstablished, serverFlights.count >= 2 else { fatalError("the seed handshake did not complete") }

        func datagrams(_ list: [[UInt8]], then tail: [UInt8] = []) -> [UInt8] {
            var writer = FuzzInputWriter()
            for datagram in list {
                writer.u8(0)
                writer.chunk(datagram)
            }
            writer.raw(tail)
            return writer.bytes
        }
        func records(_ list: [DTLSRecord]) -> [UInt8] {
            var writer = FuzzInputWriter()
            for record in list {
                writer.u8(1)
                writer.u8(1)
                writer.u8(record.contentType)
                writer.u16(record.epoch)
                writer.u32(UInt32(truncatingIfNeeded: record.sequenceNumber))
                writer.chunk(record.fragment)
            }
            return writer.bytes
        }
        let first = serverFlights[0]
        let firstRecords = first.flatMap { (try? DTLSRecord.split($0[...])) ?? [] }
        let alert = DTLSRecord(contentType: 21, epoch: 0, sequenceNumber: 9, fragment: [2, 40]).serialize()
        return [
            datagrams(first),
            datagrams(first + serverFlights[1]),
            datagrams(first + first, then: [2, 2, 3]),
            datagrams(first.reversed()),
            records(firstRecords),
            records(Array(firstRecords.prefix(1))),
            datagrams([alert]),
            datagrams(first, then: [3]),
            datagrams(serverFlights[1]),
            [2, 2, 2, 2, 2, 2, 2],
            [3, 3, 2],
        ]
    }
}
