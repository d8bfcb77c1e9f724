import MediaFormat
import XCTest

final class MediaCodecTests: XCTestCase {
    func testMimeTypesBothWays() {
        for codec in MediaCodec.allCases {
            XCTAssertEqual(MediaCodec(mimeType: codec.mimeType), codec)
            XCTAssertEqual(MediaCodec(mimeType: codec.mimeType.uppercased()), codec, "case-insensitive")
            XCTAssertEqual(MediaKind(mimeType: codec.mimeType), codec.kind)
        }
        XCTAssertNil(MediaCodec(mimeType: "video/rtx"))
        XCTAssertNil(MediaCodec(mimeType: "video/AV1"))
        XCTAssertEqual([MediaCodec.opus, .vp8, .vp9, .h264].map(\.isVideo), [false, true, true, true])
        XCTAssertTrue(MimeType.isRtx("video/RTX"))
        XCTAssertFalse(MimeType.isRtx(MimeType.vp8))
        XCTAssertEqual(MediaKind(mimeType: "audio"), nil)
    }
}
