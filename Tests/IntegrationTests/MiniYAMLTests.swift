import XCTest

/// The fleet files' YAML reader reads its subset the way YAML does, and refuses the rest.
final class MiniYAMLTests: XCTestCase {
    func testSubset() throws {
        let text = """
            # comment
            a: 1
            b: "x: y # not a comment"   # a comment
            c: 'it''s'
            list:
              - plain
              - $(VAR)
              - key: v
                other: w
              -
                nested: z
            same-indent:
            - one
            block: |
              line 1
                indented
            after: done
            ---
            second: doc
            """
        let documents = try YAML.documents(text)
        XCTAssertEqual(documents.count, 2)
        let first = documents[0]
        XCTAssertEqual(first["a"]?.string, "1")
        XCTAssertEqual(first["b"]?.string, "x: y # not a comment")
        XCTAssertEqual(first["c"]?.string, "it's")
        XCTAssertEqual(first["list"]?.items?.count, 4)
        XCTAssertEqual(first["list"]?.items?[1].string, "$(VAR)")
        XCTAssertEqual(first["list"]?.items?[2]["other"]?.string, "w")
        XCTAssertEqual(first["list"]?.items?[3]["nested"]?.string, "z")
        XCTAssertEqual(first["same-indent"]?.strings, ["one"])
        XCTAssertEqual(first["block"]?.string, "line 1\n  indented\n")
        XCTAssertEqual(first["after"]?.string, "done")
        XCTAssertEqual(documents[1]["second"]?.string, "doc")
    }

    func testOutsideTheSubsetIsAnError() {
        for text in ["a: [1, 2]", "a: {b: c}", "a: &anchor x", "a: *anchor", "a: >\n  folded", "a: !!str x",
                     "a:\n  b: c\n    d: e", "a: 1\na: 2", "just text", "a: \"open"] {
            XCTAssertThrowsError(try YAML.documents(text), text)
        }
    }
}
