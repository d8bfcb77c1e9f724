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

    /// A paused producer: the last sender report is 18.2 h old or more. DLSR is 32-bit in
    /// 1/65536 s and saturates instead of trapping.
    func testDelaySinceAnOldSenderReportSaturates() {
        let cases: [(sinceReport: Double, delay: UInt32)] = [
            (0, 0), (-5, 0), (1, 65536), (65535, 65535 * 65536), (65536, .max), (20 * 3600, .max), (1e300, .max),
            (.infinity, .max), (.nan, 0),
        ]
        for (since, expected) in cases {
            var stats = ReceptionStatistics(ssrc: 1, clockRate: 90000)
            stats.packetReceived(sequenceNumber: 1, timestamp: 0, size: 1, arrival: 0)
            stats.senderReportReceived(ntpTimestamp: 0x0000_1234_5678_0000, arrival: 100)
            XCTAssertEqual(stats.makeReport(now: 100 + since).delaySinceLastSenderReport, expected, "\(since) s")
        }
    }

    /// A clock rate the server made up, and arrival times far apart: jitter saturates.
    func testJitterOfAnAbsurdClockRateSaturates() {
        for clockRate in [Int.max, 1 << 40, 1_000_000_000] {
            var stats = ReceptionStatistics(ssrc: 1, clockRate: clockRate)
            for i in 0..<100 {
                stats.packetReceived(sequenceNumber: UInt16(i), timestamp: i % 2 == 0 ? 0 : .max, size: 1,
                                     arrival: Double(i) * (i % 3 == 0 ? 5 : 0.001))
            }
            _ = stats.makeReport(now: 1000)
            XCTAssertGreaterThan(stats.jitter, 0, "\(clockRate)")
        }
    }

    /// Loss and duplication beyond the 24-bit signed field saturate at its ends.
    func testCumulativeLostSaturatesAt24Bits() {
        var lossy = ReceptionStatistics(ssrc: 1, clockRate: 90000)
        var seq: UInt16 = 0
        for _ in 0..<1000 {
            lossy.packetReceived(sequenceNumber: seq, timestamp: 0, size: 1, arrival: 0)
            seq &+= 0x7FFF
        }
        XCTAssertEqual(lossy.makeReport(now: 0).cumulativeLost, 0x7FFFFF)
        var duplicated = ReceptionStatistics(ssrc: 1, clockRate: 90000)
        for _ in 0..<(0x800000 + 10) { duplicated.packetReceived(sequenceNumber: 7, timestamp: 0, size: 1, arrival: 0) }
        XCTAssertEqual(duplicated.makeReport(now: 0).cumulativeLost, -0x800000)
    }
}
