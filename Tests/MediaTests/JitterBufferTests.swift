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

    /// A sender that jumps ~3000 sequence numbers with every packet: the NACK list stays at
    /// most 1000 long (it used to grow by ~1000 entries per packet).
    func testNACKListIsCappedWhateverTheJumps() {
        var buffer = JitterBuffer<Int>(maxWait: 0.3)
        var seq: UInt16 = 0
        var arrival = 0.0
        for i in 0..<400 {
            buffer.insert(i, sequenceNumber: seq, arrival: arrival)
            seq &+= UInt16(2990 + i % 20)
            arrival += 0.001
            if i % 20 == 0 {
                XCTAssertLessThanOrEqual(buffer.nackList(now: arrival).count, JitterBuffer<Int>.maxNackPackets)
            }
            _ = buffer.pop(now: arrival)
        }
        XCTAssertLessThanOrEqual(buffer.nackList(now: arrival + 1).count, JitterBuffer<Int>.maxNackPackets)
    }

    /// A forward jump larger than the buffer: what came before is delivered and the gap given
    /// up at once, not after waiting for packets that will never be retransmitted.
    func testLargeForwardJumpGivesUpTheGapAtOnce() {
        var buffer = JitterBuffer<Int>(maxWait: 0.3)
        for seq in 0..<10 { buffer.insert(seq, sequenceNumber: UInt16(seq), arrival: 0) }
        XCTAssertEqual(buffer.pop(now: 0).count, 10)
        buffer.insert(11, sequenceNumber: 11, arrival: 0)  // 10 is missing
        buffer.insert(5000, sequenceNumber: 5000, arrival: 0)
        buffer.insert(5001, sequenceNumber: 5001, arrival: 0)
        let out = buffer.pop(now: 0.001)
        XCTAssertEqual(out.map(\.element), [11, 5000, 5001])
        XCTAssertEqual(out.map(\.discontinuity), [true, true, false])
        XCTAssertEqual(buffer.lost, 1 + (5000 - 12))
        XCTAssertEqual(buffer.nackList(now: 0.001), [], "nothing before 5000 is asked for")
        buffer.insert(5002, sequenceNumber: 5002, arrival: 0.002)
        XCTAssertEqual(buffer.pop(now: 0.002).map(\.element), [5002])
    }

    /// Holes beyond the NACK range used to wait until the buffer filled up; every hole now
    /// waits at most `maxWait`.
    func testEveryHoleWaitsAtMostMaxWait() {
        var buffer = JitterBuffer<Int>(maxWait: 0.1)
        buffer.insert(0, sequenceNumber: 0, arrival: 0)
        buffer.insert(1001, sequenceNumber: 1001, arrival: 0)
        XCTAssertEqual(buffer.pop(now: 0).map(\.element), [0])
        XCTAssertEqual(buffer.pop(now: 0.05).count, 0)
        XCTAssertEqual(buffer.pop(now: 0.11).map(\.element), [1001])
        XCTAssertEqual(buffer.lost, 1000)
    }

    /// Entries whose gap is older than `maxWait` leave the NACK list even if `pop` is late.
    func testNACKEntriesExpireAfterMaxWait() {
        var buffer = JitterBuffer<Int>(maxWait: 0.3)
        buffer.insert(0, sequenceNumber: 0, arrival: 0)
        buffer.insert(5, sequenceNumber: 5, arrival: 0)
        XCTAssertEqual(buffer.nackList(now: 0), [1, 2, 3, 4])
        XCTAssertEqual(buffer.nackList(now: 0.31), [])
    }

    /// The buffer tells its owner when retransmission cannot repair the stream: once per event,
    /// on a NACK overflow or a jump past the buffer.
    func testKeyFrameSignal() {
        var buffer = JitterBuffer<Int>(maxWait: 0.3)
        buffer.insert(0, sequenceNumber: 0, arrival: 0)
        buffer.insert(100, sequenceNumber: 100, arrival: 0)
        XCTAssertFalse(buffer.takeKeyFrameRequest(), "99 missing: NACK them")
        buffer.insert(1003, sequenceNumber: 1003, arrival: 0)
        XCTAssertTrue(buffer.takeKeyFrameRequest(), "99 + 902 missing > 1000: clear the list, ask for a key frame")
        XCTAssertFalse(buffer.takeKeyFrameRequest(), "reading clears it")
        XCTAssertEqual(buffer.nackList(now: 0), [])
        buffer.insert(1004, sequenceNumber: 1004, arrival: 0)
        XCTAssertFalse(buffer.takeKeyFrameRequest())
        buffer.insert(9000, sequenceNumber: 9000, arrival: 0)
        XCTAssertTrue(buffer.takeKeyFrameRequest(), "a jump past the buffer")
        XCTAssertEqual(buffer.keyFrameRequests, 2)
        XCTAssertEqual(buffer.pop(now: 0).map(\.element), [0, 100, 1003, 1004, 9000])
    }
}
