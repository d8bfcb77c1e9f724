/// Why a capability or parameter set was rejected. Messages follow mediasoup's wording where
/// it has one, so a server log and a nacho error can be matched.
public enum ORTCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field is missing or has the wrong type or value.
    case invalid(String)
    /// The router and nacho share no codec for this kind.
    case noCommonCodec(MediaKind)
    /// The device has not been loaded with router capabilities.
    case notLoaded
    /// A consume answer nacho cannot receive.
    case cannotConsume(String)
    /// Send parameters nacho cannot produce (a codec it has no encoder for, bad simulcast layers).
    case cannotSend(String)

    public var description: String {
        switch self {
        case .invalid(let why): return "invalid RTP parameters or capabilities: \(why)"
        case .noCommonCodec(let kind): return "the router offers no \(kind) codec nacho supports"
        case .notLoaded: return "device not loaded with router RTP capabilities"
        case .cannotConsume(let why): return "cannot consume: \(why)"
        case .cannotSend(let why): return "cannot send: \(why)"
        }
    }
}
