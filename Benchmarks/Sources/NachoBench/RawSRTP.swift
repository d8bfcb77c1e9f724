import CSRTP
import DTLS
import SRTP

/// libsrtp2 called directly, the floor nacho's SRTP path is compared with: one srtp_t, packets
/// copied into one preallocated buffer, protected or unprotected there. No Swift arrays, no
/// allocation per packet.
final class RawSRTP {
    private var session: srtp_t?
    private let buffer: UnsafeMutableRawPointer
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
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        srtp_dealloc(session)
        buffer.deallocate()
    }

    /// Copies `packet` into the buffer and unprotects it there; returns the plain length.
    @inline(__always)
    func unprotect(_ packet: UnsafeRawBufferPointer) -> Int {
        buffer.copyMemory(from: packet.baseAddress!, byteCount: packet.count)
        var length = Int32(packet.count)
        let status = srtp_unprotect(session, buffer, &length)
        precondition(status == srtp_err_status_ok, "srtp_unprotect failed: \(status)")
        return Int(length)
    }

    /// Copies `packet` into the buffer and protects it there; returns the protected length.
    @inline(__always)
    func protect(_ packet: UnsafeRawBufferPointer) -> Int {
        buffer.copyMemory(from: packet.baseAddress!, byteCount: packet.count)
        var length = Int32(packet.count)
        let status = srtp_protect(session, buffer, &length)
        precondition(status == srtp_err_status_ok, "srtp_protect failed: \(status)")
        return Int(length)
    }
}
