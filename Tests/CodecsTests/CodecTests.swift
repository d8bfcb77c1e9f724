internal import CVPX
import Codecs
import Media
import XCTest

/// The encoders make what decoders accept: VP8 frames decode with libvpx's decoder at the
/// right size, key frames come when asked, Opus packets have a valid TOC.
final class CodecTests: XCTestCase {
    private func testFrame(_ n: Int, width: Int = 160, height: Int = 120) -> VideoFrame {
        var data = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: width, height: height))
        for i in 0..<(width * height) { data[i] = UInt8(truncatingIfNeeded: i + n * 3) }
        return VideoFrame(width: width, height: height, data: data, captureTime: Double(n) / 30)
    }

    func testVP8EncodesDecodableFramesAndKeyFramesOnRequest() throws {
        let encoder = try VP8Encoder(width: 160, height: 120, fps: 30, bitrate: 300_000, keyFrameInterval: 1000, threads: 1)
        var decoder = vpx_codec_ctx_t()
        XCTAssertEqual(CVPX_vpx_codec_dec_init(&decoder), VPX_CODEC_OK)
        defer { vpx_codec_destroy(&decoder) }
        var keyFrames: [Int] = []
        var decoded = 0
        for n in 0..<20 {
            for encoded in try encoder.encode(testFrame(n), forceKeyFrame: n == 10) {
                if encoded.isKeyFrame { keyFrames.append(n) }
                let status = encoded.data.withUnsafeBufferPointer { vpx_codec_decode(&decoder, $0.baseAddress, UInt32($0.count), nil, 0) }
                XCTAssertEqual(status, VPX_CODEC_OK)
                var iterator: vpx_codec_iter_t?
                while let image = vpx_codec_get_frame(&decoder, &iterator) {
                    XCTAssertEqual(image.pointee.d_w, 160)
                    XCTAssertEqual(image.pointee.d_h, 120)
                    decoded += 1
                }
            }
        }
        XCTAssertEqual(decoded, 20)
        XCTAssertEqual(keyFrames, [0, 10], "the first frame and the requested one")
        XCTAssertThrowsError(try encoder.encode(testFrame(0, width: 320, height: 240), forceKeyFrame: false))
    }

    func testOpusPacketsAndLevel() throws {
        let encoder = try OpusEncoder(channels: 1, bitrate: 32000, inbandFEC: true, dtx: false)
        let tone = (0..<960).map { Int16(16383 * sin(2 * Double.pi * 440 * Double($0) / 48000)) }
        let frame = AudioFrame(channels: 1, samples: tone, captureTime: 0)
        XCTAssertEqual(frame.level, -9, accuracy: 0.2, "half-scale sine: RMS -9 dBFS")
        let packet = try encoder.encode(frame)
        XCTAssertGreaterThan(packet.count, 10)
        // TOC (RFC 6716 §3.1): 20 ms frames; config 9/13/17/... by mode, one frame (code 0).
        XCTAssertEqual(packet[0] & 0x03, 0, "one frame per packet")
        let silence = AudioFrame(channels: 1, samples: Array(repeating: 0, count: 960), captureTime: 0)
        XCTAssertEqual(silence.level, -127)
    }
}

/// libvpx's threads busy-wait: a second thread at 640x480 on 2 cores cost ~40 % of nacho's CPU
/// for nothing. The choice follows libwebrtc's.
final class VP8EncoderSettingsTests: XCTestCase {
    func testThreadsByFrameSizeAndCores() {
        XCTAssertEqual(VP8Encoder.threads(width: 640, height: 480, cores: 2), 1)
        XCTAssertEqual(VP8Encoder.threads(width: 640, height: 480, cores: 16), 1)
        XCTAssertEqual(VP8Encoder.threads(width: 1280, height: 720, cores: 2), 1)
        XCTAssertEqual(VP8Encoder.threads(width: 1280, height: 720, cores: 4), 2)
        XCTAssertEqual(VP8Encoder.threads(width: 1920, height: 1080, cores: 6), 3)
        XCTAssertEqual(VP8Encoder.threads(width: 1920, height: 1080, cores: 12), 8)
    }

    func testSpeedBySize() {
        XCTAssertEqual(VP8Encoder.cpuUsed(width: 320, height: 240), -4)
        XCTAssertEqual(VP8Encoder.cpuUsed(width: 640, height: 480), -6)
    }
}
