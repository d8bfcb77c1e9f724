import Foundation
import XCTest

/// What a test needs from the machine (a tool, the test server's virtualenv, a binary, root).
/// Run by hand with `swift test`, a missing piece skips the test with the reason; under
/// `Scripts/test` (NACHO_TEST_STRICT=1) and in CI (CI set) it fails it, so that a green run
/// means every test ran.
public enum TestEnvironment {
    public static var isStrict: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["NACHO_TEST_STRICT"] == "1" || !(environment["CI"] ?? "").isEmpty
    }

    /// The error to throw for a missing piece: a skip, or under strict runs a failure.
    public static func missing(_ what: String) -> any Error {
        isStrict ? Missing(description: "\(what) (a missing test dependency fails under Scripts/test and CI)") : XCTSkip(what)
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }
}

/// A test that cannot work where it must (a mount, a file it needs): a failure, never a skip.
public struct EnvironmentFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
