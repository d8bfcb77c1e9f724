/// Malformed raw-media input (a Y4M or WAV header): what is wrong. The file sources prefix it
/// with the source and the path.
public struct SourceFileFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
