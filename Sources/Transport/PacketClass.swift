import DTLS
import ICE
import RTP

/// What a datagram on the shared port is, by its first byte (RFC 7983 §7).
public enum PacketClass: Sendable, Equatable {
    case stun, dtls, rtp, rtcp, unknown

    public init(_ bytes: ArraySlice<UInt8>) {
        guard let first = bytes.first else {
            self = .unknown
            return
        }
        switch first {
        case 0...3: self = STUNMessage.looksLikeSTUN(bytes) ? .stun : .unknown
        case 20...63: self = .dtls
        case 128...191: self = RTPPacket.isRTCP(bytes) ? .rtcp : .rtp
        default: self = .unknown
        }
    }
}
