/// The server half of ICE-lite (RFC 8445 §2.5) for one transport, without I/O: answers the
/// controlling agent's binding requests that carry our ufrag and check with our password, as
/// mediasoup's WebRtcTransport does. The caller decides which address becomes the remote (the
/// first answered request with USE-CANDIDATE, or any answered one).
public struct ICELiteResponder: Sendable {
    public let localUfrag: String
    public let localPassword: String
    private let key: [UInt8]
    private let usernamePrefix: [UInt8]

    /// What an answered request said, and the datagram to send back to where it came from.
    public struct Answer: Sendable, Equatable {
        public var response: [UInt8]
        public var useCandidate: Bool
    }

    public init(localUfrag: String, localPassword: String) {
        self.localUfrag = localUfrag
        self.localPassword = localPassword
        key = Array(localPassword.utf8)
        usernamePrefix = Array((localUfrag + ":").utf8)
    }

    /// A fresh random ufrag (16 characters) and password (32), from a URL-safe alphabet, as
    /// mediasoup makes them.
    public static func random() -> ICELiteResponder {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> ICELiteResponder {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        func token(_ count: Int) -> String {
            String(decoding: (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }, as: UTF8.self)
        }
        return ICELiteResponder(localUfrag: token(16), localPassword: token(32))
    }

    /// The answer to a binding request from `source`, or nil for anything else: not STUN, a
    /// response or indication, a bad FINGERPRINT, another ufrag, a failing MESSAGE-INTEGRITY.
    public func answer(_ bytes: ArraySlice<UInt8>, from source: STUNAddress) -> Answer? {
        guard STUNMessage.looksLikeSTUN(bytes), let request = try? STUNMessage(parsing: bytes),
              request.messageClass == .request, request.method == STUNMessage.Method.binding.rawValue,
              let username = request.attribute(STUNAttribute.username), username.starts(with: usernamePrefix),
              STUNMessage.verifyFingerprint(bytes), STUNMessage.verifyIntegrity(bytes, key: key) else { return nil }
        let response = STUNMessage(class: .success, transactionID: request.transactionID,
                                   attributes: [.xorMappedAddress(source, transactionID: request.transactionID)])
        return Answer(response: response.serialize(integrityKey: key, fingerprint: true), useCandidate: request.hasUseCandidate)
    }
}
