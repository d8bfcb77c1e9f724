internal import COpenSSL
import Foundation

/// An ephemeral self-signed ECDSA P-256 certificate, as WebRTC endpoints use: its fingerprint
/// goes to the server in `connectTransport`. Immutable once made, so one can serve every
/// transport of the process (hundreds of bots share it).
/// Unchecked because it holds OpenSSL pointers; sound because they are set once in `init`,
/// never written again, and OpenSSL only reads a key and certificate that SSL objects use.
public final class DTLSCertificate: @unchecked Sendable {
    let key: OpaquePointer
    let certificate: OpaquePointer

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
        X509_free(certificate)
        EVP_PKEY_free(key)
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
