import Transport
import XCTest

final class RFC4571FramerTests: XCTestCase {
    func testFramesSplitAndJoinedAcrossReads() {
        let datagrams: [[UInt8]] = [[1, 2, 3], Array(repeating: 7, count: 1300), [], [9]]
        let stream = datagrams.flatMap(RFC4571Framer.frame)
        XCTAssertEqual(Array(stream.prefix(5)), [0, 3, 1, 2, 3])
        // Deliver the stream in awkward pieces: 1 byte, then 2, 3, ...
        var framer = RFC4571Framer()
        var received: [[UInt8]] = []
        var index = 0
        var size = 1
        while index < stream.count {
            let end = min(stream.count, index + size)
            received += framer.append(stream[index..<end])
            index = end
            size += 1
        }
        XCTAssertEqual(received, datagrams.filter { !$0.isEmpty }, "zero-length frames are skipped")
        XCTAssertEqual(framer.pendingCount, 0)
    }

    func testPartialFrameWaits() {
        var framer = RFC4571Framer()
        XCTAssertEqual(framer.append([0, 4, 1, 2]), [])
        XCTAssertEqual(framer.pendingCount, 4)
        XCTAssertEqual(framer.append([3, 4, 0]), [[1, 2, 3, 4]])
        XCTAssertEqual(framer.pendingCount, 1)
    }
}
