internal import CSRTP
#if canImport(Glibc)
import Glibc
#endif
import DTLS
import Foundation

/// One direction of SRTP/SRTCP on libsrtp2 (RFC 3711): outbound contexts protect, inbound
/// ones unprotect. Replay protection is on with a window of 1024 packets, larger than any
/// NACK history, and repeated transmissions are allowed so NACK resends go through.
/// Not thread-safe: each transport owns its contexts and uses them from one place.
public final class SRTPContext {
    public enum Direction: Sendable { case inbound, outbound }

    private var session: srtp_t?
    public let direction: Direction
    public let profile: SRTPProtectionProfile

    /// Bytes libsrtp may append when protecting (authentication tag, MKI).
    public static let maxTrailer = Int(SRTP_MAX_TRAILER_LEN) + 4

    public init(keys: SRTPKeys, direction: Direction, replayWindow: Int = 1024) throws {
        self.direction = direction
        self.profile = keys.profile
        session = try Self.makeSession(keys: keys, direction: direction, replayWindow: replayWindow)
    }

    /// A libsrtp session (an `srtp_t`) for one direction with nacho's policy. Package-visible
    /// so the benchmark's raw-libsrtp floor runs the same policy as this context does.
    package static func makeSession(keys: SRTPKeys, direction: Direction, replayWindow: Int) throws -> OpaquePointer? {
        SRTPLibrary.initialize()
        var policy = srtp_policy_t()
        let profileID: srtp_profile_t
        switch keys.profile {
        case .aeadAES256GCM: profileID = srtp_profile_aead_aes_256_gcm
        case .aeadAES128GCM: profileID = srtp_profile_aead_aes_128_gcm
        case .aes128CMHMACSHA1_80: profileID = srtp_profile_aes128_cm_sha1_80
        }
        try SRTPError.check(srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profileID), "policy")
        try SRTPError.check(srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profileID), "policy")
        policy.ssrc.type = direction == .inbound ? ssrc_any_inbound : ssrc_any_outbound
        policy.window_size = UInt(replayWindow)
        policy.allow_repeat_tx = 1
        policy.next = nil
        var master = keys.key + keys.salt
        var created: srtp_t?
        let status = master.withUnsafeMutableBufferPointer { buffer -> srtp_err_status_t in
            policy.key = buffer.baseAddress
            return srtp_create(&created, &policy)
        }
        // Do not keep key material around longer than needed.
        for i in master.indices { master[i] = 0 }
        try SRTPError.check(status, "srtp_create")
        return created
    }

    deinit {
        if let session { srtp_dealloc(session) }
    }

    /// Encrypts and authenticates an RTP packet in place (it grows by the tag).
    public func protect(_ packet: inout [UInt8]) throws {
        try run(&packet, "protect", srtp_protect)
    }

    public func protectRTCP(_ packet: inout [UInt8]) throws {
        try run(&packet, "protect RTCP", srtp_protect_rtcp)
    }

    /// Verifies and decrypts an SRTP packet in place (it shrinks). Throws on authentication
    /// failure or replay.
    public func unprotect(_ packet: inout [UInt8]) throws {
        try run(&packet, "unprotect", srtp_unprotect)
    }

    public func unprotectRTCP(_ packet: inout [UInt8]) throws {
        try run(&packet, "unprotect RTCP", srtp_unprotect_rtcp)
    }

    /// Protects the RTP packet of `length` bytes at the start of `buffer` in place; `buffer`
    /// must have room for `maxTrailer` more. Returns the protected length.
    public func protect(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        try run(buffer, length: length, "protect", srtp_protect)
    }

    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws -> Int {
        try run(buffer, length: length, "protect RTCP", srtp_protect_rtcp)
    }

    private func run(_ buffer: UnsafeMutableRawBufferPointer, length: Int, _ what: String,
                     _ body: (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t) throws -> Int {
        precondition(buffer.count >= length + Self.maxTrailer, "no room for the SRTP trailer")
        var count = Int32(length)
        let status = body(session, buffer.baseAddress, &count)
        guard status == srtp_err_status_ok else { throw SRTPError(status: status, operation: what) }
        return Int(count)
    }

    private func run(_ packet: inout [UInt8], _ what: String,
                     _ body: (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t) throws {
        let originalCount = packet.count
        packet.append(contentsOf: repeatElement(0, count: Self.maxTrailer))
        var length = Int32(originalCount)
        let status = packet.withUnsafeMutableBytes { body(session, $0.baseAddress, &length) }
        guard status == srtp_err_status_ok else {
            packet.removeLast(Self.maxTrailer)
            throw SRTPError(status: status, operation: what)
        }
        packet.removeLast(packet.count - Int(length))
    }
}

/// A libsrtp2 failure, by kind.
public struct SRTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable { case authenticationFailed, replay, other }
    public var kind: Kind
    public var code: Int32
    public var operation: String

    init(status: srtp_err_status_t, operation: String) {
        self.code = Int32(status.rawValue)
        self.operation = operation
        switch status {
        case srtp_err_status_auth_fail: kind = .authenticationFailed
        case srtp_err_status_replay_fail, srtp_err_status_replay_old: kind = .replay
        default: kind = .other
        }
    }

    static func check(_ status: srtp_err_status_t, _ operation: String) throws {
        guard status == srtp_err_status_ok else { throw SRTPError(status: status, operation: operation) }
    }

    public var description: String {
        switch kind {
        case .authenticationFailed: return "SRTP \(operation): authentication failed"
        case .replay: return "SRTP \(operation): replayed or too old packet"
        case .other: return "SRTP \(operation): libsrtp error \(code)"
        }
    }
}

/// `srtp_init` once per process, after NSS (when libsrtp2 is built on it, as Debian's is) was
/// set up for speed rather than space. libsrtp initializes NSS with NSS_INIT_OPTIMIZESPACE,
/// which gives the softoken 32 session buckets behind one lock, and every AES-GCM packet opens
/// a session whose new handle is looked up in its bucket's list. With 1,000 received streams
/// that walk was 8 % of a 250-bot process's CPU, and the single lock made both event loops
/// wait on each other. The first NSS_InitContext of a process sets the softoken's tables;
/// libsrtp's own calls then only take references.
enum SRTPLibrary {
    private static let once: Void = {
        initializeNSSForSpeed()
        _ = srtp_init()
    }()

    static func initialize() { _ = once }

    private static func initializeNSSForSpeed() {
        #if canImport(Glibc)
        typealias InitContext = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                                UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UInt32) -> OpaquePointer?
        // Not there: libsrtp2 on OpenSSL, nothing to set up. Looked up by name so that nacho
        // does not link NSS itself.
        guard let symbol = dlsym(nil, "NSS_InitContext") else { return }
        let initContext = unsafeBitCast(symbol, to: InitContext.self)
        // libsrtp's own flags (nss.h: READONLY, NOCERTDB, NOMODDB, FORCEOPEN) without
        // OPTIMIZESPACE (0x20). The context lives as long as the process.
        _ = initContext("", "", "", "", nil, 0x1 | 0x2 | 0x4 | 0x8)
        #endif
    }
}
