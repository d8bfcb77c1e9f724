internal import CVPX
import Foundation
import Codecs
import Media
import XCTest

/// nacho's VP9 send path end to end: libvpx encodes synthetic frames, the packetizer writes
/// RFC 9628 payloads (checked field by field), the depacketizer puts them back together, and
/// libvpx's VP9 decoder shows the picture that went in.
final class VP9CodecTests: XCTestCase {
    private static let width = 320, height = 240

    /// A smooth pattern that moves: gradients and a bright square.
    private func frame(_ n: Int) -> VideoFrame {
        let (w, h) = (Self.width, Self.height)
        var data = [UInt8](repeating: 128, count: VideoFrame.byteCount(width: w, height: h))
        for y in 0..<h {
            for x in 0..<w {
                let inSquare = (x - 4 * n + 400) % 320 < 60 && (y + 2 * n) % 240 < 60
                data[y * w + x] = inSquare ? 235 : UInt8(truncatingIfNeeded: 16 + (x + y + n) % 200)
            }
        }
        return VideoFrame(width: w, height: h, data: data, captureTime: Double(n) / 30)
    }

    func testSettingsFollowLibwebrtc() {
        XCTAssertEqual(VP9Encoder.threads(width: 320, height: 240, cores: 2), 1)
        XCTAssertEqual(VP9Encoder.threads(width: 640, height: 360, cores: 2), 1, "two cores: one thread at any size")
        XCTAssertEqual(VP9Encoder.threads(width: 640, height: 360, cores: 4), 2)
        XCTAssertEqual(VP9Encoder.threads(width: 1280, height: 720, cores: 8), 4)
        XCTAssertEqual(VP9Encoder.cpuUsed(width: 320, height: 240), 5)
        XCTAssertEqual(VP9Encoder.cpuUsed(width: 352, height: 288), 5)
        XCTAssertEqual(VP9Encoder.cpuUsed(width: 640, height: 360), 7)
        XCTAssertEqual(VP9Encoder.cpuUsed(width: 1920, height: 1080), 7)
        XCTAssertEqual(VP9Encoder.cpuUsed(width: 2560, height: 1440), 9)
    }

    func testEncodePacketizeDepacketizeDecode() throws {
        let encoder = try VP9Encoder(width: Self.width, height: Self.height, fps: 30, bitrate: 800_000, keyFrameInterval: 1000)
        XCTAssertEqual(encoder.threads, VP9Encoder.threads(width: Self.width, height: Self.height, cores: ProcessInfo.processInfo.activeProcessorCount))
        var packetizer = VP9Packetizer(pictureID: 0x7FFD, tl0PictureIndex: 254)
        var depacketizer = FrameAssembler(VP9Depacketizer())
        var decoder = vpx_codec_ctx_t()
        XCTAssertEqual(CVPX_vp9_dec_init(&decoder), VPX_CODEC_OK)
        defer { vpx_codec_destroy(&decoder) }
        var keyFrames: [Int] = []
        var decoded = 0
        var worstPSNR = Double.infinity
        for n in 0..<20 {
            let source = frame(n)
            let encoded = try encoder.encode(source, forceKeyFrame: n == 10)
            XCTAssertEqual(encoded.count, 1, "lag 0: one frame out per frame in")
            for unit in encoded {
                if unit.isKeyFrame { keyFrames.append(n) }
                let pictureID = packetizer.pictureID, tl0 = packetizer.tl0PictureIndex
                let payloads = packetizer.packetize(unit.data, isKeyFrame: unit.isKeyFrame, width: Self.width, height: Self.height,
                                                    maxPayloadSize: 400)
                XCTAssertTrue(payloads.allSatisfy { $0.count <= 400 })
                for (index, payload) in payloads.enumerated() {
                    let d = try VP9PayloadDescriptor(parsing: payload[...])
                    XCTAssertEqual(d.pictureID, pictureID)
                    XCTAssertTrue(d.extendedPictureID)
                    XCTAssertFalse(d.flexibleMode)
                    XCTAssertEqual(d.interPicturePredicted, !unit.isKeyFrame, "P=1 on inter frames: mediasoup reads P=0 + B=1 as a key frame")
                    XCTAssertEqual(d.temporalID, 0)
                    XCTAssertEqual(d.spatialID, 0)
                    XCTAssertEqual(d.tl0PictureIndex, tl0)
                    XCTAssertEqual(d.startOfFrame, index == 0)
                    XCTAssertEqual(d.endOfFrame, index == payloads.count - 1)
                    if unit.isKeyFrame && index == 0 {
                        let ss = try XCTUnwrap(d.scalabilityStructure)
                        XCTAssertEqual(ss.spatialLayers, 1)
                        XCTAssertEqual(ss.resolutions?.first?.width, Self.width)
                        XCTAssertEqual(ss.resolutions?.first?.height, Self.height)
                        XCTAssertEqual(ss.pictureGroup, [.init(temporalID: 0, switchingUpPoint: false, referenceDiffs: [1])])
                    } else {
                        XCTAssertNil(d.scalabilityStructure)
                    }
                }
                var reassembled: VP9Depacketizer.Frame?
                for (index, payload) in payloads.enumerated() {
                    if let out = depacketizer.add(payload[...], timestamp: UInt32(n * 3000), marker: index == payloads.count - 1,
                                                  discontinuity: false) {
                        reassembled = out
                    }
                }
                let frame = try XCTUnwrap(reassembled, "frame \(n)")
                XCTAssertEqual(frame.data, unit.data)
                XCTAssertEqual(frame.isKeyFrame, unit.isKeyFrame)
                XCTAssertEqual(frame.details.pictureID, pictureID)
                if unit.isKeyFrame {
                    XCTAssertEqual(frame.width, Self.width)
                    XCTAssertEqual(frame.height, Self.height)
                }
                let status = frame.data.withUnsafeBufferPointer { vpx_codec_decode(&decoder, $0.baseAddress, UInt32($0.count), nil, 0) }
                XCTAssertEqual(status, VPX_CODEC_OK)
                var iterator: vpx_codec_iter_t?
                while let image = vpx_codec_get_frame(&decoder, &iterator) {
                    XCTAssertEqual(Int(image.pointee.d_w), Self.width)
                    XCTAssertEqual(Int(image.pointee.d_h), Self.height)
                    worstPSNR = min(worstPSNR, psnr(image.pointee, source))
                    decoded += 1
                }
            }
        }
        XCTAssertEqual(decoded, 20)
        XCTAssertEqual(keyFrames, [0, 10], "the first frame and the requested one")
        XCTAssertGreaterThan(worstPSNR, 30, "the decoded luma is the picture that went in")
        XCTAssertEqual(packetizer.pictureID, (0x7FFD + 20) & 0x7FFF, "15-bit picture IDs wrap")
        XCTAssertEqual(packetizer.tl0PictureIndex, 18, "TL0PICIDX wraps at 256")
        XCTAssertEqual(depacketizer.framesDropped, 0)
        XCTAssertThrowsError(try encoder.encode(VideoFrame(width: 160, height: 120, data: [UInt8](repeating: 0, count: VideoFrame.byteCount(width: 160, height: 120)), captureTime: 0), forceKeyFrame: false))
    }

    /// A whole picture lost (no sequence gap: its packets were all dropped upstream) shows as
    /// a TL0PICIDX jump; the receiver waits for the next key frame.
    func testLostPictureWaitsForKeyFrame() throws {
        let encoder = try VP9Encoder(width: Self.width, height: Self.height, fps: 30, bitrate: 500_000, keyFrameInterval: 1000, threads: 1)
        var packetizer = VP9Packetizer()
        var depacketizer = FrameAssembler(VP9Depacketizer())
        var delivered: [Int] = []
        for n in 0..<8 {
            for unit in try encoder.encode(frame(n), forceKeyFrame: n == 6) {
                let payloads = packetizer.packetize(unit.data, isKeyFrame: unit.isKeyFrame, width: Self.width, height: Self.height, maxPayloadSize: 1100)
                guard n != 3 else { continue }  // lost whole
                for (index, payload) in payloads.enumerated() {
                    if depacketizer.add(payload[...], timestamp: UInt32(n * 3000), marker: index == payloads.count - 1, discontinuity: false) != nil {
                        delivered.append(n)
                    }
                }
            }
        }
        XCTAssertEqual(delivered, [0, 1, 2, 6, 7])
    }

    /// PSNR of the decoded luma against the source's.
    private func psnr(_ image: vpx_image_t, _ source: VideoFrame) -> Double {
        guard let plane = image.planes.0 else { return 0 }
        let stride = Int(image.stride.0)
        var squared = 0.0
        for y in 0..<source.height {
            for x in 0..<source.width {
                let difference = Double(plane[y * stride + x]) - Double(source.data[y * source.width + x])
                squared += difference * difference
            }
        }
        let mse = squared / Double(source.width * source.height)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }
}
