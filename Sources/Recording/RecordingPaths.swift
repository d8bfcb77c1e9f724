import Foundation

/// File names of one run's recordings: `<room>-<member>-<UTC start>[-n].webm` (`.mkv` for
/// H264), n for a
/// member's n-th file. Two recordings of a run never get the same path, and an existing file
/// is never chosen unless `overwrite`: a name that is taken gets the next free n.
///
/// Unchecked because `claimed` and `claimOrder` are vars; sound because they are read and
/// written only under `lock` (an NSLock: the recorders' queues contend for it, and
/// ThreadSanitizer sees it), and everything else is an immutable `let`.
final class RecordingPaths: @unchecked Sendable {
    let directory: URL
    let overwrite: Bool
    private let lock = NSLock()
    /// Paths handed out lately, and the order they were (oldest first), at most
    /// `maxRemembered`. A name carries its start time to the second, so it can only come up
    /// again within that second (or if the wall clock steps back): older names need not be
    /// remembered, and a member whose files rotate all day does not grow this.
    private var claimed: Set<String> = []
    private var claimOrder: [String] = []
    static let maxRemembered = 1024

    /// Paths remembered (tests).
    var rememberedCount: Int { lock.withLock { claimed.count } }

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
                    claimOrder.append(path)
                    if claimOrder.count > Self.maxRemembered { claimed.remove(claimOrder.removeFirst()) }
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

    /// Bytes (UTF-8) of an id in a file name. A name is `<room>-<member>-<yyyyMMdd-HHmmss>`,
    /// `-n` (an Int: at most 20 bytes) and `.webm`: 64 + 1 + 64 + 1 + 15 + 20 + 5 = 170 bytes,
    /// under the 255 of a file name (NAME_MAX) whatever the ids.
    static let maxIDBytes = 64

    /// Ids come from the server: file names keep to letters, digits, `-` and `_`, at most
    /// `maxIDBytes` bytes (not characters: a letter may take 4 bytes, or thousands with
    /// combining marks). An id that had to change (`a.b` → `a_b`) or be cut gets `.` and a hash
    /// of the original (`a_b.5d2f0a31`): two ids never share a name, and `.` marks the ones
    /// changed. The readable part is never empty, so a name never starts with `.`.
    static func safe(_ text: String) -> String {
        let allowed = { (c: Character) in c == "-" || c == "_" || (c.isLetter || c.isNumber) && c.unicodeScalars.allSatisfy(isNameScalar) }
        if !text.isEmpty && text.utf8.count <= maxIDBytes && text.allSatisfy(allowed) { return text }
        let suffix = "." + String(format: "%08x", UInt32(truncatingIfNeeded: fnv1a(text)))
        var readable = ""
        var bytes = 0
        for character in text {
            let kept: Character = allowed(character) ? character : "_"
            let size = kept.utf8.count
            guard bytes + size <= maxIDBytes - suffix.utf8.count else { break }
            readable.append(kept)
            bytes += size
        }
        return (readable.isEmpty ? "_" : readable) + suffix
    }

    /// A scalar a letter or digit may be made of: letters, digits, combining marks. A Character
    /// that is a letter may hold other scalars: a prepended letter (U+0D4E) joins whatever
    /// follows it, `/` too, into one grapheme.
    private static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return properties.isAlphabetic || properties.numericType != nil
        }
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
