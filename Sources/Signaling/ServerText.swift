/// Text that came from the server (error answers, reasons) is kept and logged only up to this
/// many UTF-8 bytes: enough for any real message, and a hostile one costs nothing.
public enum ServerText {
    public static let maxBytes = 1024

    /// `text` cut at a character boundary within `maxBytes`, marked when cut.
    public static func clipped(_ text: String, maxBytes: Int = maxBytes) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var bytes = 0
        var end = text.startIndex
        for index in text.indices {
            let next = text.index(after: index)
            let size = text.utf8.distance(from: index, to: next)
            guard bytes + size <= maxBytes - 3 else { break }
            bytes += size
            end = next
        }
        return String(text[..<end]) + "..."
    }
}
