import Bytes

/// Generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1): lost packets as PID + a bitmask of the 16
/// following sequence numbers.
public struct GenericNACK: Sendable, Equatable {
    public static let format: UInt8 = 1

    public struct Item: Sendable, Equatable, FeedbackControlItem {
        public var packetId: UInt16
        public var lostBitmask: UInt16

        public init(packetId: UInt16, lostBitmask: UInt16 = 0) {
            self.packetId = packetId
            self.lostBitmask = lostBitmask
        }

        /// Every sequence number this item reports lost.
        public var sequenceNumbers: [UInt16] {
            var out = [packetId]
            for bit in 0..<16 where lostBitmask & (1 << bit) != 0 {
                out.append(packetId &+ UInt16(bit + 1))
            }
            return out
        }

        static let size = 4

        init(reading reader: inout ByteReader) throws {
            packetId = try reader.u16("a PID")
            lostBitmask = try reader.u16("a BLP")
        }

        func write(to writer: inout ByteWriter) {
            writer.u16(packetId)
            writer.u16(lostBitmask)
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var items: [Item]

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, items: [Item]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.items = items
    }

    /// Packs sequence numbers (any order) into as few items as possible.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lost: [UInt16]) {
        var items: [Item] = []
        for seq in lost.sorted(by: { Int16(bitPattern: $0 &- $1) < 0 }) {
            if var last = items.last {
                let distance = seq &- last.packetId
                if distance >= 1 && distance <= 16 {
                    last.lostBitmask |= 1 << (distance - 1)
                    items[items.count - 1] = last
                    continue
                }
                if distance == 0 { continue }
            }
            items.append(Item(packetId: seq))
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, items: items)
    }

    public var lostSequenceNumbers: [UInt16] { items.flatMap(\.sequenceNumbers) }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        var common = try RTCPFeedbackHeader(parsing: bytes, packetType: RTCPPacketType.transportFeedback,
                                            format: Self.format, what: "RTCP NACK")
        self.init(senderSSRC: common.senderSSRC, mediaSSRC: common.mediaSSRC, items: try common.readItems("items"))
    }

    public var serializedSize: Int { RTCPFeedbackHeader.size(of: items) }

    public func write(to writer: inout ByteWriter) {
        RTCPFeedbackHeader.write(packetType: RTCPPacketType.transportFeedback, format: Self.format,
                                 senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, items: items, to: &writer)
    }
}
