import Bytes

/// The header extension block of an RTP packet (RFC 8285): one-byte (`0xBEDE`) or two-byte
/// (`0x100x`) elements. Stored raw, padding included, and read element by element on demand;
/// zero bytes between elements are padding and skipped (mediasoup pads after `mid`).
public struct RTPHeaderExtension: Sendable, Equatable {
    public static let oneByteProfile: UInt16 = 0xBEDE

    public struct Element: Sendable, Equatable {
        public var id: UInt8
        public var data: ArraySlice<UInt8>

        public init(id: UInt8, data: ArraySlice<UInt8>) {
            self.id = id
            self.data = data
        }
    }

    public var profile: UInt16
    /// The extension data, a multiple of 4 bytes.
    public var data: ArraySlice<UInt8>

    public init(profile: UInt16, data: ArraySlice<UInt8>) {
        self.profile = profile
        self.data = data
    }

    public var isOneByte: Bool { profile == Self.oneByteProfile }
    public var isTwoByte: Bool { profile & 0xFFF0 == 0x1000 }

    /// Builds a block from elements, choosing one-byte form when every id is 1...14 and every
    /// length 1...16, else two-byte form; padded with zeros to 32 bits.
    public init(elements: [Element]) {
        let oneByte = elements.allSatisfy { (1...14).contains($0.id) && (1...16).contains($0.data.count) }
        var writer = ByteWriter(capacity: 16)
        for element in elements {
            if oneByte {
                writer.u8(element.id << 4 | UInt8(element.data.count - 1))
            } else {
                writer.u8(element.id)
                writer.u8(UInt8(element.data.count))
            }
            writer.append(element.data)
        }
        writer.zeros((4 - writer.count % 4) % 4)
        self.init(profile: oneByte ? Self.oneByteProfile : 0x1000, data: writer.bytes[...])
    }

    /// All elements, in order. Throws on an element running past the block.
    public func elements() throws -> [Element] {
        var out: [Element] = []
        try forEachElement { out.append($0) }
        return out
    }

    /// The data of element `id`; nil when absent or when the block is malformed.
    public func element(_ id: UInt8) -> ArraySlice<UInt8>? {
        var found: ArraySlice<UInt8>?
        try? forEachElement { element in
            if element.id == id, found == nil { found = element.data }
        }
        return found
    }

    private func forEachElement(_ body: (Element) -> Void) throws {
        guard isOneByte || isTwoByte else { return }  // Other profiles carry no elements we know.
        var index = data.startIndex
        while index < data.endIndex {
            let head = data[index]
            if head == 0 {  // padding
                index += 1
                continue
            }
            let id: UInt8
            let length: Int
            if isOneByte {
                id = head >> 4
                if id == 15 { return }  // reserved: stop parsing (RFC 8285 §4.2)
                length = Int(head & 0x0F) + 1
                index += 1
            } else {
                guard index + 1 < data.endIndex else {
                    throw MalformedPacket("RTP header extension: two-byte element header cut off")
                }
                id = head
                length = Int(data[index + 1])
                index += 2
            }
            guard index + length <= data.endIndex else {
                throw MalformedPacket("RTP header extension: element \(id) runs past the block")
            }
            body(Element(id: id, data: data[index..<(index + length)]))
            index += length
        }
    }
}
