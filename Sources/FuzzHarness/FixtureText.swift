/// The captured mediasoup 3.14 router RTP capabilities (Tests/ORTCTests/Fixtures/
/// router-rtp-capabilities.json, compacted): harnesses check `consume` answers against a
/// device loaded with them, and cannot read test fixtures at run time.
enum FixtureText {
    static let routerRtpCapabilities = [
        #"{"codecs":[{"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2,"rtcpFeedback":[{""#,
        #"type":"nack","parameter":""},{"type":"transport-cc","parameter":""}],"parameters":{},"preferredPaylo"#,
        #"adType":100},{"kind":"video","mimeType":"video/VP8","clockRate":90000,"rtcpFeedback":[{"type":"nack""#,
        #","parameter":""},{"type":"nack","parameter":"pli"},{"type":"ccm","parameter":"fir"},{"type":"goog-re"#,
        #"mb","parameter":""},{"type":"transport-cc","parameter":""}],"parameters":{},"preferredPayloadType":1"#,
        #"01},{"kind":"video","mimeType":"video/rtx","preferredPayloadType":102,"clockRate":90000,"parameters""#,
        #":{"apt":101},"rtcpFeedback":[]}],"headerExtensions":[{"kind":"audio","uri":"urn:ietf:params:rtp-hdre"#,
        #"xt:sdes:mid","preferredId":1,"preferredEncrypt":false,"direction":"sendrecv"},{"kind":"video","uri":"#,
        #""urn:ietf:params:rtp-hdrext:sdes:mid","preferredId":1,"preferredEncrypt":false,"direction":"sendrecv"#,
        #""},{"kind":"video","uri":"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id","preferredId":2,"preferredE"#,
        #"ncrypt":false,"direction":"recvonly"},{"kind":"video","uri":"urn:ietf:params:rtp-hdrext:sdes:repaire"#,
        #"d-rtp-stream-id","preferredId":3,"preferredEncrypt":false,"direction":"recvonly"},{"kind":"audio","u"#,
        #"ri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time","preferredId":4,"preferredEncrypt":"#,
        #"false,"direction":"sendrecv"},{"kind":"video","uri":"http://www.webrtc.org/experiments/rtp-hdrext/ab"#,
        #"s-send-time","preferredId":4,"preferredEncrypt":false,"direction":"sendrecv"},{"kind":"audio","uri":"#,
        #""http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01","preferredId":5,"preferr"#,
        #"edEncrypt":false,"direction":"recvonly"},{"kind":"video","uri":"http://www.ietf.org/id/draft-holmer-"#,
        #"rmcat-transport-wide-cc-extensions-01","preferredId":5,"preferredEncrypt":false,"direction":"sendrec"#,
        #"v"},{"kind":"video","uri":"http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07","preferredI"#,
        #"d":6,"preferredEncrypt":false,"direction":"sendrecv"},{"kind":"video","uri":"urn:ietf:params:rtp-hdr"#,
        #"ext:framemarking","preferredId":7,"preferredEncrypt":false,"direction":"sendrecv"},{"kind":"audio",""#,
        #"uri":"urn:ietf:params:rtp-hdrext:ssrc-audio-level","preferredId":10,"preferredEncrypt":false,"direct"#,
        #"ion":"sendrecv"},{"kind":"video","uri":"urn:3gpp:video-orientation","preferredId":11,"preferredEncry"#,
        #"pt":false,"direction":"sendrecv"},{"kind":"video","uri":"urn:ietf:params:rtp-hdrext:toffset","prefer"#,
        #"redId":12,"preferredEncrypt":false,"direction":"sendrecv"},{"kind":"audio","uri":"http://www.webrtc."#,
        #"org/experiments/rtp-hdrext/abs-capture-time","preferredId":13,"preferredEncrypt":false,"direction":""#,
        #"sendrecv"},{"kind":"video","uri":"http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time","pr"#,
        #"eferredId":13,"preferredEncrypt":false,"direction":"sendrecv"},{"kind":"audio","uri":"http://www.web"#,
        #"rtc.org/experiments/rtp-hdrext/playout-delay","preferredId":14,"preferredEncrypt":false,"direction":"#,
        #""sendrecv"},{"kind":"video","uri":"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay","pref"#,
        #"erredId":14,"preferredEncrypt":false,"direction":"sendrecv"}]}"#,
    ].joined()
}
