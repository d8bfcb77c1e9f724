import Foundation

/// File names of one run's recordings: `<room>-<member>-<UTC start>[-n].webm` (`.mkv` for
/// H264), n for a
/// member's n-th file. Two recordings of a run never get the same path, and an existing file
/// is never chosen unless `overwrite`: a name that is taken gets the next free n.
final class RecordingPaths: @unchecked Sendable {
    let directory: URL
    let overwrite: Bool
    private let lock = NSLock()
    private var claimed: Set<String> = []

    init(directory: URL, overwrite: Bool) {
        self.directory = directory
        self.overwrite = overwrite
    }

    /// The path of a member's `index`-th file (1-based) started at `started`; `preferred` is
    /// false when the natural name was taken.
    func claim(room: String, member: String, started: Date, index: Int, fileExtension: String = "webm") -> (path: String, preferred: Bool) {
        let stem = "\(Self.safe(room))-\(Self.safe(member))-\(Self.timestamp(started))"
        return lock.withLock {
            var n = max(1, index)
            while true {
                let path = directory.appendingPathComponent(n > 1 ? "\(stem)-\(n).\(fileExtension)" : "\(stem).\(fileExtension)").path
                if !claimed.contains(path) && (overwrite || !FileManager.default.fileExists(atPath: path)) {
                    claimed.insert(path)
                    return (path, n == max(1, index))
                }
                n += 1
            }
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }

    /// Ids come from the server: file names keep to letters, digits, `-` and `_`, at most 64
    /// characters. An id that had to change (`a.b` → `a_b`) or be cut gets `.` and a hash of
    /// the original (`a_b.5d2f0a31`): two ids never share a name, and `.` marks the ones changed.
    static func safe(_ text: String) -> String {
        let allowed = { (c: Character) in c.isLetter || c.isNumber || c == "-" || c == "_" }
        if !text.isEmpty && text.count <= 64 && text.allSatisfy(allowed) { return text }
        let readable = String(text.map { allowed($0) ? $0 : "_" }.prefix(55))
        return readable + "." + String(format: "%08x", UInt32(truncatingIfNeeded: fnv1a(text)))
    }

    /// FNV-1a 64 over UTF-8: stable across runs and platforms.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
