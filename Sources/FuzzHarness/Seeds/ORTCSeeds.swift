extension ORTCHarness {
    /// The captured mediasoup answers and nacho's own requests (they carry RTP parameters and
    /// capabilities too).
    public static func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        let files = [
            "router-rtp-capabilities", "create-webrtc-transport-answer-edge", "create-webrtc-transport-answer-origin",
            "consume-answer-audio", "consume-answer-video", "consume-request", "produce-request-audio",
            "produce-request-video", "connect-transport-request",
        ].map { fixtures.compactJSON("ORTCTests/Fixtures/\($0).json") }
        let variants = [
            #"{"codecs":[{"mimeType":"audio/opus","clockRate":48000,"preferredPayloadType":100,"parameters":{"useinbandfec":1}},{"mimeType":"audio/rtx","clockRate":48000,"preferredPayloadType":101,"parameters":{"apt":100.0}}]}"#,
            #"{"id":"t","iceParameters":{"usernameFragment":"u","password":"p","iceLite":true},"iceCandidates":[{"foundation":"f","priority":1,"ip":"127.0.0.1","protocol":"tcp","port":1,"tcpType":"passive"}],"dtlsParameters":{"role":"auto","fingerprints":[{"algorithm":"sha-512","value":"AB"},{"algorithm":"md5","value":"00"}]}}"#,
            // Boundary numbers where the decoders read Int and UInt32.
            #"{"codecs":[{"mimeType":"video/VP8","clockRate":9223372036854775807,"preferredPayloadType":-1,"channels":-9223372036854775808,"parameters":{"apt":1e300}}],"headerExtensions":[{"kind":"video","uri":"u","preferredId":256}]}"#,
            #"{"id":"c","producerId":"p","kind":"video","rtpParameters":{"codecs":[{"mimeType":"video/VP8","payloadType":101,"clockRate":90000}],"encodings":[{"ssrc":4294967295,"rtx":{"ssrc":0},"maxBitrate":9223372036854775807}],"headerExtensions":[{"uri":"urn:ietf:params:rtp-hdrext:sdes:mid","id":1}]}}"#,
        ]
        return (files + variants).map { Array($0.utf8) }
    }
}
