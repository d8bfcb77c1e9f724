import XCTest
@testable import NachoCLI

/// `--metrics HOST:PORT`: what parses and what is refused (exit 64 names the flag).
final class MetricsAddressTests: XCTestCase {
    func testHostsAndPorts() {
        XCTAssertEqual(MetricsAddress("127.0.0.1:9464"), MetricsAddress(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(MetricsAddress("localhost:0")?.port, 0)
        XCTAssertEqual(MetricsAddress("[::1]:9464"), MetricsAddress(host: "::1", port: 9464))
        XCTAssertEqual(MetricsAddress("[::1]:9464")?.description, "[::1]:9464")
        XCTAssertEqual(MetricsAddress("0.0.0.0:65535")?.description, "0.0.0.0:65535")
    }

    func testRefused() {
        for text in ["", "9464", ":9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "::1:9464",
                     "[]:9464", "a b:1", "a/b:1", String(repeating: "h", count: 254) + ":1"] {
            XCTAssertNil(MetricsAddress(text), text)
        }
    }
}
