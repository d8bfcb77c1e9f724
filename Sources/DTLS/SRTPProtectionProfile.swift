/// The DTLS-SRTP protection profiles nacho negotiates (RFC 5764 §4.1.2, RFC 7714), strongest
/// first: mediasoup offers all of them and picks the client's first it supports.
public enum SRTPProtectionProfile: String, Sendable, CaseIterable {
    case aeadAES256GCM = "SRTP_AEAD_AES_256_GCM"
    case aeadAES128GCM = "SRTP_AEAD_AES_128_GCM"
    case aes128CMHMACSHA1_80 = "SRTP_AES128_CM_SHA1_80"

    /// The name OpenSSL uses in `use_srtp` lists and reports back.
    public var openSSLName: String { rawValue }

    public var keyLength: Int {
        switch self {
        case .aeadAES256GCM: return 32
        case .aeadAES128GCM, .aes128CMHMACSHA1_80: return 16
        }
    }

    public var saltLength: Int {
        switch self {
        case .aeadAES256GCM, .aeadAES128GCM: return 12
        case .aes128CMHMACSHA1_80: return 14
        }
    }

    /// Bytes of keying material to export from DTLS: two keys and two salts.
    public var keyingMaterialLength: Int { 2 * (keyLength + saltLength) }
}

/// Keys for one SRTP direction.
public struct SRTPKeys: Sendable, Equatable {
    public var profile: SRTPProtectionProfile
    public var key: [UInt8]
    public var salt: [UInt8]

    public init(profile: SRTPProtectionProfile, key: [UInt8], salt: [UInt8]) {
        self.profile = profile
        self.key = key
        self.salt = salt
    }

    /// Splits exported keying material (client key | server key | client salt | server salt,
    /// RFC 5764 §4.2) into (client-write, server-write) keys.
    public static func fromKeyingMaterial(_ material: [UInt8], profile: SRTPProtectionProfile) -> (client: SRTPKeys, server: SRTPKeys)? {
        let k = profile.keyLength
        let s = profile.saltLength
        guard material.count == 2 * (k + s) else { return nil }
        let client = SRTPKeys(profile: profile, key: Array(material[0..<k]), salt: Array(material[(2 * k)..<(2 * k + s)]))
        let server = SRTPKeys(profile: profile, key: Array(material[k..<(2 * k)]), salt: Array(material[(2 * k + s)..<(2 * k + 2 * s)]))
        return (client, server)
    }
}
