import Congestion
import XCTest

final class SimulcastAllocationTests: XCTestCase {
    func testNothingFitsPausesEveryLayer() {
        let layers = [SimulcastAllocation.Layer(minBitrate: 50_000, targetBitrate: 150_000, maxBitrate: 200_000)]
        XCTAssertEqual(SimulcastAllocation.allocate(10_000, to: layers), [nil])
    }
}
