import Bytes

/// RTCP Source Description (RFC 3550 §6.5, PT 202): chunks of items per SSRC, each chunk ended
/// by a null item and zero-padded to 32 bits (mediasoup sends one CNAME chunk per stream).
public struct SourceDescription: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public static let cname: UInt8 = 1
        /// An item's length is one byte: longer text is cut when written.
        public static let maxLength = 255
        public var type: UInt8
        public var text: ArraySlice<UInt8>

        /// What goes on the wire: at most `maxLength` bytes.
        var wireText: ArraySlice<UInt8> { text.prefix(Self.maxLength) }

        public init(type: UInt8, text: ArraySlice<UInt8>) {
            self.type = type
            self.text = text
        }
    }

    public struct Chunk: Sendable, Equatable {
        public var ssrc: UInt32
        public var items: [Item]

        public init(ssrc: UInt32, items: [Item]) {
            self.ssrc = ssrc
            self.items = items
        }

        public var cname: String? {
            items.first { $0.type == Item.cname }.map { String(decoding: $0.text, as: UTF8.self) }
        }

        var size: Int {
            let itemBytes = items.reduce(0) { $0 + 2 + $1.wireText.count } + 1  // + null item
            return 4 + (itemBytes + 3) / 4 * 4
        }
    }

    public var chunks: [Chunk]

    public init(chunks: [Chunk]) { self.chunks = chunks }

    /// A CNAME longer than an item holds is cut at a character boundary within 255 bytes.
    public init(cname: String, ssrc: UInt32) {
        var length = 0
        let text = cname.prefix { character in
            length += character.utf8.count
            return length <= Item.maxLength
        }
        chunks = [Chunk(ssrc: ssrc, items: [Item(type: Item.cname, text: Array(text.utf8)[...])])]
    }

    public init(parsing bytes: ArraySlice<UInt8>) throws {
        let (header, body) = try RTCPHeader.parse(bytes, expecting: RTCPPacketType.sourceDescription)
        var reader = ByteReader(body, what: "RTCP SDES")
        var chunks: [Chunk] = []
        for _ in 0..<Int(header.count) {
            let start = reader.consumed
            let ssrc = try reader.u32("a chunk SSRC")
            var items: [Item] = []
            while true {
                let type = try reader.u8("an item type")
                if type == 0 { break }
                let length = Int(try reader.u8("an item length"))
                items.append(Item(type: type, text: try reader.take(length, "an item")))
            }
            // Chunks end on a 32-bit boundary (counted from the chunk start).
            let used = reader.consumed - start
            try reader.skip((4 - used % 4) % 4, "chunk padding")
            chunks.append(Chunk(ssrc: ssrc, items: items))
        }
        self.chunks = chunks
    }

    public var serializedSize: Int { 4 + chunks.reduce(0) { $0 + $1.size } }

    public func write(to writer: inout ByteWriter) {
        RTCPHeader.write(count: UInt8(chunks.count), packetType: RTCPPacketType.sourceDescription,
                         bodyLength: serializedSize - 4, to: &writer)
        for chunk in chunks {
            let start = writer.count
            writer.u32(chunk.ssrc)
            for item in chunk.items {
                let text = item.wireText
                writer.u8(item.type)
                writer.u8(UInt8(text.count))
                writer.append(text)
            }
            writer.u8(0)
            writer.zeros((4 - (writer.count - start) % 4) % 4)
        }
    }
}
