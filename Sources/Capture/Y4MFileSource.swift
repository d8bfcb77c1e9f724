import Foundation
import Media

/// A YUV4MPEG2 file (4:2:0 8-bit) played at its own frame rate, looping at the end.
public final class Y4MFileSource: VideoSource {
    public let width: Int
    public let height: Int
    public let fps: Int
    private let path: String
    private let handle: FileHandle
    private let firstFrameOffset: UInt64
    private let frameByteCount: Int
    private var startTime: Double = 0
    private var sent = 0

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
        firstFrameOffset = UInt64(header.length)
        try handle.seek(toOffset: firstFrameOffset)
    }

    deinit { try? handle.close() }

    public var summary: String { "file \(path) \(width)x\(height) at \(fps) fps (looping)" }

    public func start() throws { startTime = MediaClock.now }

    public func nextFrame() throws -> VideoFrame? {
        let due = startTime + Double(sent) / Double(fps)
        Pacer.sleep(until: due)
        let size = frameByteCount
        var data = try readFrame(size: size)
        if data == nil {
            try handle.seek(toOffset: firstFrameOffset)
            data = try readFrame(size: size)
        }
        guard let data else { throw MediaError.source("video source file:\(path): holds no complete frame") }
        sent += 1
        return VideoFrame(width: width, height: height, data: data, captureTime: due)
    }

    /// "FRAME[ params]\n" then the planes; nil at the end of the file.
    private func readFrame(size: Int) throws -> [UInt8]? {
        var header = Data()
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { return nil }
            if byte[byte.startIndex] == 0x0A { break }
            header.append(byte)
            if header.count > 128 { throw MediaError.source("video source file:\(path): corrupt frame header") }
        }
        guard header.starts(with: Data("FRAME".utf8)) else { throw MediaError.source("video source file:\(path): corrupt frame header") }
        let planes = handle.readData(ofLength: size)
        return planes.count == size ? [UInt8](planes) : nil
    }

    public func stop() {}
}
