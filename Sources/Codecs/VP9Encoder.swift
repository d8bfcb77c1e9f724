internal import CVPX
#if canImport(Glibc)
import Glibc
#endif

/// VP9 profile 0 (libvpx) set up the way libwebrtc's `LibvpxVp9Encoder` sets up a single-layer
/// camera stream: the shared realtime CBR settings (`LibvpxEncoder`), 1-pass, cyclic-refresh
/// AQ, row multithreading, speed and threads (tile columns) by resolution and cores; plus error
/// resilience (nacho sends over lossy paths without SVC, libwebrtc turns it on for SVC only).
public final class VP9Encoder: LibvpxEncoder {
    public let cpuUsed: Int

    /// libwebrtc's `NumberOfThreads`: one thread below 640x360 or with two cores or fewer,
    /// 2 from 640x360 with 3+ cores, 4 from 1280x720 with 5+ cores (threads = tile columns).
    public static func threads(width: Int, height: Int, cores: Int) -> Int {
        let pixels = width * height
        if pixels >= 1280 * 720 && cores > 4 { return 4 }
        if pixels >= 640 * 360 && cores > 2 { return 2 }
        return 1
    }

    /// libwebrtc's default speed on x86 (`GetDefaultPerformanceFlags`, base layer): 5 up to
    /// CIF (352x288), 7 up to 1080p, 9 above: smaller pictures buy quality with CPU.
    public static func cpuUsed(width: Int, height: Int) -> Int {
        let pixels = width * height
        if pixels <= 352 * 288 { return 5 }
        if pixels <= 1920 * 1080 { return 7 }
        return 9
    }

    /// - Parameters:
    ///   - bitrate: bits per second.
    ///   - keyFrameInterval: frames between forced key frames.
    ///   - threads: nil chooses by resolution and the machine's cores (`threads(width:height:cores:)`).
    public init(width: Int, height: Int, fps: Int, bitrate: Int, keyFrameInterval: Int, threads: Int? = nil) throws {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let threads = threads ?? Self.threads(width: width, height: height, cores: max(cores, 1))
        let cpuUsed = Self.cpuUsed(width: width, height: height)
        self.cpuUsed = cpuUsed
        let codec = Codec(
            name: "VP9",
            initialize: { CVPX_vp9_enc_init(&$0, &$1) },
            defaults: { vpx_codec_enc_config_default(vpx_codec_vp9_cx(), &$0, 0) },
            // libwebrtc's rate control for cameras.
            quantizers: 2...52, undershootPercent: 50, overshootPercent: 50,
            cpuUsed: cpuUsed,
            // libwebrtc's MaxIntraTarget: half the optimal buffer, scaled by the frame rate, at least 300 %.
            maxIntraBitratePercent: UInt32(max(300, 600 / 2 * fps / 10)),
            configure: { configuration in
                configuration.g_profile = 0
                configuration.g_bit_depth = VPX_BITS_8
                configuration.g_input_bit_depth = 8
                configuration.g_pass = VPX_RC_ONE_PASS
                configuration.rc_resize_allowed = 0
            },
            controls: { context in
                _ = CVPX_set_vp9_aq_mode(&context, 3)  // cyclic refresh
                _ = CVPX_set_vp9_frame_parallel_decoding(&context, 0)
                _ = CVPX_set_vp9_tile_columns(&context, Int32(threads >> 1))
                _ = CVPX_set_vp9_row_mt(&context, 1)
                _ = CVPX_set_vp9_noise_sensitivity(&context, 0)
            })
        try super.init(codec, width: width, height: height, fps: fps, bitrate: bitrate, keyFrameInterval: keyFrameInterval,
                       threads: threads)
    }
}
