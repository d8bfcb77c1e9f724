@testable import Transport
import XCTest

/// Which shared socket a transport gets, and who a datagram is for (SharedDatagramSockets).
final class DatagramRoutesTests: XCTestCase {
    private final class Receiver {}
    private typealias Routes = DatagramRoutes<String, Receiver>

    func testDatagramsGoToTheTransportOfTheirSourceAndUnknownSourcesToNobody() {
        var routes = Routes()
        let a = Receiver(), b = Receiver()
        XCTAssertTrue(routes.add(a, addresses: ["127.0.0.1:4000", "10.0.0.1:4000"]))
        XCTAssertTrue(routes.add(b, addresses: ["127.0.0.1:4001"]))
        XCTAssertTrue(routes.receiver(from: "127.0.0.1:4000") === a)
        XCTAssertTrue(routes.receiver(from: "10.0.0.1:4000") === a)
        XCTAssertTrue(routes.receiver(from: "127.0.0.1:4001") === b)
        XCTAssertNil(routes.receiver(from: "127.0.0.1:4002"), "nobody's address: dropped")
        XCTAssertEqual(routes.count, 2)
    }

    func testATakenAddressRefusesTheTransportAndRegistersNothing() {
        var routes = Routes()
        let a = Receiver(), b = Receiver()
        XCTAssertTrue(routes.add(a, addresses: ["127.0.0.1:4000"]))
        XCTAssertFalse(routes.canCarry(["127.0.0.1:4001", "127.0.0.1:4000"], limit: 10))
        XCTAssertFalse(routes.add(b, addresses: ["127.0.0.1:4001", "127.0.0.1:4000"]))
        XCTAssertNil(routes.receiver(from: "127.0.0.1:4001"), "a refused transport leaves no address behind")
        XCTAssertFalse(routes.add(a, addresses: ["127.0.0.1:4005"]), "a transport is on a socket once")
        XCTAssertEqual(routes.count, 1)
    }

    func testLeavingFreesTheAddressesAndTheLastOneOutEmptiesTheSocket() {
        var routes = Routes()
        let a = Receiver(), b = Receiver()
        XCTAssertTrue(routes.add(a, addresses: ["127.0.0.1:4000"]))
        XCTAssertTrue(routes.add(b, addresses: ["127.0.0.1:4001"]))
        XCTAssertTrue(routes.remove(a))
        XCTAssertFalse(routes.remove(a), "gone already")
        XCTAssertNil(routes.receiver(from: "127.0.0.1:4000"))
        XCTAssertTrue(routes.canCarry(["127.0.0.1:4000"], limit: 10), "a freed address can be taken again")
        XCTAssertFalse(routes.isEmpty)
        XCTAssertTrue(routes.remove(b))
        XCTAssertTrue(routes.isEmpty)
    }

    func testTransportsWithAPortEachShareOneSocket() {
        // mediasoup's default WebRtcTransport: every transport has a server port of its own.
        var sockets: [(group: String, routes: Routes, limit: Int)] = []
        for port in 4000..<4010 {
            let receiver = Receiver()
            place(receiver, addresses: ["127.0.0.1:\(port)"], group: "127.0.0.1", limit: 100, in: &sockets)
        }
        XCTAssertEqual(sockets.count, 1)
        XCTAssertEqual(sockets[0].routes.count, 10)
    }

    func testOneServerAddressForManyTransportsGetsASocketEach() {
        // A mediasoup WebRtcServer: one address for every transport, told apart by ICE ufrag only.
        var sockets: [(group: String, routes: Routes, limit: Int)] = []
        for _ in 0..<3 {
            place(Receiver(), addresses: ["127.0.0.1:44444"], group: "127.0.0.1", limit: 100, in: &sockets)
        }
        XCTAssertEqual(sockets.count, 3)
        XCTAssertTrue(sockets.allSatisfy { $0.routes.count == 1 })
    }

    func testTheLimitAndTheBindAddressSplitSockets() {
        var sockets: [(group: String, routes: Routes, limit: Int)] = []
        for port in 4000..<4005 {
            place(Receiver(), addresses: ["127.0.0.1:\(port)"], group: "127.0.0.1", limit: 2, in: &sockets)
        }
        XCTAssertEqual(sockets.map(\.routes.count), [2, 2, 1])
        place(Receiver(), addresses: ["10.0.0.1:4000"], group: "0.0.0.0", limit: 2, in: &sockets)
        XCTAssertEqual(sockets.count, 4, "bound elsewhere: a socket of its own")
        XCTAssertEqual(SocketChoice.index(among: sockets, group: "127.0.0.1", addresses: ["127.0.0.1:5000"]), 2)
    }

    func testASocketCarriesNoMoreThanItsBufferHoldsAtASocketsWorthEach() {
        // Linux reports 212992 for a fresh socket; 32 MB forced reads back as 64 MB.
        XCTAssertEqual(SocketChoice.limit(cap: 256, granted: 67_108_864, alone: 212_992), 256, "the cap")
        XCTAssertEqual(SocketChoice.limit(cap: 256, granted: 16_777_216, alone: 212_992), 78)
        XCTAssertEqual(SocketChoice.limit(cap: 256, granted: 425_984, alone: 212_992), 2, "no privilege, default rmem_max")
        XCTAssertEqual(SocketChoice.limit(cap: 256, granted: 100_000, alone: 212_992), 1, "never none")
        XCTAssertEqual(SocketChoice.limit(cap: 256, granted: nil, alone: 212_992), 256, "unknown: the cap")
        XCTAssertEqual(SocketChoice.limit(cap: 256, granted: 425_984, alone: 0), 256)
    }

    /// What `SharedDatagramSockets.attach` does: the chosen socket, else a new one.
    private func place(_ receiver: Receiver, addresses: Set<String>, group: String, limit: Int,
                       in sockets: inout [(group: String, routes: Routes, limit: Int)]) {
        if let index = SocketChoice.index(among: sockets, group: group, addresses: addresses) {
            XCTAssertTrue(sockets[index].routes.add(receiver, addresses: addresses))
        } else {
            var routes = Routes()
            XCTAssertTrue(routes.add(receiver, addresses: addresses))
            sockets.append((group: group, routes: routes, limit: limit))
        }
    }
}
