/// The answer to `consume`: what the router will send for one remote producer.
public struct ConsumerOptions: Sendable, Hashable, Codable {
    public var id: String
    public var producerId: String
    public var kind: MediaKind
    public var rtpParameters: RtpParameters
    /// `simple`, `simulcast`, `svc` or `pipe`.
    public var type: String?
    public var producerPaused: Bool?

    public init(id: String, producerId: String, kind: MediaKind, rtpParameters: RtpParameters,
                type: String? = "simple", producerPaused: Bool? = false) {
        self.id = id
        self.producerId = producerId
        self.kind = kind
        self.rtpParameters = rtpParameters
        self.type = type
        self.producerPaused = producerPaused
    }
}
