import Foundation
import XCTest

/// docs/CLI.md is nacho's own help, command by command: a flag added, renamed or removed
/// without `Scripts/cli-reference` fails here.
final class CLIReferenceTests: XCTestCase {
    func testTheReferenceMatchesTheBinary() throws {
        let (status, out, error) = try run("/bin/bash", [Repository.root.appendingPathComponent("Scripts/cli-reference").path, "--check"],
                                           environment: ["NACHO_BIN": Repository.nacho.path])
        XCTAssertEqual(status, 0, "\(error)\n\(String(decoding: out, as: UTF8.self).prefix(3000))")
    }
}
