internal import COpenSSL


/// One side of a DTLS 1.2 association on OpenSSL with memory BIOs, without I/O: feed it
/// datagrams, send what it returns, call `handleTimeout` when `timeout` expires (with memory
/// BIOs retransmission is the application's job). The peer's certificate is checked against
/// the fingerprints the server signaled during the handshake: a mismatch aborts it with an
/// alert before any key exists. On success it exports the DTLS-SRTP keys (RFC 5764).
/// Not thread-safe: owned and used by one transport.
public final class DTLSEndpoint {
    public enum Role: Sendable { case client, server }

    public struct Output {
        public var datagrams: [[UInt8]] = []
        /// Set once, when the handshake completes: keys to send with and to receive with.
        public var keys: (local: SRTPKeys, remote: SRTPKeys)?
        /// The association ended (peer close_notify, alert, or a failed handshake).
        public var failure: DTLSError?
    }

    public let role: Role
    public private(set) var isEstablished = false
    public private(set) var selectedProfile: SRTPProtectionProfile?
    /// The certificate's shared context (`DTLSCertificate.context`); the SSL holds a reference.
    let context: OpaquePointer
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private let expectedFingerprints: [(algorithm: String, value: String)]
    private var verificationFailure: DTLSError?
    private let mtu: Int
    /// The first retransmission timeout of a handshake flight; each retransmission doubles it
    /// up to `maximumRetransmissionTimeout`. OpenSSL's own start is 1 s, so one lost flight on a
    /// lossy path delays media by seconds; libwebrtc starts at twice the ICE RTT, 50 ms to 3 s.
    public var initialRetransmissionTimeout: Duration = .milliseconds(100)
    public static let maximumRetransmissionTimeout: Duration = .seconds(8)

    /// - Parameters:
    ///   - remoteFingerprints: (algorithm, value) pairs the server signaled; every one with an
    ///     algorithm OpenSSL knows is checked, and at least one must be.
    public init(role: Role, certificate: DTLSCertificate, remoteFingerprints: [(algorithm: String, value: String)],
                profiles: [SRTPProtectionProfile] = SRTPProtectionProfile.allCases, mtu: Int = 1200) throws {
        self.role = role
        self.mtu = mtu
        let checkable = remoteFingerprints.filter {
            ["sha-1", "sha-224", "sha-256", "sha-384", "sha-512"].contains($0.algorithm.lowercased())
        }
        guard !checkable.isEmpty else { throw DTLSError.noUsableFingerprint(remoteFingerprints.map(\.algorithm)) }
        expectedFingerprints = checkable
        let context = try certificate.context(profiles: profiles)
        self.context = context
        guard let ssl = SSL_new(context) else { throw DTLSError.openSSL("creating the DTLS session", OpenSSLErrors.drain()) }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw DTLSError.openSSL("creating the DTLS session", OpenSSLErrors.drain())
        }
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        _ = COpenSSL_BIO_set_mem_eof_return(readBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)
        // No path-MTU discovery on a memory BIO: fixed MTU.
        _ = SSL_set_options(ssl, UInt64(1) << 12)  // SSL_OP_NO_QUERY_MTU
        _ = COpenSSL_SSL_set_mtu(ssl, mtu)
        // Records never exceed a datagram, so the write buffer need not hold OpenSSL's 16 kB
        // default fragment (about 15 kB less per endpoint; 512 is OpenSSL's floor).
        _ = SSL_ctrl(ssl, SSL_CTRL_SET_MAX_SEND_FRAGMENT, min(max(mtu, 512), 16384), nil)
        // Index 0 is OpenSSL's "app data" slot: the timer and verification callbacks find
        // their endpoint there.
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        DTLS_set_timer_cb(ssl, dtlsRetransmissionTimer)
        if role == .client { SSL_set_connect_state(ssl) } else { SSL_set_accept_state(ssl) }
    }

    deinit {
        SSL_free(ssl)  // frees both BIOs and its reference to the shared context
    }

    /// Starts the handshake (a client sends its ClientHello).
    public func start() -> Output {
        var output = Output()
        drive(&output)
        return output
    }

    /// Handles one received DTLS datagram.
    public func receive(_ datagram: ArraySlice<UInt8>) -> Output {
        var output = Output()
        datagram.withUnsafeBytes { _ = BIO_write(readBIO, $0.baseAddress, Int32($0.count)) }
        drive(&output)
        return output
    }

    /// Time until OpenSSL wants to retransmit, if a handshake flight is outstanding.
    public var timeout: Duration? {
        var tv = timeval()
        guard COpenSSL_DTLSv1_get_timeout(ssl, &tv) == 1 else { return nil }
        return .seconds(Int64(tv.tv_sec)) + .microseconds(Int64(tv.tv_usec))
    }

    /// Retransmits the last flight when its timer expired.
    public func handleTimeout() -> Output {
        var output = Output()
        if COpenSSL_DTLSv1_handle_timeout(ssl) < 0 {
            output.failure = .timedOut
        }
        flush(&output)
        return output
    }

    /// Sends close_notify.
    public func shutdown() -> [[UInt8]] {
        _ = SSL_shutdown(ssl)
        var output = Output()
        flush(&output)
        return output.datagrams
    }

    private func drive(_ output: inout Output) {
        if !isEstablished {
            let result = SSL_do_handshake(ssl)
            if result == 1 {
                isEstablished = true
                do {
                    output.keys = try exportKeys()
                } catch let error as DTLSError {
                    output.failure = error
                } catch {
                    output.failure = .handshakeFailed("\(error)")
                }
            } else {
                let code = SSL_get_error(ssl, result)
                if code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE {
                    output.failure = verificationFailure ?? .handshakeFailed(OpenSSLErrors.drain())
                }
            }
        } else {
            // After the handshake only alerts and close_notify are expected (no DTLS app data).
            var buffer = [UInt8](repeating: 0, count: 2048)
            while true {
                let n = SSL_read(ssl, &buffer, Int32(buffer.count))
                if n > 0 { continue }
                let code = SSL_get_error(ssl, n)
                if code == SSL_ERROR_ZERO_RETURN {
                    output.failure = .closed
                } else if code != SSL_ERROR_WANT_READ && code != SSL_ERROR_WANT_WRITE {
                    output.failure = .handshakeFailed(OpenSSLErrors.drain())
                }
                break
            }
        }
        flush(&output)
    }

    private func flush(_ output: inout Output) {
        let pending = Int(BIO_ctrl_pending(writeBIO))
        guard pending > 0 else { return }
        var flight = [UInt8](repeating: 0, count: pending)
        let read = BIO_read(writeBIO, &flight, Int32(pending))
        guard read > 0 else { return }
        output.datagrams += DTLSRecord.packetize(Array(flight.prefix(Int(read))), mtu: mtu)
    }

    private func exportKeys() throws -> (local: SRTPKeys, remote: SRTPKeys) {
        guard let selected = SSL_get_selected_srtp_profile(ssl),
              let profile = SRTPProtectionProfile(rawValue: String(cString: selected.pointee.name)) else {
            throw DTLSError.noSRTPProfile
        }
        selectedProfile = profile
        var material = [UInt8](repeating: 0, count: profile.keyingMaterialLength)
        let label = "EXTRACTOR-dtls_srtp"
        guard SSL_export_keying_material(ssl, &material, material.count, label, label.utf8.count, nil, 0, 0) == 1,
              let (client, server) = SRTPKeys.fromKeyingMaterial(material, profile: profile) else {
            throw DTLSError.openSSL("exporting SRTP keys", OpenSSLErrors.drain())
        }
        return role == .client ? (client, server) : (server, client)
    }

    /// Called by OpenSSL with the peer's certificate chain.
    fileprivate func verify(_ store: OpaquePointer) -> Bool {
        guard let certificate = X509_STORE_CTX_get0_cert(store) else {
            verificationFailure = .handshakeFailed("the peer sent no certificate")
            return false
        }
        for expected in expectedFingerprints {
            guard let actual = DTLSCertificate.fingerprint(of: certificate, algorithm: expected.algorithm) else { continue }
            if actual.lowercased() != expected.value.lowercased() {
                verificationFailure = .fingerprintMismatch(algorithm: expected.algorithm, expected: expected.value, actual: actual)
                return false
            }
        }
        return true
    }
}

/// OpenSSL's DTLS retransmission timer: asked for the next timeout in microseconds, with the
/// previous one (0 when a flight is first sent).
private let dtlsRetransmissionTimer: @convention(c) (OpaquePointer?, UInt32) -> UInt32 = { ssl, previous in
    func micros(_ duration: Duration) -> UInt32 {
        let (seconds, atto) = duration.components
        return UInt32(clamping: seconds * 1_000_000 + atto / 1_000_000_000_000)
    }
    let maximum = micros(DTLSEndpoint.maximumRetransmissionTimeout)
    if previous > 0 { return previous >= maximum / 2 ? maximum : previous * 2 }
    guard let ssl, let raw = SSL_get_ex_data(ssl, 0) else { return 1_000_000 }
    let endpoint = Unmanaged<DTLSEndpoint>.fromOpaque(raw).takeUnretainedValue()
    return min(max(micros(endpoint.initialRetransmissionTimeout), 1000), maximum)
}

/// OpenSSL's certificate-verification hook, one for every endpoint of a shared context: the
/// endpoint is the one whose SSL is being verified (OpenSSL puts the SSL in the store's ex data
/// before calling the hook).
let dtlsVerifyCertificate: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { store, _ in
    guard let store, let rawSSL = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let endpointPointer = SSL_get_ex_data(OpaquePointer(rawSSL), 0) else { return 0 }
    let endpoint = Unmanaged<DTLSEndpoint>.fromOpaque(endpointPointer).takeUnretainedValue()
    return endpoint.verify(store) ? 1 : 0
}
