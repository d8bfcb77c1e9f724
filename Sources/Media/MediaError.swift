/// Failures of media sources and codecs.
public enum MediaError: Error, Sendable, CustomStringConvertible, Equatable {
    case codec(String)
    /// A capture device or file that cannot be used; the text names it.
    case source(String)

    public var description: String {
        switch self {
        case .codec(let why): return "codec: \(why)"
        case .source(let why): return why
        }
    }
}
