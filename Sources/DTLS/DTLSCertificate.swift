internal import COpenSSL
import Foundation
import Synchronization

/// An ephemeral self-signed ECDSA P-256 certificate, as WebRTC endpoints use: its fingerprint
/// goes to the server in `connectTransport`. Immutable once made, so one can serve every
/// transport of the process (hundreds of bots share it), and so can its OpenSSL context.
/// Unchecked because it holds OpenSSL pointers; sound because key and certificate are set once
/// in `init` and never written again (OpenSSL only reads a key and certificate that SSL objects
/// use), and the contexts are made under `contexts`' lock and never changed once made.
public final class DTLSCertificate: @unchecked Sendable {
    let key: OpaquePointer
    let certificate: OpaquePointer
    /// One SSL_CTX per offered profile list, made on first use and shared by every endpoint of
    /// this certificate: a context is about 14 kB, and everything per association lives in its
    /// SSL. Sharing is safe across threads: SSL_new only takes a reference, and nothing writes
    /// a context after it is made (no session cache, the peer is verified per SSL).
    private let contexts = Mutex<[String: OpaquePointer]>([:])

    /// `sha-256` fingerprint, upper-case hex with colons.
    public let sha256Fingerprint: String

    public static func generate(commonName: String = "nacho", validity: TimeInterval = 30 * 86400) throws -> DTLSCertificate {
        guard let key = COpenSSL_EVP_EC_gen_P256() else { throw DTLSError.openSSL("generating the P-256 key", OpenSSLErrors.drain()) }
        guard let cert = X509_new() else {
            EVP_PKEY_free(key)
            throw DTLSError.openSSL("allocating the certificate", OpenSSLErrors.drain())
        }
        var ok = X509_set_version(cert, 2) == 1
        var serial = [UInt8](repeating: 0, count: 8)
        _ = RAND_bytes(&serial, 8)
        ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(cert), Int(serial.withUnsafeBytes { $0.load(as: UInt32.self) } & 0x7FFF_FFFF)) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -86400) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(cert), Int(validity)) != nil
        ok = ok && X509_set_pubkey(cert, key) == 1
        let name = X509_get_subject_name(cert)
        ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
        ok = ok && X509_set_issuer_name(cert, name) == 1
        ok = ok && X509_sign(cert, key, EVP_sha256()) > 0
        guard ok else {
            X509_free(cert)
            EVP_PKEY_free(key)
            throw DTLSError.openSSL("signing the certificate", OpenSSLErrors.drain())
        }
        return DTLSCertificate(key: key, certificate: cert)
    }

    private init(key: OpaquePointer, certificate: OpaquePointer) {
        self.key = key
        self.certificate = certificate
        self.sha256Fingerprint = Self.fingerprint(of: certificate, algorithm: "sha-256") ?? ""
    }

    deinit {
        // Endpoints still alive hold their own references to a context.
        contexts.withLock { for context in $0.values { SSL_CTX_free(context) } }
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// The shared DTLS context for this certificate offering `profiles`, made on first use.
    func context(profiles: [SRTPProtectionProfile]) throws -> OpaquePointer {
        let offered = profiles.map(\.openSSLName).joined(separator: ":")
        return try contexts.withLock { contexts in
            if let context = contexts[offered] { return context }
            let context = try makeContext(offering: offered)
            contexts[offered] = context
            return context
        }
    }

    private func makeContext(offering profiles: String) throws -> OpaquePointer {
        guard let context = SSL_CTX_new(DTLS_method()) else { throw DTLSError.openSSL("creating the DTLS context", OpenSSLErrors.drain()) }
        _ = COpenSSL_SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION)
        guard SSL_CTX_use_certificate(context, certificate) == 1, SSL_CTX_use_PrivateKey(context, key) == 1 else {
            SSL_CTX_free(context)
            throw DTLSError.openSSL("loading the certificate", OpenSSLErrors.drain())
        }
        // use_srtp: 0 means success for this call.
        guard SSL_CTX_set_tlsext_use_srtp(context, profiles) == 0 else {
            SSL_CTX_free(context)
            throw DTLSError.openSSL("offering SRTP profiles", OpenSSLErrors.drain())
        }
        // No session cache: no resumption is ever offered, and a server-side cache in a shared
        // context would keep every association's session.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_SESS_CACHE_MODE, Int(SSL_SESS_CACHE_OFF), nil)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        SSL_CTX_set_cert_verify_callback(context, dtlsVerifyCertificate, nil)
        return context
    }

    /// The fingerprint of a certificate with `algorithm` (`sha-1` ... `sha-512`), formatted as
    /// in SDP and mediasoup's `dtlsParameters`.
    static func fingerprint(of certificate: OpaquePointer, algorithm: String) -> String? {
        let digest: OpaquePointer?
        switch algorithm.lowercased() {
        case "sha-1": digest = EVP_sha1()
        case "sha-224": digest = EVP_sha224()
        case "sha-256": digest = EVP_sha256()
        case "sha-384": digest = EVP_sha384()
        case "sha-512": digest = EVP_sha512()
        default: return nil
        }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, digest, &out, &length) == 1 else { return nil }
        return out.prefix(Int(length)).map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}

enum OpenSSLErrors {
    /// Empties OpenSSL's error queue into one line.
    static func drain() -> String {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while COpenSSL_ERR_get_error_all_reason(&buffer, buffer.count) != 0 {
            messages.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return messages.isEmpty ? "no details" : messages.joined(separator: "; ")
    }
}
