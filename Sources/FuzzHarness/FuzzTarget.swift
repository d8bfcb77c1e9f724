/// Every fuzz entry point by name: the libFuzzer binary picks one with `NACHO_FUZZ_TARGET`,
/// `Scripts/fuzz` runs them all, and FuzzTests replays each one's corpus
/// (Tests/FuzzCorpora/<name>/).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case socketio
    case room
    case ortc
    case ice
    case dtls
    case rtcp
    case rtp
    case vp8
    case jitter
    case rfc4571
    case webm
    case receiver
    case ivf
    case ogg
    case replay
    case y4m
    case wav
    case h264
    case h264ps
    case vp9
    case recorder
    case stats

    public func run(_ data: [UInt8]) {
        switch self {
        case .socketio: SocketIOHarness.run(data)
        case .room: RoomPayloadHarness.run(data)
        case .ortc: ORTCHarness.run(data)
        case .ice: ICEHarness.run(data)
        case .dtls: DTLSHarness.run(data)
        case .rtcp: RTCPHarness.run(data)
        case .rtp: RTPReceiveHarness.run(data)
        case .vp8: VP8Harness.run(data)
        case .jitter: JitterBufferHarness.run(data)
        case .rfc4571: RFC4571Harness.run(data)
        case .webm: WebMWriterHarness.run(data)
        case .receiver: ReceiverLifecycleHarness.run(data)
        case .ivf: IVFHarness.run(data)
        case .ogg: OggHarness.run(data)
        case .replay: ReplayHarness.run(data)
        case .y4m: Y4MHarness.run(data)
        case .wav: WAVHarness.run(data)
        case .h264: H264Harness.run(data)
        case .h264ps: H264ParameterSetHarness.run(data)
        case .vp9: VP9Harness.run(data)
        case .recorder: RecorderHarness.run(data)
        case .stats: StatsReportHarness.run(data)
        }
    }

    /// Work done once per process before the first input (certificates, the reference
    /// device, the senders' histories), so that it does not count against the first run.
    public static func prepare() {
        _ = DTLSHarness.certificate
        _ = DTLSHarness.serverCertificate
        _ = ORTCHarness.device
        _ = RTCPHarness.senders
        _ = FuzzClock.epoch
        _ = RecorderHarness.directory
    }
}

extension FuzzTarget {
    /// First inputs, from the captured fixtures and nacho's own serializers (`NachoFuzz
    /// seeds`); Scripts/fuzz-seeds minimizes them into Tests/FuzzCorpora/<name>/.
    public func seeds(_ fixtures: SeedFixtures) -> [[UInt8]] {
        switch self {
        case .socketio: SocketIOHarness.seeds(fixtures)
        case .room: RoomPayloadHarness.seeds(fixtures)
        case .ortc: ORTCHarness.seeds(fixtures)
        case .ice: ICEHarness.seeds(fixtures)
        case .dtls: DTLSHarness.seeds(fixtures)
        case .rtcp: RTCPHarness.seeds(fixtures)
        case .rtp: RTPReceiveHarness.seeds(fixtures) + RTPReceiveHarness.videoCodecSeeds(fixtures)
        case .vp8: VP8Harness.seeds(fixtures)
        case .jitter: JitterBufferHarness.seeds(fixtures)
        case .rfc4571: RFC4571Harness.seeds(fixtures)
        case .webm: WebMWriterHarness.seeds(fixtures)
        case .receiver: ReceiverLifecycleHarness.seeds(fixtures)
        case .ivf: IVFHarness.seeds(fixtures)
        case .ogg: OggHarness.seeds(fixtures)
        case .replay: ReplayHarness.seeds(fixtures)
        case .y4m: Y4MHarness.seeds(fixtures)
        case .wav: WAVHarness.seeds(fixtures)
        case .h264: H264Harness.seeds(fixtures)
        case .h264ps: H264ParameterSetHarness.seeds(fixtures)
        case .vp9: VP9Harness.seeds(fixtures)
        case .recorder: RecorderHarness.seeds(fixtures)
        case .stats: StatsReportHarness.seeds(fixtures)
        }
    }
}
