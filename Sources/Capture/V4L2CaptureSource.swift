internal import CV4L2
import Media

/// Camera capture through libv4l2: format negotiation (I420 first, libv4l converting MJPEG and
/// others when it can; then NV12 or YUYV, converted here), the requested size and frame rate
/// with what the device granted reported, mmap streaming with four buffers.
public final class V4L2CaptureSource: VideoSource {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var fps: Int
    public let path: String
    public private(set) var pixelFormat = ""
    private let requested: (width: Int, height: Int, fps: Int)
    private var fd: Int32 = -1
    private var buffers: [(pointer: UnsafeMutableRawPointer, length: Int)] = []
    private var streaming = false
    /// The I420 frame handed out, reused: converting a frame allocates nothing.
    private var frameBuffer: [UInt8] = []

    static let i420 = CV4L2_fourcc(0x59, 0x55, 0x31, 0x32)  // "YU12"
    static let nv12 = CV4L2_fourcc(0x4E, 0x56, 0x31, 0x32)  // "NV12"
    static let yuyv = CV4L2_fourcc(0x59, 0x55, 0x59, 0x56)  // "YUYV"

    public init(path: String, width: Int, height: Int, fps: Int) throws {
        self.path = path
        self.requested = (width, height, fps)
        self.width = width
        self.height = height
        self.fps = fps
        fd = CV4L2_open(path, O_RDWR)
        guard fd >= 0 else {
            throw MediaError.source("video source v4l2:\(path): cannot open the camera: \(String(cString: strerror(errno)).lowercased())")
        }
        do {
            try configure()
        } catch {
            v4l2_close(fd)
            fd = -1
            throw error
        }
    }

    deinit {
        stop()
        for buffer in buffers { v4l2_munmap(buffer.pointer, buffer.length) }
        if fd >= 0 { v4l2_close(fd) }
    }

    public var summary: String {
        "V4L2 \(path) \(pixelFormat) \(width)x\(height) at \(fps) fps (asked \(requested.width)x\(requested.height) at \(requested.fps))"
    }

    private func ioctl<T>(_ request: UInt, _ argument: inout T, _ what: String) throws {
        var result: Int32 = -1
        repeat {
            result = withUnsafeMutablePointer(to: &argument) { CV4L2_ioctl(fd, request, $0) }
        } while result == -1 && errno == EINTR
        guard result != -1 else {
            throw MediaError.source("video source v4l2:\(path): \(what) failed: \(String(cString: strerror(errno)).lowercased())")
        }
    }

    private func configure() throws {
        var capability = v4l2_capability()
        try ioctl(CV4L2_VIDIOC_QUERYCAP(), &capability, "querying capabilities")
        let caps = capability.device_caps != 0 ? capability.device_caps : capability.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0, caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw MediaError.source("video source v4l2:\(path): not a streaming capture device")
        }
        var granted: v4l2_pix_format?
        for fourcc in [Self.i420, Self.nv12, Self.yuyv] {
            var format = v4l2_format()
            format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            format.fmt.pix.width = UInt32(requested.width)
            format.fmt.pix.height = UInt32(requested.height)
            format.fmt.pix.pixelformat = fourcc
            format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
            guard (try? ioctl(CV4L2_VIDIOC_S_FMT(), &format, "setting the format")) != nil else { continue }
            if [Self.i420, Self.nv12, Self.yuyv].contains(format.fmt.pix.pixelformat) {
                granted = format.fmt.pix
                break
            }
        }
        guard let pix = granted else {
            throw MediaError.source("video source v4l2:\(path): offers none of YU12, NV12, YUYV (even through libv4l conversion)")
        }
        width = Int(pix.width) & ~1
        height = Int(pix.height) & ~1
        // The driver's word is bounded like a Y4M header's before frame sizes are computed from it.
        guard (2...Y4MHeader.maxDimension).contains(width), (2...Y4MHeader.maxDimension).contains(height) else {
            throw MediaError.source("video source v4l2:\(path): the driver gave a frame size of \(pix.width)x\(pix.height)")
        }
        pixelFormat = Self.name(pix.pixelformat)
        var parameters = v4l2_streamparm()
        parameters.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        parameters.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(requested.fps))
        if (try? ioctl(CV4L2_VIDIOC_S_PARM(), &parameters, "setting the frame rate")) != nil {
            let t = parameters.parm.capture.timeperframe
            if t.numerator > 0 { fps = max(1, Int((Double(t.denominator) / Double(t.numerator)).rounded())) }
        }
        var request = v4l2_requestbuffers()
        request.count = 4
        request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        request.memory = V4L2_MEMORY_MMAP.rawValue
        try ioctl(CV4L2_VIDIOC_REQBUFS(), &request, "requesting buffers")
        guard request.count >= 2 else { throw MediaError.source("video source v4l2:\(path): the driver gave \(request.count) buffers") }
        for index in 0..<request.count {
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            buffer.index = index
            try ioctl(CV4L2_VIDIOC_QUERYBUF(), &buffer, "querying buffer \(index)")
            guard let pointer = CV4L2_mmap(Int(buffer.length), fd, Int64(buffer.m.offset)), pointer != MAP_FAILED else {
                throw MediaError.source("video source v4l2:\(path): cannot map buffer \(index)")
            }
            buffers.append((pointer, Int(buffer.length)))
        }
        self.pix = pix
    }

    private var pix = v4l2_pix_format()

    public func start() throws {
        for index in buffers.indices {
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            buffer.index = UInt32(index)
            try ioctl(CV4L2_VIDIOC_QBUF(), &buffer, "queueing buffer \(index)")
        }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        try ioctl(CV4L2_VIDIOC_STREAMON(), &type, "starting the stream")
        streaming = true
    }

    /// Blocks until the driver has a frame; converts it to I420.
    public func nextFrame() throws -> VideoFrame? {
        var buffer = v4l2_buffer()
        buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buffer.memory = V4L2_MEMORY_MMAP.rawValue
        try ioctl(CV4L2_VIDIOC_DQBUF(), &buffer, "waiting for a frame")
        let captured = MediaClock.now
        let source = buffers[Int(buffer.index)]
        let bytes = UnsafeRawBufferPointer(start: source.pointer, count: min(Int(buffer.bytesused), source.length))
        // Converted into the same buffer every frame: the previous frame is encoded by now.
        let converted = PixelConversion.toI420(bytes, fourcc: pix.pixelformat, width: width, height: height,
                                               bytesPerLine: Int(pix.bytesperline), into: &frameBuffer)
        try ioctl(CV4L2_VIDIOC_QBUF(), &buffer, "requeueing a buffer")
        guard converted else { throw MediaError.source("video source v4l2:\(path): short frame (\(buffer.bytesused) bytes)") }
        return VideoFrame(width: width, height: height, data: frameBuffer, captureTime: captured)
    }

    public func stop() {
        guard streaming, fd >= 0 else { return }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        _ = withUnsafeMutablePointer(to: &type) { CV4L2_ioctl(fd, CV4L2_VIDIOC_STREAMOFF(), $0) }
        streaming = false
    }

    static func name(_ fourcc: UInt32) -> String {
        String(decoding: (0..<4).map { UInt8(truncatingIfNeeded: fourcc >> ($0 * 8)) }, as: UTF8.self)
    }
}

/// Conversions of camera pixel formats to I420.
public enum PixelConversion {
    static let i420 = V4L2CaptureSource.i420
    static let nv12 = V4L2CaptureSource.nv12
    static let yuyv = V4L2CaptureSource.yuyv

    /// nil when the buffer is too short for the format.
    public static func toI420(_ bytes: UnsafeRawBufferPointer, fourcc: UInt32, width: Int, height: Int, bytesPerLine: Int) -> [UInt8]? {
        var out: [UInt8] = []
        return toI420(bytes, fourcc: fourcc, width: width, height: height, bytesPerLine: bytesPerLine, into: &out) ? out : nil
    }

    /// Converts into `frame` (resized to an I420 frame if needed, so a reused buffer costs no
    /// allocation); false when the buffer is too short for the format.
    public static func toI420(_ bytes: UnsafeRawBufferPointer, fourcc: UInt32, width: Int, height: Int, bytesPerLine: Int,
                              into frame: inout [UInt8]) -> Bool {
        let size = VideoFrame.byteCount(width: width, height: height)
        if frame.count != size { frame = [UInt8](repeating: 0, count: size) }
        return frame.withUnsafeMutableBufferPointer { out in
            convert(bytes.bindMemory(to: UInt8.self), fourcc: fourcc, width: width, height: height, bytesPerLine: bytesPerLine, into: out)
        }
    }

    private static func convert(_ src: UnsafeBufferPointer<UInt8>, fourcc: UInt32, width: Int, height: Int, bytesPerLine: Int,
                                into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        let chromaWidth = width / 2
        let chromaHeight = height / 2
        switch fourcc {
        case i420:
            let stride = max(bytesPerLine, width)
            guard src.count >= stride * height + 2 * (stride / 2) * chromaHeight else { return false }
            for row in 0..<height { for x in 0..<width { out[row * width + x] = src[row * stride + x] } }
            let uSource = stride * height
            let vSource = uSource + (stride / 2) * chromaHeight
            for row in 0..<chromaHeight {
                for x in 0..<chromaWidth {
                    out[width * height + row * chromaWidth + x] = src[uSource + row * (stride / 2) + x]
                    out[width * height + chromaWidth * chromaHeight + row * chromaWidth + x] = src[vSource + row * (stride / 2) + x]
                }
            }
        case nv12:
            let stride = max(bytesPerLine, width)
            guard src.count >= stride * height + stride * chromaHeight else { return false }
            for row in 0..<height { for x in 0..<width { out[row * width + x] = src[row * stride + x] } }
            let uv = stride * height
            for row in 0..<chromaHeight {
                for x in 0..<chromaWidth {
                    out[width * height + row * chromaWidth + x] = src[uv + row * stride + 2 * x]
                    out[width * height + chromaWidth * chromaHeight + row * chromaWidth + x] = src[uv + row * stride + 2 * x + 1]
                }
            }
        case yuyv:
            let stride = max(bytesPerLine, width * 2)
            guard src.count >= stride * height else { return false }
            for row in 0..<height {
                let line = row * stride
                for x in 0..<width { out[row * width + x] = src[line + 2 * x] }
            }
            // Chroma of each 2x2 block: average the two rows.
            for row in 0..<chromaHeight {
                let top = 2 * row * stride
                let bottom = top + stride
                for x in 0..<chromaWidth {
                    let u = (Int(src[top + 4 * x + 1]) + Int(src[bottom + 4 * x + 1]) + 1) / 2
                    let v = (Int(src[top + 4 * x + 3]) + Int(src[bottom + 4 * x + 3]) + 1) / 2
                    out[width * height + row * chromaWidth + x] = UInt8(u)
                    out[width * height + chromaWidth * chromaHeight + row * chromaWidth + x] = UInt8(v)
                }
            }
        default:
            return false
        }
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif
