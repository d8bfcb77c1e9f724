import MediaFormat

/// What a consumer is, as the consume answer said: the track a receiver gets from one
/// remote producer.
public struct ConsumedTrack: Sendable, Equatable {
    public var consumerId: String
    public var producerId: String
    /// The member who publishes it.
    public var owner: String
    public var kind: MediaKind
    /// The MIME type of the codec it arrives in.
    public var codec: String
}
