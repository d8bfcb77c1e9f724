import Bytes
import Media
import XCTest

/// The RFC 9628 payload descriptor, the VP9 uncompressed header and superframe indexes: on
/// the captured ffmpeg packets (one-byte descriptors) and on browser-style descriptors built
/// here byte by byte (picture IDs, layer indices, P_DIFFs, scalability structures).
final class VP9PayloadTests: XCTestCase {
    func testCapturedDescriptors() throws {
        let cases: [(String, first: UInt8, start: Bool, end: Bool)] = [
            ("rtp-vp9-keyframe-first", 0x08, true, false), ("rtp-vp9-keyframe-last", 0x04, false, true), ("rtp-vp9-delta", 0x0C, true, true),
        ]
        for (name, first, start, end) in cases {
            let packet = try MediaFixture.packet(name)
            XCTAssertEqual(packet.payload.first, first, name)
            let descriptor = try VP9PayloadDescriptor(parsing: packet.payload)
            XCTAssertEqual(descriptor.size, 1, name)
            XCTAssertEqual(descriptor.startOfFrame, start, name)
            XCTAssertEqual(descriptor.endOfFrame, end, name)
            XCTAssertNil(descriptor.pictureID, name)
            XCTAssertNil(descriptor.spatialID, name)
            XCTAssertFalse(descriptor.interPicturePredicted, "ffmpeg never sets P: \(name)")
            XCTAssertNil(descriptor.scalabilityStructure, name)
        }
    }

    func testBrowserStyleDescriptors() throws {
        // libwebrtc's key picture, non-flexible: I, L, B, V; 15-bit picture ID 0x1234; T0 S0;
        // TL0PICIDX 5; SS for 3 spatial layers with sizes and a one-picture group.
        let key: [UInt8] = [0xAA, 0x92, 0x34, 0x00, 0x05,
                            0x58, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xD0,
                            0x01, 0x04, 0x01, 0x82]
        let k = try VP9PayloadDescriptor(parsing: key[...])
        XCTAssertEqual(k.pictureID, 0x1234)
        XCTAssertTrue(k.extendedPictureID)
        XCTAssertFalse(k.interPicturePredicted)
        XCTAssertFalse(k.flexibleMode)
        XCTAssertEqual(k.temporalID, 0)
        XCTAssertEqual(k.spatialID, 0)
        XCTAssertEqual(k.tl0PictureIndex, 5)
        XCTAssertTrue(k.startOfFrame)
        XCTAssertFalse(k.endOfFrame)
        let ss = try XCTUnwrap(k.scalabilityStructure)
        XCTAssertEqual(ss.spatialLayers, 3)
        XCTAssertEqual(ss.resolutions?.map(\.width), [320, 640, 1280])
        XCTAssertEqual(ss.resolutions?.map(\.height), [180, 360, 720])
        XCTAssertEqual(ss.pictureGroup, [.init(temporalID: 0, switchingUpPoint: false, referenceDiffs: [1])])
        XCTAssertEqual(k.size, key.count - 1, "the VP9 data (0x82...) starts after the SS")

        // Flexible inter frame: 7-bit picture ID 0x12, T2 U S1 D, two references (1 and 2).
        let flexible: [UInt8] = [0xFC, 0x12, 0x53, 0x03, 0x04, 0x86]
        let f = try VP9PayloadDescriptor(parsing: flexible[...])
        XCTAssertEqual(f.pictureID, 0x12)
        XCTAssertFalse(f.extendedPictureID)
        XCTAssertTrue(f.flexibleMode)
        XCTAssertTrue(f.interPicturePredicted)
        XCTAssertEqual(f.temporalID, 2)
        XCTAssertTrue(f.switchingUpPoint)
        XCTAssertEqual(f.spatialID, 1)
        XCTAssertTrue(f.interLayerDependency)
        XCTAssertNil(f.tl0PictureIndex, "no TL0PICIDX in flexible mode")
        XCTAssertEqual(f.referenceDiffs, [1, 2])
        XCTAssertEqual(f.size, 5)

        // Picture ID only, Z set; SS without sizes nor group.
        let z = try VP9PayloadDescriptor(parsing: [0x8F, 0x7F, 0x00, 0x9D][...])
        XCTAssertEqual(z.pictureID, 127)
        XCTAssertTrue(z.notReferenceForUpperLayers)
        XCTAssertEqual(z.scalabilityStructure, .init(spatialLayers: 1, resolutions: nil, pictureGroup: nil))
        XCTAssertEqual(z.size, 3)

        // What nacho's packetizer writes reads back the same.
        let written = VP9PayloadDescriptor.serialize(pictureID: 0x1234, interPicturePredicted: false, startOfFrame: true, endOfFrame: false,
                                                     layer: (0, false, 0, false, 5), scalabilityStructure: ss)
        XCTAssertEqual(written, Array(key.dropLast()))
    }

    func testMalformedDescriptorsThrow() {
        let refused: [(String, [UInt8], String)] = [
            ("empty", [], "truncated at the first byte"),
            ("I without the picture ID", [0x88], "truncated at the picture ID"),
            ("M without the second byte", [0x88, 0x80], "extended picture ID"),
            ("L without layer byte", [0x28], "layer indices"),
            ("non-flexible L without TL0PICIDX", [0x28, 0x00], "TL0PICIDX"),
            ("P_DIFF missing", [0xD8, 0x01], "P_DIFF"),
            ("P_DIFF of 0", [0xD8, 0x01, 0x00], "P_DIFF of 0"),
            ("four P_DIFFs", [0xD8, 0x01, 0x03, 0x05, 0x07, 0x08], "more than 3 P_DIFF"),
            ("N set on the last P_DIFF", [0xD8, 0x01, 0x03], "P_DIFF"),
            ("SS missing", [0x0A], "scalability structure"),
            ("SS sizes cut", [0x0A, 0x30, 0x01, 0x40, 0x00], "spatial layer"),
            ("SS group count missing", [0x0A, 0x08], "N_G"),
            ("SS group entry cut", [0x0A, 0x08, 0x02, 0x04, 0x01], "picture group"),
            ("SS group P_DIFF cut", [0x0A, 0x08, 0x01, 0x08, 0x01], "picture group P_DIFF"),
        ]
        for (name, bytes, expected) in refused {
            XCTAssertThrowsError(try VP9PayloadDescriptor(parsing: bytes[...]), name) {
                XCTAssertTrue("\($0)".contains(expected), "\(name): \($0)")
            }
        }
    }

    /// A frame header written bit by bit.
    static func header(_ fields: [(value: UInt32, bits: Int)]) -> [UInt8] {
        var bits: [Bool] = []
        for (value, count) in fields { for shift in stride(from: count - 1, through: 0, by: -1) { bits.append(value >> UInt32(shift) & 1 == 1) } }
        while bits.count % 8 != 0 { bits.append(false) }
        return stride(from: 0, to: bits.count, by: 8).map { start in bits[start..<start + 8].reduce(0) { $0 << 1 | ($1 ? 1 : 0) } }
    }

    func testUncompressedHeaders() throws {
        let key = try VP9FrameHeader(parsing: MediaFixture.packet("rtp-vp9-keyframe-first").payload.dropFirst())
        XCTAssertEqual(key.profile, 0)
        XCTAssertTrue(key.isKeyFrame)
        XCTAssertTrue(key.showFrame)
        XCTAssertEqual(key.bitDepth, 8)
        XCTAssertEqual(key.width, 320)
        XCTAssertEqual(key.height, 240)
        let delta = try VP9FrameHeader(parsing: MediaFixture.packet("rtp-vp9-delta").payload.dropFirst())
        XCTAssertFalse(delta.isKeyFrame)
        XCTAssertNil(delta.width, "an inter frame takes its size from a reference")

        let sync: (UInt32, Int) = (0x49_83_42, 24)
        let size: [(UInt32, Int)] = [(1279, 16), (719, 16), (0, 1)]
        let cases: [(String, [(UInt32, Int)], profile: Int, key: Bool, depth: Int?, width: Int?, subsampled: Bool?)] = [
            // marker 10, profile bits low/high, [reserved], show_existing, type, show, error_res
            ("profile 2 key, 10-bit", [(2, 2), (0, 1), (1, 1), (0, 1), (0, 1), (1, 1), (0, 1), sync, (0, 1), (2, 3), (0, 1)] + size,
             2, true, 10, 1280, true),
            ("profile 2 key, 12-bit", [(2, 2), (0, 1), (1, 1), (0, 1), (0, 1), (1, 1), (0, 1), sync, (1, 1), (2, 3), (0, 1)] + size,
             2, true, 12, 1280, true),
            ("profile 1 key, 4:4:4", [(2, 2), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), sync, (2, 3), (0, 1), (0, 1), (0, 1), (0, 1)] + size,
             1, true, 8, 1280, false),
            ("profile 3 key, RGB 12-bit", [(2, 2), (1, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), sync, (1, 1), (7, 3), (0, 1)] + size,
             3, true, 12, 1280, false),
            ("profile 0 intra-only (hidden)", [(2, 2), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (1, 1), (0, 2), sync, (0xFF, 8)] + size,
             0, false, 8, 1280, true),
            ("inter frame with an explicit size", [(2, 2), (0, 1), (0, 1), (0, 1), (1, 1), (1, 1), (1, 1), (0x01, 8),
                                                   (0, 4), (1, 4), (2, 4), (0, 1), (0, 1), (0, 1)] + size, 0, false, nil, 1280, nil),
            ("show existing frame", [(2, 2), (0, 1), (0, 1), (1, 1), (3, 3)], 0, false, nil, nil, nil),
        ]
        for (name, fields, profile, isKey, depth, width, subsampled) in cases {
            let parsed = try VP9FrameHeader(parsing: Self.header(fields)[...])
            XCTAssertEqual(parsed.profile, profile, name)
            XCTAssertEqual(parsed.isKeyFrame, isKey, name)
            XCTAssertEqual(parsed.bitDepth, depth, name)
            XCTAssertEqual(parsed.width, width, name)
            XCTAssertEqual(parsed.subsamplingX, subsampled, name)
            if width != nil { XCTAssertEqual(parsed.height, 720, name) }
        }
        let refused: [(String, [UInt8])] = [
            ("empty", []),
            ("frame marker 0", [0x02, 0x49, 0x83, 0x42]),
            ("no sync code", Self.header([(2, 2), (0, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0x49_83_43, 24)] + size)),
            ("RGB in profile 0", Self.header([(2, 2), (0, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), sync, (7, 3)] + size)),
            ("profile 3 reserved bit", [0xB8, 0x00]),
            ("key frame cut before its size", [0x82, 0x49, 0x83, 0x42, 0x00]),
        ]
        for (name, bytes) in refused { XCTAssertThrowsError(try VP9FrameHeader(parsing: bytes[...]), name) }
    }

    func testSuperframes() {
        let frames: [[UInt8]] = [[0x86, 1, 2, 3], Array(repeating: 7, count: 300), [0x88]]
        let chunk = VP9Superframe.build(frames)
        // Index: marker 110 01 010 (2 bytes a size, 3 frames), sizes little-endian, marker again.
        XCTAssertEqual(Array(chunk.suffix(8)), [0xCA, 4, 0, 0x2C, 0x01, 1, 0, 0xCA])
        XCTAssertEqual(VP9Superframe.frames(in: chunk[...])?.map(Array.init), frames)
        XCTAssertEqual(VP9Superframe.build([[1, 2]]), [1, 2], "one frame: no index")
        XCTAssertNil(VP9Superframe.frames(in: [0x82, 0x49, 0x83][...]), "a plain frame")
        XCTAssertNil(VP9Superframe.frames(in: [0xC0][...]), "only a marker")
        XCTAssertNil(VP9Superframe.frames(in: [1, 2, 0xC1, 9, 9, 0xC1][...]), "sizes past the data")
        XCTAssertNil(VP9Superframe.frames(in: [1, 2, 0xC1, 2, 0, 0xC1][...]), "a frame of size 0")
        XCTAssertNil(VP9Superframe.frames(in: [1, 2, 0xC0, 2, 0xC1][...]), "first and last index bytes differ")
    }
}
