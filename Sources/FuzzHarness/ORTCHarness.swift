import DTLS
import ICE
import ORTC
import SocketIO

/// Room payload JSON into the negotiation layer, as a participant consumes it: router RTP
/// capabilities (decoded, validated, loaded into a `Device`, then asked for send parameters),
/// `createWebRtcTransport` answers (validated, turned into ICE candidates and the DTLS
/// fingerprints a transport checks), and `consume` answers (checked by a device loaded with
/// the captured mediasoup router capabilities).
///
/// Input: one JSON text, tried as each type whose key field it has (`codecs` or
/// `headerExtensions`, `iceParameters`, `rtpParameters`).
/// Invariants: what validation accepts obeys the rules it claims (payload types 0...127,
/// extension ids 1...255, audio has channels, video none); validating is idempotent and what
/// it accepts survives a JSON round trip unchanged; what the device derives comes from the
/// router (every receive codec and send codec is one of the router's, at its payload type,
/// and every send extension id is the router's); a consumer it accepts only uses codecs it
/// offered, at their payload types, with RTX pointing at one of its codecs.
public enum ORTCHarness {
    public static func run(_ data: [UInt8]) {
        guard let value = try? JSONValue(parsing: Substring(decoding: data, as: UTF8.self)) else { return }
        // Each decode re-encodes the whole document first (`JSONValue.decode`), the bulk of a
        // run: only documents with the type's key fields are tried as that type.
        if value["codecs"] != nil || value["headerExtensions"] != nil { routerCapabilities(value) }
        if value["iceParameters"] != nil { transportOptions(value) }
        if value["rtpParameters"] != nil { consumerOptions(value) }
    }

    private static func routerCapabilities(_ value: JSONValue) {
        guard let caps = try? value.decode(RtpCapabilities.self), let valid = try? Validation.validate(caps) else { return }
        for codec in valid.codecs {
            require(codec.kind != nil, "validated codec without kind: \(codec.mimeType)")
            if let pt = codec.preferredPayloadType { require((0...127).contains(pt), "validated payload type \(pt)") }
            require(codec.kind == .audio ? codec.channels.map { $0 >= 1 } ?? false : codec.channels == nil,
                    "validated \(codec.mimeType) with channels \(String(describing: codec.channels))")
        }
        for ext in valid.headerExtensions { require((1...255).contains(ext.preferredId), "validated extension id \(ext.preferredId)") }
        require((try? Validation.validate(valid)) == valid, "validating twice changes the capabilities")
        require(roundTrips(valid), "validated capabilities do not survive a JSON round trip")
        guard let device = try? Device(routerRtpCapabilities: caps) else { return }
        _ = try? JSONValue(encoding: device.recvRtpCapabilities)
        // RTX by payload type alone: a router's RTX codec is any MIME type ending in /rtx (as
        // mediasoup's own check), and the device names its own `kind/rtx`, as mediasoup-client does.
        func key(_ pt: Int?, _ mimeType: String) -> String? {
            pt.map { "\($0) \(MimeType.isRtx(mimeType) ? "rtx" : mimeType.lowercased())" }
        }
        let routerCodecs = Set(valid.codecs.compactMap { key($0.preferredPayloadType, $0.mimeType) })
        for codec in device.recvRtpCapabilities.codecs {
            let key = key(codec.preferredPayloadType, codec.mimeType) ?? "none"
            require(routerCodecs.contains(key), "receive codec \(key) is not the router's")
        }
        for kind in MediaKind.allCases where device.canProduce(kind) {
            guard let parameters = try? device.sendingRtpParameters(kind: kind, ssrc: 1, rtxSsrc: 2, cname: "fuzz", mid: "0") else { continue }
            _ = try? JSONValue(encoding: parameters)
            for codec in parameters.codecs {
                require(routerCodecs.contains(key(codec.payloadType, codec.mimeType) ?? ""),
                        "send codec \(codec.payloadType) \(codec.mimeType) is not the router's")
            }
            for ext in parameters.headerExtensions {
                require(valid.headerExtensions.contains { $0.uri == ext.uri && $0.preferredId == ext.id },
                        "send extension \(ext.uri) id \(ext.id) is not the router's")
            }
            _ = device.canConsume(kind)
        }
    }

    /// Encoded to JSON and decoded again, equal.
    private static func roundTrips<T: Codable & Equatable>(_ value: T) -> Bool {
        guard let json = try? JSONValue(encoding: value) else { return false }
        return (try? json.decode(T.self)) == value
    }

    private static func transportOptions(_ value: JSONValue) {
        guard let options = try? value.decode(TransportOptions.self).validated() else { return }
        // What `WebRtcTransport.init` derives from the answer, without sockets.
        let candidates = options.iceCandidates.map {
            ICERemoteCandidate(endpoint: ICEEndpoint(host: $0.address, port: $0.port, transport: $0.protocol == .udp ? .udp : .tcp),
                               priority: $0.priority)
        }
        let configuration = ICEAgent.Configuration(localUfrag: "fuzz", localPassword: "fuzz-password-0123456789",
                                                   remoteUfrag: options.iceParameters.usernameFragment,
                                                   remotePassword: options.iceParameters.password, tieBreaker: 1)
        var agent = ICEAgent(configuration: configuration, remoteCandidates: candidates, seed: 1)
        _ = agent.start(now: FuzzClock.epoch)
        _ = agent.start(now: FuzzClock.epoch, transport: .tcp)
        require(roundTrips(options), "validated transport options do not survive a JSON round trip")
        let fingerprints = options.dtlsParameters.fingerprints.map { ($0.algorithm, $0.value) }
        _ = try? DTLSEndpoint(role: .client, certificate: DTLSHarness.certificate, remoteFingerprints: fingerprints)
        _ = options.dtlsParameters.fingerprint(algorithm: "sha-256")
    }

    /// A device as the captured mediasoup router configures it; loaded once per process.
    static let device: Device? = {
        guard let caps = try? JSONValue(parsing: Substring(FixtureText.routerRtpCapabilities)).decode(RtpCapabilities.self) else { return nil }
        return try? Device(routerRtpCapabilities: caps)
    }()

    private static func consumerOptions(_ value: JSONValue) {
        guard let options = try? value.decode(ConsumerOptions.self) else { return }
        _ = try? Validation.validate(options.rtpParameters)
        guard let device else { return require(false, "the captured router capabilities no longer load") }
        guard let valid = try? device.validateConsumer(options) else { return }
        require(!valid.id.isEmpty, "consumer without id accepted")
        require(valid.rtpParameters.encodings.allSatisfy { $0.ssrc != nil }, "consumer encoding without ssrc accepted")
        for codec in valid.rtpParameters.codecs {
            require((0...127).contains(codec.payloadType), "consumer payload type \(codec.payloadType) accepted")
            if codec.isRtx {
                let apt = codec.parameters["apt"]?.intValue
                require(valid.rtpParameters.codecs.contains { !$0.isRtx && $0.payloadType == apt }, "RTX apt \(String(describing: apt)) points nowhere")
            } else {
                require(device.recvRtpCapabilities.codecs.contains {
                    $0.preferredPayloadType == codec.payloadType && $0.mimeType.lowercased() == codec.mimeType.lowercased()
                }, "consumer codec \(codec.payloadType) \(codec.mimeType) was not offered")
            }
        }
        require((try? device.validateConsumer(valid)) == valid, "validating a consumer twice changes it")
        require(roundTrips(valid), "a validated consumer does not survive a JSON round trip")
    }
}
