// swift-tools-version:6.0
import PackageDescription

/// C libraries enter through system-library targets (pkg-config names) whose module maps
/// carry a small shim header for the macros and variadic functions Swift cannot call.
func systemLibrary(_ name: String, pkg: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/CSystem/\(name)", pkgConfig: pkg, providers: [.apt([apt])])
}

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "nacho",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nacho", targets: ["nacho"]),
        // A room server for load tests: virtual replay members over ICE-lite, DTLS and SRTP.
        .executable(name: "nacho-load-source", targets: ["nacho-load-source"]),
        // For the benchmarks in Benchmarks/ (their own package, so this one never builds the
        // benchmark framework): the packet path's layers (the pacer's included), the file sources
        // (the encoder-alone side of `Scripts/bench send`), and libsrtp for the raw floor.
        .library(name: "NachoMediaPath", targets: ["Bytes", "RTP", "DTLS", "SRTP", "Media", "Codecs", "Congestion", "Capture"]),
        .library(name: "CSRTP", targets: ["CSRTP"]),
        // Test camera for LD_PRELOAD (Tests/IntegrationTests): stands in for libv4l2.
        .library(name: "FakeV4L2", type: .dynamic, targets: ["FakeV4L2"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.78.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/vapor/websocket-kit", from: "2.15.0"),
    ],
    targets: [
        // C libraries of the media stack.
        systemLibrary("COpenSSL", pkg: "openssl", apt: "libssl-dev"),
        systemLibrary("CSRTP", pkg: "libsrtp2", apt: "libsrtp2-dev"),
        systemLibrary("COpus", pkg: "opus", apt: "libopus-dev"),
        systemLibrary("CVPX", pkg: "vpx", apt: "libvpx-dev"),
        systemLibrary("CALSA", pkg: "alsa", apt: "libasound2-dev"),
        systemLibrary("CV4L2", pkg: "libv4l2", apt: "libv4l-dev"),

        // Layers, bottom up. MediaFormat is the media vocabulary every layer shares (kinds,
        // codecs, MIME types).
        .target(name: "Bytes", swiftSettings: strict),
        .target(name: "MediaFormat", swiftSettings: strict),
        .target(name: "RTP", dependencies: ["Bytes"], swiftSettings: strict),
        .target(name: "ICE", dependencies: ["Bytes", "COpenSSL"], swiftSettings: strict),
        // DTLS negotiates the SRTP profile and exports the keys (RFC 5764); SRTP uses them.
        .target(name: "DTLS", dependencies: ["Bytes", "COpenSSL"], swiftSettings: strict),
        .target(name: "SRTP", dependencies: ["CSRTP", "DTLS"], swiftSettings: strict),
        // Pure RTP media logic (packetizers, depacketizers, jitter buffer, statistics, streams);
        // the codec wrappers that link libopus and libvpx live apart in Codecs.
        .target(name: "Media", dependencies: ["MediaFormat", "RTP", "Bytes"], swiftSettings: strict),
        // Send-side congestion control without I/O: the GCC estimator, probing, the pacer.
        .target(name: "Congestion", dependencies: ["RTP"], swiftSettings: strict),
        .target(name: "Codecs", dependencies: ["MediaFormat", "Media", "COpus", "CVPX"], swiftSettings: strict),
        .target(name: "Capture", dependencies: ["MediaFormat", "Media", "CALSA", "CV4L2", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Recording", dependencies: ["MediaFormat", "Media", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "ORTC", dependencies: ["MediaFormat"], swiftSettings: strict),
        // Reads `nacho bots` statistics (docs/STATS.md): aggregation, expectations, text/JSON/HTML
        // reports. Foundation only, so the report and the bots command share it without the media stack.
        .target(name: "LoadReport", swiftSettings: strict),
        .target(
            name: "Transport",
            dependencies: [
                "ICE", "DTLS", "SRTP", "RTP", "ORTC", "Bytes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SocketIO",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Signaling",
            dependencies: ["ORTC", "SocketIO", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "Participant",
            dependencies: [
                "ORTC", "MediaFormat", "Signaling", "Transport", "Media", "Congestion", "Codecs", "RTP", "DTLS", "Capture", "Recording",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Load tests: a room of bots in one process, their statistics.
        .target(name: "LoadTest", dependencies: ["Participant", "Media", "Signaling", "LoadReport", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(
            name: "NachoCLI",
            dependencies: [
                "ORTC", "Signaling", "SocketIO", "Participant", "LoadTest", "DTLS", "Transport", "Capture", "Media", "Codecs", "Recording",
                "LoadReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "nacho", dependencies: ["NachoCLI"], swiftSettings: strict),
        // The load source (docs/BENCHMARKS.md): the server half of ICE-lite, DTLS and SRTP from
        // the same sans-IO pieces nacho uses, a Socket.IO room server, and replayed clips.
        .target(
            name: "LoadSource",
            dependencies: [
                "ICE", "DTLS", "SRTP", "RTP", "ORTC", "MediaFormat", "Media", "Capture", "Bytes", "SocketIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "nacho-load-source", dependencies: [
            "LoadSource", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: strict),
        .target(name: "FakeV4L2", path: "Sources/FakeV4L2"),

        // Tests mirror the sources; TestSupport is what they share (tools, the strict run).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ORTCTests", dependencies: ["ORTC"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MediaFormatTests", dependencies: ["MediaFormat"]),
        .testTarget(name: "SocketIOTests", dependencies: ["SocketIO", "Bytes"]),
        .testTarget(name: "ICETests", dependencies: ["ICE", "Bytes"]),
        .testTarget(name: "SRTPTests", dependencies: ["SRTP", "DTLS", "RTP", "Bytes"]),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS", "SRTP", "Bytes"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "ICE", "DTLS", "SRTP", "RTP"]),
        .testTarget(name: "FuzzTests", dependencies: ["TestSupport", "FuzzHarness"]),
        .testTarget(name: "ParticipantTests", dependencies: ["Participant", "Signaling", "ORTC", "RTP", "Bytes", "Congestion", "Capture", "Codecs",
                                                             .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "MediaTests", dependencies: ["TestSupport", "Media", "MediaFormat", "RTP", "Bytes"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "Media", "CVPX"]),
        .testTarget(name: "RecordingTests", dependencies: ["TestSupport", "Recording"]),
        .testTarget(name: "LoadReportTests", dependencies: ["LoadReport"]),
        .testTarget(name: "LoadSourceTests", dependencies: ["LoadSource", "ORTC", "ICE", "DTLS", "SRTP", "RTP", "Transport", "TestSupport",
                                                      "SocketIO", "MediaFormat",
                                                      .product(name: "Logging", package: "swift-log"),
                                                      .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "LoadTestTests", dependencies: ["LoadTest", "LoadReport", "Participant", "ORTC"]),
        .testTarget(name: "CaptureTests", dependencies: ["TestSupport", "Capture", "Media"]),
        .testTarget(name: "CongestionTests", dependencies: ["Congestion", "RTP", "Bytes"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP", "Bytes"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SignalingTests", dependencies: ["Signaling", "ORTC", "SocketIO"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CLibrariesTests",
            dependencies: ["COpenSSL", "CSRTP", "COpus", "CVPX", "CALSA", "CV4L2"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["TestSupport", "NachoCLI", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")],
            exclude: ["README.md"]
        ),

        // Fuzzing (Scripts/fuzz): harnesses that drive each parser and what consumes its result,
        // and one binary for them. Built by Scripts/fuzz with -DNACHO_LIBFUZZER and the fuzzer
        // sanitizer, it is a libFuzzer target (NACHO_FUZZ_TARGET picks the harness); in the
        // ordinary build it replays inputs. Corpora: Tests/FuzzCorpora.
        .target(
            name: "FuzzHarness",
            dependencies: ["Bytes", "RTP", "ICE", "DTLS", "Media", "MediaFormat", "ORTC", "SocketIO", "Signaling", "Transport", "Participant", "Recording",
                           "Capture", "LoadReport", "Congestion", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .executableTarget(name: "NachoFuzz", dependencies: ["FuzzHarness"], swiftSettings: strict),
    ]
)
