internal import COpenSSL

/// HMAC-SHA1 for STUN MESSAGE-INTEGRITY, via OpenSSL.
enum HMACSHA1 {
    static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 20
        message.withUnsafeBufferPointer { m in
            key.withUnsafeBufferPointer { k in
                _ = HMAC(EVP_sha1(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
            }
        }
        return out
    }
}
