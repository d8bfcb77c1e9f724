/// Where a datagram comes from or goes to.
public struct ICEEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable { case udp, tcp }
    public var host: String
    public var port: Int
    public var transport: Transport

    public init(host: String, port: Int, transport: Transport = .udp) {
        self.host = host
        self.port = port
        self.transport = transport
    }

    public var description: String { "\(transport) \(host):\(port)" }
}

/// A remote candidate as the server announced it (mediasoup: host candidates only).
public struct ICERemoteCandidate: Sendable, Hashable {
    public var endpoint: ICEEndpoint
    public var priority: UInt32

    public init(endpoint: ICEEndpoint, priority: UInt32) {
        self.endpoint = endpoint
        self.priority = priority
    }
}
