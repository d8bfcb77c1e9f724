"""--remb-layers: which simulcast layer each consumer of a transport gets, decided from the REMB
its receiver sends, the way mediasoup 3.14 decides it for a REMB receiver (a minimal stand-in
for a full estimator, kept to reproduce issue 16 item 3):

- the transport's available bitrate is the last REMB's value, whatever SSRCs it names
  (TransportCongestionControlClient::ReceiveEstimatedBitrate feeds it to the send-side
  estimate as the receiver's limit), before the first one the transport's
  initialAvailableOutgoingBitrate (600 kbit/s unless --remb-initial says otherwise);
- it is handed out layer by layer (Transport::DistributeAvailableOutgoingBitrate): every
  consumer in turn may go up one layer, the next layer costing its measured bitrate less the
  one of the layer already given, allowed when that fits in 1.08 times what is left (no loss),
  until nobody can go up; a consumer given no layer at all is sent nothing (target -1)
  (SimulcastConsumer::IncreaseLayer, ApplyLayers)."""

import collections
import time

INITIAL_AVAILABLE = 600_000
WINDOW = 1.0


class LayerRates:
    """Bits per second of each layer of a source over the last second."""

    def __init__(self):
        self.windows = collections.defaultdict(collections.deque)
        self.sums = collections.defaultdict(int)

    def add(self, layer, size):
        now = time.monotonic()
        window = self.windows[layer]
        window.append((now, size))
        self.sums[layer] += size
        self._prune(layer, now)

    def _prune(self, layer, now):
        window = self.windows[layer]
        while window and now - window[0][0] > WINDOW:
            self.sums[layer] -= window.popleft()[1]

    def bitrate(self, layer):
        self._prune(layer, time.monotonic())
        return int(self.sums[layer] * 8 / WINDOW)


class TransportBudget:
    """One consumer transport: its REMB-fed available bitrate and its simulcast consumers."""

    def __init__(self, initial=INITIAL_AVAILABLE):
        self.available = initial
        self.consumers = []

    def add(self, consumer):
        self.consumers.append(consumer)
        consumer.on_remb = self.remb
        self.distribute()

    def remb(self, bitrate):
        self.available = bitrate
        self.distribute()

    def distribute(self):
        # (a consumer whose producer has not been measured yet keeps what it has)
        live = [c for c in self.consumers if not c.closed and c.switch is not None
                and any(c.source.layer_rates.bitrate(layer) for layer in range(len(c.source.layer_ssrcs)))]
        given = {c: -1 for c in live}
        left = self.available
        while left > 0:
            before = left
            for consumer in live:
                left -= self._increase(consumer, given, left)
            if left == before:
                break
        for consumer in live:
            consumer.counters["available_bitrate"] = self.available
            if given[consumer] < 0:
                consumer.switch.stop()
            else:
                consumer.want_layer(given[consumer])

    @staticmethod
    def _increase(consumer, given, available):
        rates = consumer.source.layer_rates
        current = given[consumer]
        for layer in range(current + 1, len(consumer.source.layer_ssrcs)):
            required = rates.bitrate(layer)
            if required == 0:
                continue   # not flowing
            if current >= 0:
                required = max(required - rates.bitrate(current), 1)
            if required > 1.08 * available:
                return 0
            given[consumer] = layer
            return min(required, available)
        return 0
