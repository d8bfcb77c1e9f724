/// How long an id the server hands out may be (room, member, producer, consumer, transport):
/// mediasoup's are 36-character UUIDs and member numbers a few digits, so this is generous;
/// a longer one is a malformed payload, not something to keep in tables and logs.
public enum IdentifierLimit {
    public static let maxBytes = 256

    /// Whether `id` is non-empty and fits.
    public static func fits(_ id: String) -> Bool { !id.isEmpty && id.utf8.count <= maxBytes }
}
