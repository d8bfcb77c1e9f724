import Synchronization

/// Which producers a receive session has taken on and which consumer each became: dedupes
/// producers announced twice (a broadcast and the `getProducers` answer), lets a producer be
/// consumed again once its consumer closed, and bounds what a flooding server can make us hold.
package final class ConsumerTable: Sendable {
    package enum Claim: Equatable { case new, known, full }

    /// Far above any real room (a 50-member call has ~100 producers).
    package static let limit = 10_000

    private struct State {
        var producers: Set<String> = []
        var producerOfConsumer: [String: String] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Takes a producer on, unless it is already known or the table is full.
    package func claim(_ producerId: String) -> Claim {
        state.withLock { state in
            if state.producers.contains(producerId) { return .known }
            guard state.producers.count < Self.limit else { return .full }
            state.producers.insert(producerId)
            return .new
        }
    }

    /// Producers taken on and consumers bound (what the table holds).
    package var counts: (producers: Int, consumers: Int) {
        state.withLock { ($0.producers.count, $0.producerOfConsumer.count) }
    }

    package func bind(producerId: String, consumerId: String) {
        state.withLock { $0.producerOfConsumer[consumerId] = producerId }
    }

    /// The consumer is gone: its producer may be announced and consumed again.
    package func closed(consumerId: String) {
        state.withLock { state in
            if let producer = state.producerOfConsumer.removeValue(forKey: consumerId) { state.producers.remove(producer) }
        }
    }
}
