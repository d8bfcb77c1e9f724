/// Why the media plane refused a request; the signaling side answers it as an error.
public enum LoadMediaError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownTransport(String)
    case unknownProducer(String)
    case unknownConsumer(String)
    case cannotConsume(String)
    case badDtlsParameters(String)
    case badMedia(String)
    case shutDown

    public var description: String {
        switch self {
        case .unknownTransport(let id): return "no transport \(id)"
        case .unknownProducer(let id): return "no producer \(id)"
        case .unknownConsumer(let id): return "no consumer \(id)"
        case .cannotConsume(let why): return "cannot consume: \(why)"
        case .badDtlsParameters(let why): return "bad DTLS parameters: \(why)"
        case .badMedia(let why): return "load source media: \(why)"
        case .shutDown: return "the media plane is shut down"
        }
    }
}
