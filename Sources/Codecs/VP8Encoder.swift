internal import CVPX
import Foundation

/// VP8 (libvpx) as libwebrtc's `LibvpxVp8Encoder` sets it up for a camera: the shared realtime
/// CBR settings (`LibvpxEncoder`), its quantizer range and rate-control slack, speed and
/// threads by resolution, static threshold and intra cap.
public final class VP8Encoder: LibvpxEncoder {
    /// - Parameters:
    ///   - bitrate: bits per second.
    ///   - keyFrameInterval: frames between forced key frames.
    ///   - threads: encoder threads; nil chooses as libwebrtc does (`threads(width:height:cores:)`).
    public init(width: Int, height: Int, fps: Int, bitrate: Int, keyFrameInterval: Int, threads: Int? = nil) throws {
        let codec = Codec(
            name: "VP8",
            initialize: { CVPX_vpx_codec_enc_init(&$0, &$1) },
            defaults: { vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &$0, 0) },
            quantizers: 2...56, undershootPercent: 100, overshootPercent: 15,
            cpuUsed: Self.cpuUsed(width: width, height: height), maxIntraBitratePercent: 900,
            controls: { _ = CVPX_set_noise_sensitivity(&$0, 0) })
        try super.init(codec, width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: keyFrameInterval,
                       threads: threads ?? Self.threads(width: width, height: height,
                                                        cores: ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Encoder threads for a frame size on a machine, as libwebrtc's LibvpxVp8Encoder chooses
    /// them: one up to 640x480 or below 3 cores. libvpx's extra threads busy-wait for work, so
    /// at small sizes a second thread costs a core's share and saves nothing.
    public static func threads(width: Int, height: Int, cores: Int) -> Int {
        let pixels = width * height
        if pixels >= 1920 * 1080 && cores > 8 { return 8 }
        if pixels > 1280 * 960 && cores >= 6 { return 3 }
        if pixels > 640 * 480 && cores >= 3 { return 2 }
        return 1
    }

    /// libvpx's speed (negative: realtime, higher magnitude = faster), as libwebrtc on x86:
    /// -6, but no faster than -4 below CIF, where the bits matter more than the cycles.
    public static func cpuUsed(width: Int, height: Int) -> Int {
        width * height < 352 * 288 ? -4 : -6
    }
}
