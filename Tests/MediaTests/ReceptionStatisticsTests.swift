import Media
import RTP
import XCTest

final class ReceptionStatisticsTests: XCTestCase {
    func testLossAndWraparound() {
        var stats = ReceptionStatistics(ssrc: 7, clockRate: 90000)
        // 65530 ... 65535, 0 ... 9 with 65534 and 3 missing: 16 expected, 14 received.
        var seqs: [UInt16] = Array(65530...65535) + Array(0...9)
        seqs.removeAll { $0 == 65534 || $0 == 3 }
        for (i, seq) in seqs.enumerated() {
            stats.packetReceived(sequenceNumber: seq, timestamp: UInt32(i * 3000), size: 100, arrival: Double(i) / 30)
        }
        XCTAssertEqual(stats.extendedHighestSequence, 65536 + 9)
        XCTAssertEqual(stats.expected, 16)
        XCTAssertEqual(stats.cumulativeLost, 2)
        let report = stats.makeReport(now: 1)
        XCTAssertEqual(report.ssrc, 7)
        XCTAssertEqual(report.cumulativeLost, 2)
        XCTAssertEqual(report.fractionLost, UInt8((2 << 8) / 16))
        XCTAssertEqual(report.extendedHighestSequence, 65545)
        // Next interval: no loss.
        stats.packetReceived(sequenceNumber: 10, timestamp: 48000, size: 100, arrival: 2)
        XCTAssertEqual(stats.makeReport(now: 2).fractionLost, 0)
    }

    func testReorderingIsNotLoss() {
        var stats = ReceptionStatistics(ssrc: 1, clockRate: 48000)
        for seq: UInt16 in [1, 3, 2, 4] {
            stats.packetReceived(sequenceNumber: seq, timestamp: UInt32(seq) * 960, size: 50, arrival: Double(seq) * 0.02)
        }
        XCTAssertEqual(stats.cumulativeLost, 0)
        XCTAssertEqual(stats.extendedHighestSequence, 4)
    }

    func testJitterOfEvenArrivalsIsZeroAndGrowsWithVariation() {
        var even = ReceptionStatistics(ssrc: 1, clockRate: 90000)
        for i in 0..<50 { even.packetReceived(sequenceNumber: UInt16(i), timestamp: UInt32(i * 3000), size: 1, arrival: Double(i) / 30) }
        XCTAssertLessThan(even.jitter, 2)
        var bumpy = ReceptionStatistics(ssrc: 1, clockRate: 90000)
        for i in 0..<50 {
            let wobble = i % 2 == 0 ? 0.0 : 0.010
            bumpy.packetReceived(sequenceNumber: UInt16(i), timestamp: UInt32(i * 3000), size: 1, arrival: Double(i) / 30 + wobble)
        }
        XCTAssertGreaterThan(bumpy.jitter, 400, "10 ms of alternating delay at 90 kHz")
    }

    func testLastSenderReportAndDelay() {
        var stats = ReceptionStatistics(ssrc: 1, clockRate: 90000)
        stats.packetReceived(sequenceNumber: 1, timestamp: 0, size: 1, arrival: 0)
        stats.senderReportReceived(ntpTimestamp: 0x0000_1234_5678_0000, arrival: 10)
        let report = stats.makeReport(now: 10.5)
        XCTAssertEqual(report.lastSenderReport, 0x1234_5678)
        XCTAssertEqual(report.delaySinceLastSenderReport, 32768)
    }
}
