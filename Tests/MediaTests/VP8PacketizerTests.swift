import Media
import XCTest

/// RFC 7741 §4.2 payload descriptors.
final class VP8PacketizerTests: XCTestCase {
    func testDescriptorsAndSplitting() {
        var packetizer = VP8Packetizer(pictureID: 0x1234)
        let frame = (0..<2500).map { UInt8(truncatingIfNeeded: $0) }
        let payloads = packetizer.packetize(frame, maxPayloadSize: 1100)
        XCTAssertEqual(payloads.count, 3)
        XCTAssertTrue(payloads.allSatisfy { $0.count <= 1100 })
        // First packet: X=1, S=1, PID=0; then I=1; then M=1 + 15-bit PictureID.
        XCTAssertEqual(Array(payloads[0].prefix(4)), [0x90, 0x80, 0x80 | 0x12, 0x34])
        XCTAssertEqual(Array(payloads[1].prefix(4)), [0x80, 0x80, 0x92, 0x34], "continuations have S=0")
        // The frame comes back in order, and the sizes are even (834/833/833).
        XCTAssertEqual(payloads.flatMap { $0.dropFirst(4) }, frame)
        XCTAssertLessThanOrEqual(payloads.map(\.count).max()! - payloads.map(\.count).min()!, 1)
        // The next frame carries the next PictureID, wrapping at 15 bits.
        XCTAssertEqual(packetizer.pictureID, 0x1235)
        var wrapping = VP8Packetizer(pictureID: 0x7FFF)
        _ = wrapping.packetize([1], maxPayloadSize: 1100)
        XCTAssertEqual(wrapping.pictureID, 0)
    }

    func testSmallFrameIsOnePacket() {
        var packetizer = VP8Packetizer(pictureID: 5)
        let payloads = packetizer.packetize([9, 9, 9], maxPayloadSize: 1100)
        XCTAssertEqual(payloads, [[0x90, 0x80, 0x80, 0x05, 9, 9, 9]])
    }
}

/// Simulcast layers carry TL0PICIDX and TID (RFC 7741 §4.2) so an SFU can switch layers.
final class VP8LayerFieldsTests: XCTestCase {
    func testDescriptorWithLayerFieldsReadsBack() throws {
        var packetizer = VP8Packetizer(pictureID: 0x1234, layerFields: true, tl0PictureIndex: 7)
        let first = packetizer.packetize([0x10, 1, 2, 3], maxPayloadSize: 1100)
        let second = packetizer.packetize([0x11, 4], maxPayloadSize: 1100)
        XCTAssertEqual(Array(first[0].prefix(6)), [0x90, 0xE0, 0x92, 0x34, 7, 0x20])
        XCTAssertEqual(Array(second[0].prefix(6)), [0x90, 0xE0, 0x92, 0x35, 8, 0x20], "PictureID and TL0PICIDX advance per frame")
        let descriptor = try XCTUnwrap(VP8Depacketizer.descriptor(first[0][...]))
        XCTAssertEqual(descriptor.headerSize, 6)
        XCTAssertEqual(descriptor.pictureID, 0x1234)
        XCTAssertTrue(descriptor.startOfPartition)
    }
}
