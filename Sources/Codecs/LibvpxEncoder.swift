internal import CVPX
import Media

/// One libvpx encoder in realtime mode, whatever the codec: the context's life, the settings
/// VP8 and VP9 share (CBR at a target bitrate, error resilient, no lag, every frame encoded, key
/// frames on request and at a maximum interval, static threshold, rate control and speed by value), wrapping a frame without copying it, draining
/// the packets, and bitrate changes. `VP8Encoder` and `VP9Encoder` add what differs. Not
/// thread-safe: one encoding thread owns it.
public class LibvpxEncoder {
    public struct Encoded: Sendable {
        public var data: [UInt8]
        public var isKeyFrame: Bool
    }

    /// What differs between the codecs, given to the shared setup.
    struct Codec {
        var name: String
        /// `vpx_codec_enc_init` with this codec's interface.
        var initialize: (inout vpx_codec_ctx_t, inout vpx_codec_enc_cfg_t) -> vpx_codec_err_t
        var defaults: (inout vpx_codec_enc_cfg_t) -> vpx_codec_err_t
        /// Rate control: the quantizer range, and how far (in percent of the target) a frame may
        /// fall under or go over it.
        var quantizers: ClosedRange<UInt32>
        var undershootPercent: UInt32
        var overshootPercent: UInt32
        /// libvpx's speed (`VP8E_SET_CPUUSED`).
        var cpuUsed: Int
        /// The largest key frame, in percent of the per-frame target.
        var maxIntraBitratePercent: UInt32
        /// Settings on top of the shared ones, before the encoder starts.
        var configure: (inout vpx_codec_enc_cfg_t) -> Void = { _ in }
        /// Controls on top of the shared ones, once it started.
        var controls: (inout vpx_codec_ctx_t) -> Void
    }

    private var context = vpx_codec_ctx_t()
    private var configuration = vpx_codec_enc_cfg_t()
    private let name: String
    public let width: Int
    public let height: Int
    public let threads: Int
    public private(set) var bitrate: Int
    private var pts: Int64 = 0

    init(_ codec: Codec, width: Int, height: Int, fps: Int, bitrate: Int, keyFrameInterval: Int, threads: Int) throws {
        self.name = codec.name
        self.width = width
        self.height = height
        self.bitrate = bitrate
        self.threads = threads
        guard codec.defaults(&configuration) == VPX_CODEC_OK else {
            throw MediaError.codec("\(codec.name) default configuration failed")
        }
        configuration.g_w = UInt32(width)
        configuration.g_h = UInt32(height)
        configuration.g_timebase = vpx_rational(num: 1, den: Int32(fps))
        configuration.rc_target_bitrate = UInt32(max(bitrate / 1000, 50))
        configuration.rc_end_usage = VPX_CBR
        configuration.g_error_resilient = vpx_codec_er_flags_t(VPX_ERROR_RESILIENT_DEFAULT)
        configuration.g_lag_in_frames = 0  // no alt-ref: one shown frame per input
        configuration.g_threads = UInt32(threads)
        configuration.kf_mode = VPX_KF_AUTO
        configuration.kf_max_dist = UInt32(max(keyFrameInterval, 1))
        configuration.rc_buf_sz = 1000
        configuration.rc_buf_initial_sz = 500
        configuration.rc_buf_optimal_sz = 600
        configuration.rc_dropframe_thresh = 0  // every captured frame goes out
        configuration.rc_min_quantizer = codec.quantizers.lowerBound
        configuration.rc_max_quantizer = codec.quantizers.upperBound
        configuration.rc_undershoot_pct = codec.undershootPercent
        configuration.rc_overshoot_pct = codec.overshootPercent
        codec.configure(&configuration)
        guard codec.initialize(&context, &configuration) == VPX_CODEC_OK else {
            throw MediaError.codec("\(codec.name) encoder init failed: \(String(cString: vpx_codec_error(&context)))")
        }
        _ = CVPX_set_cpuused(&context, Int32(codec.cpuUsed))
        _ = CVPX_set_static_threshold(&context, 1)
        _ = CVPX_set_max_intra_bitrate_pct(&context, codec.maxIntraBitratePercent)
        codec.controls(&context)
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
            throw MediaError.codec("\(name) encode failed: \(String(cString: vpx_codec_error(&context)))")
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
