import CSRTP
import DTLS
import SRTP

/// libsrtp2 called directly, the floor nacho's SRTP path is compared with: one srtp_t (with
/// the policy SRTPContext uses), packets copied into one preallocated buffer, protected
/// (outbound) or unprotected (inbound) there. No Swift arrays, no allocation per packet.
final class RawSRTP {
    private typealias Operation = @convention(c) (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t

    private let session: srtp_t?
    private let operation: Operation
    private let buffer: UnsafeMutableRawPointer
    static let bufferSize = 2048

    init(keys: SRTPKeys, direction: SRTPContext.Direction) {
        do {
            session = try SRTPContext.makeSession(keys: keys, direction: direction, replayWindow: 1024)
        } catch {
            preconditionFailure("srtp_create failed: \(error)")
        }
        operation = direction == .inbound ? srtp_unprotect : srtp_protect
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        srtp_dealloc(session)
        buffer.deallocate()
    }

    /// Copies each packet into the buffer and protects or unprotects it there; returns the
    /// sum of the resulting lengths (for the benchmark to keep observable).
    func run(_ packets: [[UInt8]]) -> Int {
        var total = 0
        for packet in packets {
            total &+= packet.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(start: buffer, count: Self.bufferSize).copyMemory(from: bytes)
                var length = Int32(bytes.count)
                let status = operation(session, buffer, &length)
                precondition(status == srtp_err_status_ok, "libsrtp failed: \(status)")
                return Int(length)
            }
        }
        return total
    }
}
