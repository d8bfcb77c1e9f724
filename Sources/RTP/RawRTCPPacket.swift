import Bytes

/// An RTCP packet nacho does not interpret (XR, APP, unknown feedback formats): kept whole so
/// that an unknown type never fails a compound parse.
public struct RawRTCPPacket: Sendable, Equatable {
    public var header: RTCPHeader
    public var bytes: ArraySlice<UInt8>

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, _) = try RTCPHeader.parse(bytes)
        self.header = header
        self.bytes = bytes.prefix(header.length)
    }

    public var serializedSize: Int { bytes.count }

    public func write(to writer: inout ByteWriter) { writer.append(bytes) }
}
