import Benchmark
import DTLS
import PacketFixtures

/// nacho's packet paths and parsers under ordo-one/benchmark. Each figure is per iteration:
/// one pass over the recorded stream (`Fixtures.set`, about 1 570 packets) for the paths, a
/// thousand operations for the parsers. Allocations are deterministic and held to the counts
/// in Thresholds/ (`swift package benchmark thresholds check`); wall clock and instructions
/// are printed, never checked (a busy 2-core machine).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .instructions, .mallocCountTotal],
        maxDuration: .seconds(2),
        maxIterations: 200,
        // Small slack: the counts are the same run after run; this absorbs a library
        // update moving one allocation, while a real regression adds one per packet.
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 10])]
    )

    Benchmark("ReceivePath") { benchmark in try measure(ReceivePass.self, benchmark) }
    Benchmark("SendPath") { benchmark in try measure(SendPass.self, benchmark) }
    Benchmark("SRTPUnprotect") { benchmark in try measure(UnprotectPass.self, benchmark) }

    let thousand = Benchmark.Configuration(scalingFactor: .kilo)
    Benchmark("RTPParse", configuration: thousand) { benchmark in try rtpParse(benchmark) }
    Benchmark("RTPSerialize", configuration: thousand) { benchmark in rtpSerialize(benchmark) }
    Benchmark("RTCPParseCompound", configuration: thousand) { benchmark in try rtcpParse(benchmark) }
    for profile in SRTPProtectionProfile.allCases {
        Benchmark("SRTPRoundTrip.\(profile.rawValue)", configuration: thousand) { benchmark in
            try srtpRoundTrip(benchmark, profile: profile)
        }
    }
}
