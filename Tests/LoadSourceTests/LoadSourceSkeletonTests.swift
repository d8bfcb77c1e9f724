import LoadSource
import XCTest

final class LoadSourceSkeletonTests: XCTestCase {
    func testStatisticsStartAtZero() {
        XCTAssertEqual(LoadSourceStatistics().rtpPacketsSent, 0)
    }
}
