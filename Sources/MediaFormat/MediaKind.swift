/// The two media kinds of mediasoup's ORTC model.
public enum MediaKind: String, Codable, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case audio
    case video

    public var description: String { rawValue }

    /// The kind named by a MIME type (`audio/opus` → `.audio`), case-insensitive.
    public init?(mimeType: String) {
        guard let slash = mimeType.firstIndex(of: "/"), mimeType.index(after: slash) < mimeType.endIndex else {
            return nil
        }
        self.init(rawValue: mimeType[..<slash].lowercased())
    }
}
