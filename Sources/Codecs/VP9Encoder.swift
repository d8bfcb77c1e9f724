internal import CVPX
import Media
#if canImport(Glibc)
import Glibc
#endif

/// VP9 profile 0 (libvpx) set up the way libwebrtc's `LibvpxVp9Encoder` sets up a single-layer
/// camera stream: realtime CBR, no lag, 1-pass, cyclic-refresh AQ, row multithreading, speed
/// by resolution, threads by resolution and cores; plus error resilience (nacho sends over
/// lossy paths without SVC, libwebrtc turns it on for SVC only). Key frames on request and at
/// a maximum interval. Not thread-safe: one encoding thread owns it.
public final class VP9Encoder {
    public struct Encoded: Sendable {
        public var data: [UInt8]
        public var isKeyFrame: Bool
    }

    private var context = vpx_codec_ctx_t()
    private var configuration = vpx_codec_enc_cfg_t()
    public let width: Int
    public let height: Int
    public let threads: Int
    public let cpuUsed: Int
    public private(set) var bitrate: Int
    private var pts: Int64 = 0

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
        self.width = width
        self.height = height
        self.bitrate = bitrate
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        self.threads = threads ?? Self.threads(width: width, height: height, cores: max(cores, 1))
        self.cpuUsed = Self.cpuUsed(width: width, height: height)
        guard vpx_codec_enc_config_default(vpx_codec_vp9_cx(), &configuration, 0) == VPX_CODEC_OK else {
            throw MediaError.codec("VP9 default configuration failed")
        }
        configuration.g_profile = 0
        configuration.g_bit_depth = VPX_BITS_8
        configuration.g_input_bit_depth = 8
        configuration.g_w = UInt32(width)
        configuration.g_h = UInt32(height)
        configuration.g_timebase = vpx_rational(num: 1, den: Int32(fps))
        configuration.g_pass = VPX_RC_ONE_PASS
        configuration.rc_target_bitrate = UInt32(max(bitrate / 1000, 50))
        configuration.rc_end_usage = VPX_CBR
        configuration.g_error_resilient = vpx_codec_er_flags_t(VPX_ERROR_RESILIENT_DEFAULT)
        configuration.g_lag_in_frames = 0  // no alt-ref: one shown frame per input, no superframes
        configuration.g_threads = UInt32(self.threads)
        configuration.kf_mode = VPX_KF_AUTO
        configuration.kf_max_dist = UInt32(max(keyFrameInterval, 1))
        // libwebrtc's rate control for cameras.
        configuration.rc_min_quantizer = 2
        configuration.rc_max_quantizer = 52
        configuration.rc_undershoot_pct = 50
        configuration.rc_overshoot_pct = 50
        configuration.rc_buf_sz = 1000
        configuration.rc_buf_initial_sz = 500
        configuration.rc_buf_optimal_sz = 600
        configuration.rc_dropframe_thresh = 0  // every captured frame goes out (as VP8Encoder)
        configuration.rc_resize_allowed = 0
        guard CVPX_vp9_enc_init(&context, &configuration) == VPX_CODEC_OK else {
            throw MediaError.codec("VP9 encoder init failed: \(String(cString: vpx_codec_error(&context)))")
        }
        _ = CVPX_set_cpuused(&context, Int32(cpuUsed))
        _ = CVPX_set_vp9_aq_mode(&context, 3)  // cyclic refresh
        _ = CVPX_set_vp9_frame_parallel_decoding(&context, 0)
        _ = CVPX_set_vp9_tile_columns(&context, Int32(self.threads >> 1))
        _ = CVPX_set_vp9_row_mt(&context, 1)
        _ = CVPX_set_static_threshold(&context, 1)
        _ = CVPX_set_vp9_noise_sensitivity(&context, 0)
        // libwebrtc's MaxIntraTarget: half the optimal buffer, scaled by the frame rate, at least 300 %.
        _ = CVPX_set_max_intra_bitrate_pct(&context, UInt32(max(300, 600 / 2 * fps / 10)))
    }

    deinit { vpx_codec_destroy(&context) }

    public func encode(_ frame: VideoFrame, forceKeyFrame: Bool) throws -> [Encoded] {
        guard frame.width == width, frame.height == height else {
            throw MediaError.codec("frame \(frame.width)x\(frame.height) does not match the encoder's \(width)x\(height)")
        }
        var image = vpx_image_t()
        // libvpx only reads the image it wraps: wrap the frame's own storage (a mutable access
        // would copy it, 460 kB at 640x480, since the source still holds the buffer).
        let status = frame.data.withUnsafeBufferPointer { buffer -> vpx_codec_err_t in
            vpx_img_wrap(&image, VPX_IMG_FMT_I420, UInt32(width), UInt32(height), 1, UnsafeMutablePointer(mutating: buffer.baseAddress))
            let flags: vpx_enc_frame_flags_t = forceKeyFrame ? vpx_enc_frame_flags_t(VPX_EFLAG_FORCE_KF) : 0
            defer { pts += 1 }
            return vpx_codec_encode(&context, &image, pts, 1, flags, UInt(VPX_DL_REALTIME))
        }
        guard status == VPX_CODEC_OK else {
            throw MediaError.codec("VP9 encode failed: \(String(cString: vpx_codec_error(&context)))")
        }
        var out: [Encoded] = []
        var iterator: vpx_codec_iter_t?
        var bytes: UnsafeRawPointer?
        var size = 0
        var key: Int32 = 0
        while CVPX_next_frame(&context, &iterator, &bytes, &size, &key) == 1, let bytes {
            out.append(Encoded(data: Array(UnsafeRawBufferPointer(start: bytes, count: size)), isKeyFrame: key != 0))
        }
        return out
    }

    /// Changes the target bitrate for the next frames.
    public func setBitrate(_ bitsPerSecond: Int) {
        guard bitsPerSecond != bitrate else { return }
        bitrate = bitsPerSecond
        configuration.rc_target_bitrate = UInt32(max(bitsPerSecond / 1000, 50))
        _ = vpx_codec_enc_config_set(&context, &configuration)
    }
}
