/// The transports one UDP socket carries, found by the remote address a datagram comes from.
/// A transport joins a socket only when none of its remote addresses is taken there, so a
/// source address names at most one transport; a datagram from any other address is nobody's.
/// Sans-IO: generic over the address and the receiver, so the rules are tested without sockets.
struct DatagramRoutes<Address: Hashable, Receiver: AnyObject> {
    private var byAddress: [Address: Receiver] = [:]
    private var addressesOf: [ObjectIdentifier: [Address]] = [:]

    /// Receivers on this socket.
    var count: Int { addressesOf.count }
    var isEmpty: Bool { addressesOf.isEmpty }

    /// Whether a receiver with these remote addresses may join: fewer than `limit` receivers
    /// and none of the addresses already registered.
    func canCarry(_ addresses: Set<Address>, limit: Int) -> Bool {
        addressesOf.count < limit && !addresses.contains { byAddress[$0] != nil }
    }

    /// Registers a receiver's addresses; false (and nothing registered) when one is taken or
    /// the receiver is already here.
    mutating func add(_ receiver: Receiver, addresses: Set<Address>) -> Bool {
        let key = ObjectIdentifier(receiver)
        guard addressesOf[key] == nil, !addresses.contains(where: { byAddress[$0] != nil }) else { return false }
        addressesOf[key] = Array(addresses)
        for address in addresses { byAddress[address] = receiver }
        return true
    }

    /// Removes a receiver and frees its addresses; false when it was not here.
    @discardableResult
    mutating func remove(_ receiver: Receiver) -> Bool {
        guard let addresses = addressesOf.removeValue(forKey: ObjectIdentifier(receiver)) else { return false }
        for address in addresses { byAddress[address] = nil }
        return true
    }

    /// Who a datagram from `address` is for; nil drops it.
    func receiver(from address: Address) -> Receiver? {
        byAddress[address]
    }
}

/// Which of a loop's sockets a new transport goes to: the first one bound the same way that
/// can carry it, else a new socket (nil). A server with one address for many transports (a
/// mediasoup WebRtcServer) thus gets one socket per transport; a server port per transport
/// (mediasoup's default) lets them all share.
enum SocketChoice {
    /// `sockets`: each socket's bind group, routes and how many transports it may carry.
    static func index<Group: Equatable, Address: Hashable, Receiver: AnyObject>(
        among sockets: [(group: Group, routes: DatagramRoutes<Address, Receiver>, limit: Int)],
        group: Group, addresses: Set<Address>
    ) -> Int? {
        sockets.firstIndex { $0.group == group && $0.routes.canCarry(addresses, limit: $0.limit) }
    }

    /// How many transports a socket may carry: never so many that each gets less receive
    /// buffer than a socket of its own would have had (`granted` and `alone` as the kernel
    /// reports them), and never more than `cap`.
    static func limit(cap: Int, granted: Int?, alone: Int?) -> Int {
        guard let granted, let alone, alone > 0 else { return max(1, cap) }
        return max(1, min(cap, granted / alone))
    }
}
