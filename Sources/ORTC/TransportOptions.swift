/// The answer to `createWebRtcTransport`: mediasoup `WebRtcTransport` parameters.
public struct TransportOptions: Sendable, Hashable, Codable {
    public var id: String
    public var iceParameters: IceParameters
    public var iceCandidates: [IceCandidate]
    public var dtlsParameters: DtlsParameters

    public init(id: String, iceParameters: IceParameters, iceCandidates: [IceCandidate], dtlsParameters: DtlsParameters) {
        self.id = id
        self.iceParameters = iceParameters
        self.iceCandidates = iceCandidates
        self.dtlsParameters = dtlsParameters
    }

    /// Checks what a transport needs before ICE can start.
    public func validated() throws -> TransportOptions {
        guard !id.isEmpty else { throw ORTCError.invalid("transport id is empty") }
        guard !iceParameters.usernameFragment.isEmpty, !iceParameters.password.isEmpty else {
            throw ORTCError.invalid("transport \(id): empty ICE username fragment or password")
        }
        // RFC 8839 §5.4: at most 256 characters each; the fragment goes into every STUN check.
        guard iceParameters.usernameFragment.count <= 256, iceParameters.password.count <= 256 else {
            throw ORTCError.invalid("transport \(id): ICE username fragment or password longer than 256 characters")
        }
        guard !iceCandidates.isEmpty else { throw ORTCError.invalid("transport \(id): no ICE candidates") }
        for candidate in iceCandidates where !(1...65535).contains(candidate.port) {
            throw ORTCError.invalid("transport \(id): ICE candidate port \(candidate.port) out of range")
        }
        guard !dtlsParameters.fingerprints.isEmpty else {
            throw ORTCError.invalid("transport \(id): no DTLS fingerprints")
        }
        return self
    }
}

public struct IceParameters: Sendable, Hashable, Codable {
    public var usernameFragment: String
    public var password: String
    public var iceLite: Bool?

    public init(usernameFragment: String, password: String, iceLite: Bool? = nil) {
        self.usernameFragment = usernameFragment
        self.password = password
        self.iceLite = iceLite
    }
}

public struct IceCandidate: Sendable, Hashable, Codable {
    public enum TransportProtocol: String, Sendable, Hashable, Codable { case udp, tcp }

    public var foundation: String
    public var priority: UInt32
    /// mediasoup sends both `ip` (deprecated) and `address`; either may be missing.
    public var address: String
    public var `protocol`: TransportProtocol
    public var port: Int
    public var type: String
    public var tcpType: String?

    public init(foundation: String, priority: UInt32, address: String, protocol: TransportProtocol, port: Int,
                type: String = "host", tcpType: String? = nil) {
        self.foundation = foundation
        self.priority = priority
        self.address = address
        self.protocol = `protocol`
        self.port = port
        self.type = type
        self.tcpType = tcpType
    }

    enum CodingKeys: String, CodingKey {
        case foundation, priority, address, ip, `protocol`, port, type, tcpType
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        foundation = try c.decodeIfPresent(String.self, forKey: .foundation) ?? ""
        priority = try c.decode(UInt32.self, forKey: .priority)
        guard let address = try c.decodeIfPresent(String.self, forKey: .address)
                ?? c.decodeIfPresent(String.self, forKey: .ip) else {
            throw DecodingError.keyNotFound(CodingKeys.address, .init(codingPath: c.codingPath, debugDescription: "ICE candidate without address or ip"))
        }
        self.address = address
        `protocol` = try c.decode(TransportProtocol.self, forKey: .protocol)
        port = try c.decode(Int.self, forKey: .port)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? "host"
        tcpType = try c.decodeIfPresent(String.self, forKey: .tcpType)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(foundation, forKey: .foundation)
        try c.encode(priority, forKey: .priority)
        try c.encode(address, forKey: .address)
        try c.encode(address, forKey: .ip)
        try c.encode(`protocol`, forKey: .protocol)
        try c.encode(port, forKey: .port)
        try c.encode(type, forKey: .type)
        try c.encodeIfPresent(tcpType, forKey: .tcpType)
    }
}

public enum DtlsRole: String, Sendable, Hashable, Codable { case auto, client, server }

public struct DtlsFingerprint: Sendable, Hashable, Codable {
    /// `sha-1`, `sha-224`, `sha-256`, `sha-384` or `sha-512`.
    public var algorithm: String
    /// Upper-case hex bytes separated by colons.
    public var value: String

    public init(algorithm: String, value: String) {
        self.algorithm = algorithm
        self.value = value
    }
}

public struct DtlsParameters: Sendable, Hashable, Codable {
    public var role: DtlsRole?
    public var fingerprints: [DtlsFingerprint]

    public init(role: DtlsRole? = nil, fingerprints: [DtlsFingerprint]) {
        self.role = role
        self.fingerprints = fingerprints
    }

    /// The fingerprint for an algorithm, chosen by name, never by position.
    public func fingerprint(algorithm: String) -> DtlsFingerprint? {
        fingerprints.first { $0.algorithm.lowercased() == algorithm.lowercased() }
    }
}
