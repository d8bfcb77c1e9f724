import SocketIO
import XCTest

/// JSON from a hostile server: whatever the nesting or the numbers, parsing either succeeds or
/// throws, and never exhausts the stack.
final class JSONValueTests: XCTestCase {
    func testDeepNestingIsRejectedNotAStackOverflow() {
        for depth in [65, 200, 511, 5_000, 100_000] {
            for (open, close) in [("[", "]"), (#"{"a":"#, "}")] {
                let text = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                XCTAssertThrowsError(try JSONValue(parsing: Substring(text)), "depth \(depth)")
            }
        }
        // Brackets inside strings are text, not nesting.
        let quoted = #"{"a":""# + String(repeating: "[{", count: 1000) + #""}"#
        XCTAssertEqual(try JSONValue(parsing: Substring(quoted))["a"]?.stringValue?.count, 2000)
        let escaped = #"["\"["#  + String(repeating: "[", count: 100) + #"]"#
        XCTAssertThrowsError(try JSONValue(parsing: Substring(escaped + "]")))  // unbalanced, but not deep
        // What room servers send is far shallower than the limit.
        let ok = String(repeating: "[", count: JSONValue.maxDepth) + "1" + String(repeating: "]", count: JSONValue.maxDepth)
        XCTAssertNoThrow(try JSONValue(parsing: Substring(ok)))
    }

    func testNumbersOfAnySizeParse() throws {
        XCTAssertEqual(try JSONValue(parsing: "[9223372036854775807]"), [.int(Int.max)])
        XCTAssertEqual(try JSONValue(parsing: "[9223372036854775808]"), [.double(9223372036854775808)])
        XCTAssertEqual(try JSONValue(parsing: "[-1e300, 1e300]"), [.double(-1e300), .double(1e300)])
        XCTAssertEqual(try JSONValue(parsing: "[123456789012345678901234567890]").arrayValue?.count, 1)
        XCTAssertThrowsError(try JSONValue(parsing: "[1e999]"))
    }
}
