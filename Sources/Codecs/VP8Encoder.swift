internal import CVPX
import Media
import Foundation

/// VP8 (libvpx) in realtime mode: CBR at a target bitrate, error-resilient, no lag, key frames
/// on request and at a maximum interval. Not thread-safe: one encoding thread owns it.
public final class VP8Encoder {
    public struct Encoded: Sendable {
        public var data: [UInt8]
        public var isKeyFrame: Bool
    }

    private var context = vpx_codec_ctx_t()
    private var configuration = vpx_codec_enc_cfg_t()
    public let width: Int
    public let height: Int
    public private(set) var bitrate: Int
    private var pts: Int64 = 0

    /// - Parameters:
    ///   - bitrate: bits per second.
    ///   - keyFrameInterval: frames between forced key frames.
    ///   - threads: encoder threads; nil chooses as libwebrtc does (`threads(width:height:cores:)`).
    public init(width: Int, height: Int, fps: Int, bitrate: Int, keyFrameInterval: Int, threads: Int? = nil) throws {
        self.width = width
        self.height = height
        self.bitrate = bitrate
        guard vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &configuration, 0) == VPX_CODEC_OK else {
            throw MediaError.codec("VP8 default configuration failed")
        }
        configuration.g_w = UInt32(width)
        configuration.g_h = UInt32(height)
        configuration.g_timebase = vpx_rational(num: 1, den: Int32(fps))
        configuration.rc_target_bitrate = UInt32(max(bitrate / 1000, 50))
        configuration.rc_end_usage = VPX_CBR
        configuration.g_error_resilient = vpx_codec_er_flags_t(VPX_ERROR_RESILIENT_DEFAULT)
        configuration.g_lag_in_frames = 0
        configuration.g_threads = UInt32(threads ?? Self.threads(width: width, height: height,
                                                                 cores: ProcessInfo.processInfo.activeProcessorCount))
        configuration.kf_mode = VPX_KF_AUTO
        configuration.kf_max_dist = UInt32(max(keyFrameInterval, 1))
        configuration.rc_min_quantizer = 2
        configuration.rc_max_quantizer = 56
        configuration.rc_undershoot_pct = 100
        configuration.rc_overshoot_pct = 15
        configuration.rc_buf_sz = 1000
        configuration.rc_buf_initial_sz = 500
        configuration.rc_buf_optimal_sz = 600
        configuration.rc_dropframe_thresh = 0
        guard CVPX_vpx_codec_enc_init(&context, &configuration) == VPX_CODEC_OK else {
            throw MediaError.codec("VP8 encoder init failed: \(String(cString: vpx_codec_error(&context)))")
        }
        _ = CVPX_set_cpuused(&context, Int32(Self.cpuUsed(width: width, height: height)))
        _ = CVPX_set_static_threshold(&context, 1)
        _ = CVPX_set_noise_sensitivity(&context, 0)
        _ = CVPX_set_max_intra_bitrate_pct(&context, 900)
    }

    deinit { vpx_codec_destroy(&context) }

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
            throw MediaError.codec("VP8 encode failed: \(String(cString: vpx_codec_error(&context)))")
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
