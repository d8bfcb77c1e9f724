import Media
import XCTest

final class JitterBufferTests: XCTestCase {
    func testReordersAndDropsDuplicates() {
        var buffer = JitterBuffer<Int>(maxWait: 0.1)
        for seq: UInt16 in [10, 12, 11, 12, 13] { buffer.insert(Int(seq), sequenceNumber: seq, arrival: 0) }
        XCTAssertEqual(buffer.pop(now: 0).map(\.element), [10, 11, 12, 13])
        XCTAssertEqual(buffer.duplicates, 1)
        buffer.insert(11, sequenceNumber: 11, arrival: 0)
        XCTAssertEqual(buffer.late, 1, "already delivered")
        XCTAssertEqual(buffer.pop(now: 0).count, 0)
    }

    /// 65535 → 0 is the next packet, not a jump back (a known cause of frozen video).
    func testSequenceWraparound() {
        var buffer = JitterBuffer<UInt16>(maxWait: 0.1)
        for seq: UInt16 in [65533, 65535, 65534, 1, 0, 2] { buffer.insert(seq, sequenceNumber: seq, arrival: 0) }
        let out = buffer.pop(now: 0)
        XCTAssertEqual(out.map(\.element), [65533, 65534, 65535, 0, 1, 2])
        XCTAssertFalse(out.contains { $0.discontinuity })
        XCTAssertEqual(buffer.lost, 0)
    }

    func testGapWaitsThenGivesUpWithDiscontinuity() {
        var buffer = JitterBuffer<Int>(maxWait: 0.1)
        buffer.insert(1, sequenceNumber: 1, arrival: 0)
        buffer.insert(3, sequenceNumber: 3, arrival: 0)
        XCTAssertEqual(buffer.pop(now: 0.05).map(\.element), [1], "2 may still come")
        XCTAssertEqual(buffer.nackList(now: 0.05), [2])
        XCTAssertEqual(buffer.nackList(now: 0.06), [], "not again within the interval")
        let out = buffer.pop(now: 0.2)
        XCTAssertEqual(out.map(\.element), [3])
        XCTAssertEqual(out.first?.discontinuity, true)
        XCTAssertEqual(buffer.lost, 1)
        XCTAssertEqual(buffer.nackList(now: 1), [], "given up: no more NACKs")
    }

    func testRetransmissionFillsTheGap() {
        var buffer = JitterBuffer<Int>(maxWait: 0.3)
        buffer.insert(1, sequenceNumber: 1, arrival: 0)
        buffer.insert(3, sequenceNumber: 3, arrival: 0)
        _ = buffer.pop(now: 0)
        buffer.insert(2, sequenceNumber: 2, arrival: 0.1)
        let out = buffer.pop(now: 0.1)
        XCTAssertEqual(out.map(\.element), [2, 3])
        XCTAssertFalse(out.contains { $0.discontinuity })
    }

    func testNACKRetriesAreBounded() {
        var buffer = JitterBuffer<Int>(maxWait: 10)
        buffer.insert(1, sequenceNumber: 1, arrival: 0)
        buffer.insert(5, sequenceNumber: 5, arrival: 0)
        var asked = 0
        for step in 0..<100 { asked += buffer.nackList(now: Double(step) * 0.1, maxTries: 3).count }
        XCTAssertEqual(asked, 3 * 3, "3 missing packets, 3 tries each")
    }
}
