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
    private var startTime: Double = 0
    private var sent = 0

    public init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MediaError.source("video source file:\(path): cannot open it")
        }
        self.handle = handle
        let head = handle.readData(ofLength: 256)
        guard let newline = head.firstIndex(of: 0x0A), head.starts(with: Data("YUV4MPEG2 ".utf8)) else {
            throw MediaError.source("video source file:\(path): not a YUV4MPEG2 (.y4m) file")
        }
        let header = String(decoding: head[..<newline], as: UTF8.self).split(separator: " ")
        var width = 0, height = 0, fps = 30
        var colorspace = "420jpeg"
        for field in header.dropFirst() {
            let value = field.dropFirst()
            switch field.first {
            case "W": width = Int(value) ?? 0
            case "H": height = Int(value) ?? 0
            case "F":
                let parts = value.split(separator: ":").compactMap { Double($0) }
                if parts.count == 2, parts[1] > 0 { fps = max(1, Int((parts[0] / parts[1]).rounded())) }
            case "C": colorspace = String(value)
            default: break
            }
        }
        guard width > 0, height > 0, width % 2 == 0, height % 2 == 0 else {
            throw MediaError.source("video source file:\(path): missing or odd frame size in the header")
        }
        guard colorspace.hasPrefix("420") else {
            throw MediaError.source("video source file:\(path): colour space C\(colorspace) is not 4:2:0; convert with: ffmpeg -i IN -pix_fmt yuv420p OUT.y4m")
        }
        self.width = width
        self.height = height
        self.fps = fps
        firstFrameOffset = UInt64(head.distance(from: head.startIndex, to: newline) + 1)
        try handle.seek(toOffset: firstFrameOffset)
    }

    deinit { try? handle.close() }

    public var summary: String { "file \(path) \(width)x\(height) at \(fps) fps (looping)" }

    public func start() throws { startTime = MediaClock.now }

    public func nextFrame() throws -> VideoFrame? {
        let due = startTime + Double(sent) / Double(fps)
        Pacer.sleep(until: due)
        let size = VideoFrame.byteCount(width: width, height: height)
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
