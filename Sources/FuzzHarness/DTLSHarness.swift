import DTLS
import SRTP

/// DTLS datagrams into a client `DTLSEndpoint` that has sent its ClientHello (the role nacho
/// plays against mediasoup), plus the record layer nacho parses itself (`DTLSRecord`). A
/// fuzzer cannot forge a server's signature, so a real server (nacho's endpoint in the server
/// role) can take part: its flights reach the client dropped, repeated, reordered or with a
/// byte changed, and a handshake can complete, which reaches key export and the alerts and
/// close_notify of an established association.
///
/// Input: a first byte (bit 0: the client expects another certificate's fingerprint; bit 1: it
/// offers only SRTP_AES128_CM_SHA1_80), then operations until the end:
///   0  a raw datagram (16-bit length-prefixed) to the client
///   1  a datagram of well-formed records to the client: count u8 % 4, then per record content
///      type u8, epoch u16, sequence u32 and a length-prefixed fragment
///   2  the client's retransmission timer fires
///   3  the client shuts down (close_notify)
///   4  the server reads everything the client sent so far and answers
///   5  the server's next datagram reaches the client: flags u8 (bit 0: dropped instead;
///      bit 1: also kept for later; bit 2: byte #u16 xor u8 first)
///   6  the server's retransmission timer fires
///   7  the server shuts down
///
/// Invariants: every received datagram that splits into records serializes back to the same
/// bytes and packetizes into datagrams of whole records; what an endpoint sends is whole
/// records within the MTU; keys come out once, with a completed handshake, and the client's
/// match the server's crosswise with the same profile; a client that expects another
/// certificate never gets keys.
public enum DTLSHarness {
    /// Made once per process: key generation would dominate each run, and one certificate
    /// serves every transport in nacho too.
    static let certificate = try! DTLSCertificate.generate(commonName: "nacho-fuzz")
    static let serverCertificate = try! DTLSCertificate.generate(commonName: "server-fuzz")
    static let mtu = 1200

    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let mode = input.u8()
        let expected = mode & 1 == 0 ? serverCertificate.sha256Fingerprint : certificate.sha256Fingerprint
        let profiles: [SRTPProtectionProfile] = mode & 2 == 0 ? SRTPProtectionProfile.allCases : [.aes128CMHMACSHA1_80]
        guard let client = try? DTLSEndpoint(role: .client, certificate: certificate, remoteFingerprints: [("sha-256", expected)],
                                              profiles: profiles, mtu: mtu) else {
            return require(false, "cannot create the client endpoint")
        }
        var link = Link(client: client, trustsServer: mode & 1 == 0)
        link.fromClient(client.start())
        while !input.isAtEnd {
            switch input.u8() % 8 {
            case 0:
                let datagram = input.chunk()
                checkRecords(datagram)
                link.fromClient(client.receive(datagram[...]))
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
                link.fromClient(client.receive(datagram[...]))
            case 2:
                link.fromClient(client.handleTimeout())
            case 3:
                link.fromClient(client.shutdown())
            case 4:
                link.serverReads()
            case 5:
                let flags = input.u8()
                let index = Int(input.u16())
                let change = input.u8()
                link.deliverToClient(drop: flags & 1 != 0, keep: flags & 2 != 0, change: flags & 4 != 0 ? (index, change) : nil)
            case 6:
                link.fromServer(link.server?.handleTimeout())
            default:
                link.fromServer(link.server?.shutdown() ?? [])
            }
        }
    }

    /// The two endpoints and the datagrams in flight between them. The server exists once it
    /// is first asked to read.
    private struct Link {
        let client: DTLSEndpoint
        let trustsServer: Bool
        var server: DTLSEndpoint?
        var toServer: [[UInt8]] = []
        var toClient: [[UInt8]] = []
        var clientKeys: (local: SRTPKeys, remote: SRTPKeys)?
        var serverKeys: (local: SRTPKeys, remote: SRTPKeys)?

        init(client: DTLSEndpoint, trustsServer: Bool) {
            self.client = client
            self.trustsServer = trustsServer
        }

        mutating func fromClient(_ output: DTLSEndpoint.Output) {
            fromClient(output.datagrams)
            if let keys = output.keys {
                require(clientKeys == nil, "client keys came out twice")
                require(client.isEstablished, "client keys without an established association")
                require(trustsServer, "client keys although the server's certificate does not match")
                clientKeys = keys
                checkKeys()
            }
        }

        mutating func fromClient(_ datagrams: [[UInt8]]) {
            checkSent(datagrams)
            toServer += datagrams
        }

        mutating func fromServer(_ datagrams: [[UInt8]]) {
            checkSent(datagrams)
            toClient += datagrams
        }

        mutating func fromServer(_ output: DTLSEndpoint.Output?) {
            guard let output, let server else { return }
            fromServer(output.datagrams)
            if let keys = output.keys {
                require(serverKeys == nil, "server keys came out twice")
                require(server.isEstablished, "server keys without an established association")
                serverKeys = keys
                checkKeys()
            }
        }

        mutating func serverReads() {
            if server == nil {
                server = try? DTLSEndpoint(role: .server, certificate: serverCertificate,
                                           remoteFingerprints: [("sha-256", certificate.sha256Fingerprint)], mtu: mtu)
                require(server != nil, "cannot create the server endpoint")
            }
            let datagrams = toServer
            toServer = []
            for datagram in datagrams { fromServer(server?.receive(datagram[...])) }
        }

        mutating func deliverToClient(drop: Bool, keep: Bool, change: (index: Int, value: UInt8)?) {
            guard !toClient.isEmpty else { return }
            var datagram = toClient.removeFirst()
            if keep { toClient.append(datagram) }
            guard !drop else { return }
            if let change, !datagram.isEmpty { datagram[change.index % datagram.count] ^= change.value }
            checkRecords(datagram)
            fromClient(client.receive(datagram[...]))
        }

        /// Both sides derived the same keys: what one sends with, the other receives with.
        private func checkKeys() {
            guard let clientKeys, let serverKeys else { return }
            require(clientKeys.local == serverKeys.remote && clientKeys.remote == serverKeys.local, "client and server keys differ")
            require(client.selectedProfile == server?.selectedProfile, "client and server chose different SRTP profiles")
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
