#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Media

/// A YUV4MPEG2 file (4:2:0 8-bit) played at its own frame rate, looping at the end.
/// Each frame is read with one `pread` into a buffer the source keeps (after a small read of
/// its `FRAME` line): no allocation or extra copy per frame while the previous frame was
/// released (a frame still held elsewhere keeps its bytes: the buffer is copied on write then).
public final class Y4MFileSource: VideoSource {
    public let width: Int
    public let height: Int
    public let fps: Int
    private let path: String
    private let handle: FileHandle
    private let firstFrameOffset: Int64
    private let frameByteCount: Int
    private var startTime: Double = 0
    private var sent = 0
    /// Where the next frame's `FRAME` line starts.
    private var offset: Int64
    private var planes: [UInt8]
    private var frameLine = [UInt8](repeating: 0, count: maxFrameLine + 1)

    /// The longest `FRAME[ params]` line read before the newline.
    static let maxFrameLine = 128

    public init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MediaError.source("video source file:\(path): cannot open it")
        }
        self.handle = handle
        let header: Y4MHeader
        do {
            header = try Y4MHeader(parsing: [UInt8](handle.readData(ofLength: Y4MHeader.maxLength)))
        } catch {
            throw MediaError.source("video source file:\(path): \(error)")
        }
        width = header.width
        height = header.height
        fps = header.fps
        frameByteCount = header.frameByteCount
        firstFrameOffset = Int64(header.length)
        offset = firstFrameOffset
        planes = [UInt8](repeating: 0, count: header.frameByteCount)
    }

    deinit { try? handle.close() }

    public var summary: String { "file \(path) \(width)x\(height) at \(fps) fps (looping)" }

    public func start() throws { startTime = MediaClock.now }

    public func nextFrame() throws -> VideoFrame? {
        let due = startTime + Double(sent) / Double(fps)
        Pacer.sleep(until: due)
        if try !readFrame() {
            offset = firstFrameOffset
            guard try readFrame() else { throw MediaError.source("video source file:\(path): holds no complete frame") }
        }
        sent += 1
        return VideoFrame(width: width, height: height, data: planes, captureTime: due)
    }

    /// "FRAME[ params]\n" then the planes, at `offset`, into `planes`; false at the end of the file
    /// (nothing left, or an incomplete last frame).
    private func readFrame() throws -> Bool {
        let descriptor = handle.fileDescriptor
        let lineBytes = frameLine.withUnsafeMutableBytes { readFully(descriptor, into: $0, at: offset) }
        guard lineBytes >= 0 else { throw readError(-lineBytes) }
        guard lineBytes > 0 else { return false }
        guard let newline = frameLine.prefix(lineBytes).firstIndex(of: 0x0A) else {
            if lineBytes < frameLine.count { return false }  // cut off in its FRAME line
            throw MediaError.source("video source file:\(path): corrupt frame header")
        }
        guard frameLine.prefix(newline).starts(with: "FRAME".utf8) else {
            throw MediaError.source("video source file:\(path): corrupt frame header")
        }
        let planesOffset = offset + Int64(newline + 1)
        let planeBytes = planes.withUnsafeMutableBytes { readFully(descriptor, into: $0, at: planesOffset) }
        guard planeBytes >= 0 else { throw readError(-planeBytes) }
        guard planeBytes == planes.count else { return false }
        offset = planesOffset + Int64(planeBytes)
        return true
    }

    /// Reads until `buffer` is full or the file ends; the bytes read, or -errno on an error.
    private func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at start: Int64) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, base + done, buffer.count - done, off_t(start + Int64(done)))
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                return -Int(error)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    private func readError(_ code: Int) -> MediaError {
        MediaError.source("video source file:\(path): cannot read it (\(String(cString: strerror(Int32(truncatingIfNeeded: code)))))")
    }

    public func stop() {}
}
