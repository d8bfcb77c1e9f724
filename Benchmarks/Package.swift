// swift-tools-version:6.1
import PackageDescription

/// nacho's benchmarks, in a package of their own so that building nacho never builds the
/// benchmark framework (docs/BENCHMARKS.md):
/// - `MediaPath` (ordo-one/benchmark): the packet paths per pass over a recorded stream, RTP and
///   RTCP parsing, SRTP; wall clock, instructions and mallocs. Run with
///   `swift package benchmark`; `swift package benchmark thresholds check --path Thresholds`
///   holds the malloc counts to the ones committed in Thresholds/.
/// - `nacho-bench`: the same packet paths in packets per CPU second next to raw libsrtp, JSON
///   lines for `Scripts/bench packets`, which prints them next to aiortc's.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "nacho-benchmarks",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nacho-bench", targets: ["NachoBench"]),
    ],
    dependencies: [
        // Named, as a path dependency is otherwise known by its folder's name (a clone's may differ).
        .package(name: "nacho", path: ".."),
        // MallocInterposer only: the framework's other default trait (an ARC runtime
        // interposer for Swift 6.3 on Linux) needs a package that is not mirrored here.
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(name: "PacketFixtures", dependencies: [.product(name: "NachoMediaPath", package: "nacho")], swiftSettings: strict),
        .executableTarget(
            name: "NachoBench",
            dependencies: ["PacketFixtures", .product(name: "NachoMediaPath", package: "nacho"), .product(name: "CSRTP", package: "nacho")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "MediaPath",
            dependencies: [
                "PacketFixtures",
                .product(name: "NachoMediaPath", package: "nacho"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/MediaPath",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
