import FuzzHarness
import TestSupport
import XCTest

/// Every committed fuzz input through the harness it was found with, in the ordinary debug
/// build: in process, the seed corpora (Tests/FuzzCorpora/<target>/) and the regression inputs
/// of fixed findings (Tests/FuzzCorpora/<target>/regressions/); in a child process each, the
/// open findings (Tests/FuzzCrashes/<target>/), expected to trap until their bug is fixed.
///
/// The seeded random mutations that lived here are gone: libFuzzer (Scripts/fuzz) mutates with
/// coverage feedback, far faster, and its finds come back here as files.
final class CorpusReplayTests: XCTestCase {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// The files of `Tests/<folder>/<target>/` and of its subfolders (`regressions/`).
    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let directory = tests.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = FileManager.default.subpaths(atPath: directory.path) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }.filter { url in
            var isDirectory: ObjCBool = false
            return !url.lastPathComponent.hasPrefix(".") && FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }
    }

    private func replayCorpus(_ target: FuzzTarget) throws {
        let files = Self.inputs("FuzzCorpora", target)
        XCTAssertFalse(files.isEmpty, "no corpus for \(target.rawValue): Scripts/fuzz-corpus \(target.rawValue)")
        for file in files {
            // A broken invariant or a trap stops the process; the log names the input.
            print("FuzzTests: \(target.rawValue) \(file.lastPathComponent)")
            target.run([UInt8](try Data(contentsOf: file)))
        }
    }

    func testSocketIOCorpus() throws { try replayCorpus(.socketio) }
    func testRoomPayloadCorpus() throws { try replayCorpus(.room) }
    func testORTCCorpus() throws { try replayCorpus(.ortc) }
    func testICECorpus() throws { try replayCorpus(.ice) }
    func testDTLSCorpus() throws { try replayCorpus(.dtls) }
    func testRTCPCorpus() throws { try replayCorpus(.rtcp) }
    func testRTPReceiveCorpus() throws { try replayCorpus(.rtp) }
    func testVP8Corpus() throws { try replayCorpus(.vp8) }
    func testJitterBufferCorpus() throws { try replayCorpus(.jitter) }
    func testRFC4571Corpus() throws { try replayCorpus(.rfc4571) }
    func testWebMCorpus() throws { try replayCorpus(.webm) }
    func testReceiverLifecycleCorpus() throws { try replayCorpus(.receiver) }
    func testIVFCorpus() throws { try replayCorpus(.ivf) }
    func testOggCorpus() throws { try replayCorpus(.ogg) }
    func testReplayCorpus() throws { try replayCorpus(.replay) }
    func testY4MCorpus() throws { try replayCorpus(.y4m) }
    func testWAVCorpus() throws { try replayCorpus(.wav) }
    func testH264Corpus() throws { try replayCorpus(.h264) }
    func testH264ParameterSetCorpus() throws { try replayCorpus(.h264ps) }
    func testVP9Corpus() throws { try replayCorpus(.vp9) }
    func testRecorderCorpus() throws { try replayCorpus(.recorder) }
    func testStatsReportCorpus() throws { try replayCorpus(.stats) }

    func testEveryTargetHasAReplayTest() {
        let covered: [FuzzTarget] = [.socketio, .room, .ortc, .ice, .dtls, .rtcp, .rtp, .vp8, .jitter, .rfc4571, .webm, .receiver,
                                     .ivf, .ogg, .replay, .y4m, .wav, .h264, .h264ps, .vp9, .recorder, .stats]
        XCTAssertEqual(Set(covered), Set(FuzzTarget.allCases), "add a replay test for the new target")
    }

    /// Open findings still trap (listed; a failure under Scripts/test and CI); one that no longer traps
    /// was fixed and belongs in the corpus as a regression input.
    func testOpenFindings() throws {
        var open: [String] = []
        for target in FuzzTarget.allCases {
            for file in Self.inputs("FuzzCrashes", target) {
                let status = try replayInChild(target, file)
                let name = "\(target.rawValue)/\(file.lastPathComponent)"
                if status == 0 {
                    XCTFail("Tests/FuzzCrashes/\(name) no longer fails: git mv it to Tests/FuzzCorpora/\(target.rawValue)/regressions/")
                } else {
                    open.append(name)
                }
            }
        }
        // By hand an open finding is a skip that lists it; under Scripts/test and CI a failure:
        // a crash the fuzzer found is a bug, whether it is new or known.
        if !open.isEmpty {
            throw TestEnvironment.missing("\(open.count) open fuzz findings still fail: \(open.joined(separator: ", "))")
        }
    }

    /// Exit status of `NachoFuzz replay` (built next to this test bundle) on one input.
    private func replayInChild(_ target: FuzzTarget, _ file: URL) throws -> Int32 {
        let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent()
        let binary = (products ?? Bundle.main.bundleURL).appendingPathComponent("NachoFuzz")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestEnvironment.missing("no NachoFuzz at \(binary.path): swift build --build-tests builds it")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["replay", target.rawValue, file.path]
        // The Swift backtracer would spend seconds on each expected trap.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
