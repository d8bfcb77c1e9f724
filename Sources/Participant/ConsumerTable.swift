import Synchronization

/// Which producers a receive session has taken on and which consumer each became: dedupes
/// producers announced twice (a broadcast and the `getProducers` answer), lets a producer be
/// consumed again once its consumer closed, and bounds what a flooding server can make us hold.
final class ConsumerTable: Sendable {
    enum Claim: Equatable { case new, known, full }

    /// Far above any real room (a 50-member call has ~100 producers).
    static let limit = 10_000

    private struct State {
        var producers: Set<String> = []
        var producerOfConsumer: [String: String] = [:]
    }

    private let state = Mutex(State())

    /// Takes a producer on, unless it is already known or the table is full.
    func claim(_ producerId: String) -> Claim {
        state.withLock { state in
            if state.producers.contains(producerId) { return .known }
            guard state.producers.count < Self.limit else { return .full }
            state.producers.insert(producerId)
            return .new
        }
    }

    func bind(producerId: String, consumerId: String) {
        state.withLock { $0.producerOfConsumer[consumerId] = producerId }
    }

    /// The consumer is gone: its producer may be announced and consumed again.
    func closed(consumerId: String) {
        state.withLock { state in
            if let producer = state.producerOfConsumer.removeValue(forKey: consumerId) { state.producers.remove(producer) }
        }
    }
}
