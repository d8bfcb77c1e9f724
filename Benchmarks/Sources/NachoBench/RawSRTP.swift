import CSRTP
import DTLS
import SRTP

/// libsrtp2 called directly, the floor nacho's SRTP path is compared with: one srtp_t, packets
/// copied into one preallocated buffer, protected or unprotected there. No Swift arrays, no
/// allocation per packet.
final class RawSRTP {
    private var session: srtp_t?
    private let buffer: UnsafeMutableRawPointer
    private let inbound: Bool
    static let bufferSize = 2048

    /// srtp_init once per process (a second call runs libsrtp's self-tests again); the
    /// status is not checked as SRTPContext may have initialized the library already.
    private static let initialized: Bool = { _ = srtp_init(); return true }()

    init(keys: SRTPKeys, inbound: Bool) {
        precondition(Self.initialized, "srtp_init failed")
        var policy = srtp_policy_t()
        let profile: srtp_profile_t
        switch keys.profile {
        case .aeadAES256GCM: profile = srtp_profile_aead_aes_256_gcm
        case .aeadAES128GCM: profile = srtp_profile_aead_aes_128_gcm
        case .aes128CMHMACSHA1_80: profile = srtp_profile_aes128_cm_sha1_80
        }
        _ = srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profile)
        _ = srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profile)
        policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound
        policy.window_size = 1024
        policy.allow_repeat_tx = 1
        var master = keys.key + keys.salt
        var created: srtp_t?
        let status = master.withUnsafeMutableBufferPointer { key -> srtp_err_status_t in
            policy.key = key.baseAddress
            return srtp_create(&created, &policy)
        }
        precondition(status == srtp_err_status_ok, "srtp_create failed: \(status)")
        session = created
        self.inbound = inbound
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        srtp_dealloc(session)
        buffer.deallocate()
    }

    /// Copies each packet into the buffer and unprotects (inbound) or protects (outbound) it
    /// there; returns the resulting lengths added up.
    func run(over packets: [[UInt8]]) -> Int {
        var total = 0
        for packet in packets {
            total &+= packet.withUnsafeBytes { bytes in
                buffer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                var length = Int32(bytes.count)
                let status = inbound ? srtp_unprotect(session, buffer, &length) : srtp_protect(session, buffer, &length)
                precondition(status == srtp_err_status_ok, "libsrtp failed on a packet nacho made: \(status)")
                return Int(length)
            }
        }
        return total
    }
}
