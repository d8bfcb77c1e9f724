"""The send side of the test server's bandwidth handling, per consumer transport, in the manner
of mediasoup 3.14 (TransportCongestionControlClient + Transport::DistributeAvailableOutgoingBitrate
+ SimulcastConsumer::IncreaseLayer). Written here, simpler than libwebrtc's GCC, and honest:
every figure comes from what the consumer side reported.

Two modes, chosen like mediasoup by the first consumer that negotiates one: transport-cc (the
consumers' packets carry a transport-wide sequence number, one counter per transport, and the
client's feedback says when each arrived) or REMB (the client's own estimate, as aiortc sends).

transport-cc: packets are grouped by send time (5 ms bursts); for each group the change of
one-way delay against the previous group is accumulated, smoothed, and the slope of its trend
over the last 20 groups (scaled as libwebrtc's trendline does) is compared with an adaptive
threshold: overuse, normal or underuse. AIMD on top: start at mediasoup's
initialAvailableOutgoingBitrate (600 kbit/s); on overuse down to 0.85 x the delivered rate; on
normal up 8 %/s (additive, about a packet per 200 ms, once near the rate of the last decrease),
never above 1.5 x delivered + 10 kbit/s (an app-limited sender has no evidence for more); more
than 10 % loss cuts by half the loss, 2-10 % holds. Probe clusters (padding on SSRC 1234, as
mediasoup's RtpProbationGenerator) show whether more would pass when the consumers want more:
their delivered rate, when no overuse shows, raises the estimate.

REMB: the available bitrate is the client's latest REMB."""

import asyncio
import collections
import logging
import random
import struct
import time

from . import twcc

log = logging.getLogger("roomserver.bandwidth")

INITIAL_BITRATE = 600_000          # mediasoup's initialAvailableOutgoingBitrate
MIN_BITRATE = 30_000               # mediasoup's minimum outgoing bitrate
GROUP_SPAN_MS = 5.0
TREND_WINDOW = 20
SMOOTHING = 0.9
THRESHOLD_GAIN = 4.0
DISTRIBUTE_INTERVAL = 1.0          # mediasoup's available-bitrate event interval
BWE_DOWNGRADE_CONSERVATIVE_MS = 10_000
PROBATION_SSRC = 1234
PROBATION_PAYLOAD_TYPE = 127
HISTORY = 120
PADDING_INTERVAL = 0.05
PADDING_SIZE = 255                 # padding bytes per packet (the count is one byte)


def now_ms():
    return time.monotonic() * 1000.0


class Trendline:
    """Delay-variation trend over packet groups, with libwebrtc's adaptive threshold."""

    def __init__(self):
        self.accumulated = 0.0
        self.smoothed = 0.0
        self.points = collections.deque(maxlen=TREND_WINDOW)
        self.first_arrival = None
        self.deltas = 0
        self.trend = 0.0          # the scaled slope compared with the threshold
        self.threshold = 12.5
        self.last_threshold_update = None
        self.overuse_count = 0
        self.previous_trend = 0.0
        self.signal = "normal"

    def add(self, send_delta_ms, arrival_delta_ms, arrival_ms):
        if self.first_arrival is None:
            self.first_arrival = arrival_ms
        self.deltas += 1
        self.accumulated += arrival_delta_ms - send_delta_ms
        self.smoothed = SMOOTHING * self.smoothed + (1 - SMOOTHING) * self.accumulated
        self.points.append((arrival_ms - self.first_arrival, self.smoothed))
        if len(self.points) == TREND_WINDOW:
            xs = [p[0] for p in self.points]
            ys = [p[1] for p in self.points]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            denominator = sum((x - mx) ** 2 for x in xs)
            if denominator > 0:
                slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / denominator
                self.trend = slope * min(self.deltas, 60) * THRESHOLD_GAIN
        self._detect(arrival_ms)
        return self.signal

    def _detect(self, arrival_ms):
        if len(self.points) < TREND_WINDOW:
            return
        trend = self.trend
        if trend > self.threshold:
            self.overuse_count += 1
            if self.overuse_count > 1 and trend >= self.previous_trend:
                self.signal = "overuse"
        elif trend < -self.threshold:
            self.overuse_count = 0
            self.signal = "underuse"
        else:
            self.overuse_count = 0
            self.signal = "normal"
        self.previous_trend = trend
        # the threshold follows |trend| (quickly down, slowly up), except for spikes far above it
        if self.last_threshold_update is not None and abs(trend) <= self.threshold + 15:
            k = 0.039 if abs(trend) < self.threshold else 0.0087
            elapsed = min(arrival_ms - self.last_threshold_update, 100.0)
            self.threshold = min(600.0, max(6.0, self.threshold + k * (abs(trend) - self.threshold) * elapsed))
        self.last_threshold_update = arrival_ms


class RateWindow:
    """Bytes over the last second (of whichever clock the samples carry), as bits per second;
    None until there is something to measure."""

    def __init__(self, window_ms=1000.0):
        self.window = window_ms
        self.samples = collections.deque()
        self.total = 0

    def add(self, at_ms, size):
        self.samples.append((at_ms, size))
        self.total += size
        self._trim(at_ms)

    def _trim(self, at_ms):
        while self.samples and self.samples[0][0] <= at_ms - self.window:
            self.total -= self.samples.popleft()[1]

    def rate(self, at_ms=None):
        if not self.samples:
            return None
        if at_ms is not None:
            self._trim(at_ms)
            if not self.samples:
                return 0
        span = self.samples[-1][0] - self.samples[0][0]
        # a short history is measured over what it spans, at least 250 ms
        return int(self.total * 8000 / max(self.window if span > self.window / 2 else span, 250.0))


class TransportEstimator:
    """One consumer transport's available outgoing bitrate."""

    def __init__(self, mode):
        self.mode = mode                       # "transport-cc" or "remb"
        self.available = INITIAL_BITRATE
        self.seq = 0
        self.sent = {}                         # wide seq -> (send ms, bytes, probe cluster or None)
        self.sent_order = collections.deque()
        self.trend = Trendline()
        self.group = None                      # [first send, last send, last arrival] of the open group
        self.previous_group = None
        self.delivered = RateWindow()          # on the receiver's clock
        self.sent_rate = RateWindow()
        self.loss_window = collections.deque()  # (ms, reported, lost)
        self.last_decrease = None
        self.decrease_rate = None              # delivered rate at the last decrease
        self.last_update = None
        self.last_loss_cut = None
        self.last_overuse = None
        self.state = "increase"
        self.feedback_received = 0
        self.feedback_malformed = 0
        self.remb_received = 0
        self.last_remb = None
        self.history = collections.deque(maxlen=HISTORY)
        self.clusters = {}                     # id -> {"rate", "sent", "done", "result"}
        self.next_cluster = 1
        self.probes_sent = 0
        self.probe_results = collections.deque(maxlen=10)
        self.started = now_ms()
        self._record("start")

    # -- send side --------------------------------------------------------------------------

    def next_seq(self):
        self.seq = (self.seq + 1) & 0xFFFF
        return self.seq

    def on_sent(self, seq, size, cluster=None, at_ms=None):
        at_ms = now_ms() if at_ms is None else at_ms
        if seq in self.sent:
            self.sent.pop(seq)
        self.sent[seq] = (at_ms, size, cluster)
        self.sent_order.append((at_ms, seq))
        self.sent_rate.add(at_ms, size)
        # the last 20000 packets (well short of the 16-bit sequence wrapping) await feedback
        while len(self.sent_order) > 20000:
            sent_at, old = self.sent_order.popleft()
            entry = self.sent.get(old)
            if entry is not None and entry[0] == sent_at:
                del self.sent[old]

    # -- feedback ---------------------------------------------------------------------------

    def on_rtcp(self, data, at_ms=None):
        """A compound RTCP packet from the client: transport-cc feedback and REMB are used."""
        at_ms = now_ms() if at_ms is None else at_ms
        offset = 0
        while offset + 4 <= len(data):
            length = (struct.unpack_from("!H", data, offset + 2)[0] + 1) * 4
            packet = data[offset:offset + length]
            if len(packet) < length:
                break
            fmt, packet_type = packet[0] & 0x1F, packet[1]
            if packet_type == twcc.PACKET_TYPE and fmt == twcc.FORMAT:
                try:
                    feedback = twcc.Feedback.parse(packet)
                except ValueError:
                    self.feedback_malformed += 1
                else:
                    self.on_feedback(feedback, at_ms)
            elif packet_type == 206 and fmt == 15 and len(packet) >= 20 and packet[12:16] == b"REMB":
                exponent, mantissa = packet[17] >> 2, ((packet[17] & 3) << 16) | struct.unpack_from("!H", packet, 18)[0]
                self.on_remb(mantissa << exponent, at_ms)
            offset += length

    def on_remb(self, bitrate, at_ms=None):
        self.remb_received += 1
        self.last_remb = bitrate
        if self.mode == "remb":
            self._set(bitrate, "remb")      # floored at 30 kbit/s, as mediasoup floors it

    def on_feedback(self, feedback, at_ms=None):
        at_ms = now_ms() if at_ms is None else at_ms
        self.feedback_received += 1
        if self.mode != "transport-cc":
            return
        reported = lost = 0
        for seq, arrival_us in feedback.results():
            entry = self.sent.get(seq)
            if entry is None:
                continue
            reported += 1
            send_ms, size, cluster = entry
            if cluster is not None:
                self._probe_packet(cluster, send_ms, size, arrival_us, at_ms)
            if arrival_us is None:
                lost += 1
                continue
            arrival_ms = arrival_us / 1000.0
            self.delivered.add(arrival_ms, size)
            self._group(send_ms, arrival_ms)
        if not reported:
            return                               # nothing this side sent: no news
        self.loss_window.append((at_ms, reported, lost))
        while self.loss_window and self.loss_window[0][0] < at_ms - 1000:
            self.loss_window.popleft()
        self._update(at_ms)

    def _group(self, send_ms, arrival_ms):
        group = self.group
        if group is None:
            self.group = [send_ms, send_ms, arrival_ms]
            return
        if send_ms < group[0]:
            return                               # reordered relative to its group: left out
        if send_ms - group[0] <= GROUP_SPAN_MS:
            group[1] = max(group[1], send_ms)
            group[2] = max(group[2], arrival_ms)
            return
        if self.previous_group is not None:
            send_delta = group[1] - self.previous_group[1]
            arrival_delta = group[2] - self.previous_group[2]
            if arrival_delta >= 0:
                self.trend.add(send_delta, arrival_delta, group[2])
        self.previous_group = group
        self.group = [send_ms, send_ms, arrival_ms]

    @property
    def loss(self):
        reported = sum(r for _, r, _ in self.loss_window)
        return (sum(lost for _, _, lost in self.loss_window) / reported) if reported else None

    def recent_loss(self, at_ms):
        """The loss the feedback of the last second before `at_ms` reported; None without any.
        (`loss` is as of the last feedback: when nothing is sent, no feedback comes to age it.)"""
        recent = [(reported, lost) for ms, reported, lost in self.loss_window if ms >= at_ms - 1000]
        reported = sum(r for r, _ in recent)
        return sum(lost for _, lost in recent) / reported if reported else None

    def delivered_bitrate(self):
        return self.delivered.rate()

    def _update(self, at_ms):
        signal = self.trend.signal
        delivered = self.delivered.rate()
        rate = self.available
        elapsed = 0.0 if self.last_update is None else min(1.0, (at_ms - self.last_update) / 1000.0)
        self.last_update = at_ms
        loss = self.loss
        if signal == "overuse":
            self.last_overuse = at_ms
            if self.last_decrease is None or at_ms - self.last_decrease > 200:
                basis = delivered if delivered else rate
                rate = min(rate, int(0.85 * basis))
                self.last_decrease = at_ms
                self.decrease_rate = delivered
                self.state = "hold"
                self._set(rate, "overuse")
            return
        if signal == "underuse":
            self.state = "hold"
            return
        if self.state == "hold":
            self.state = "increase"
            return
        if loss is not None and loss > 0.10:
            if self.last_loss_cut is None or at_ms - self.last_loss_cut > 300:
                self.last_loss_cut = at_ms
                self._set(int(rate * (1 - 0.5 * loss)), "loss")
            return
        if loss is not None and loss > 0.02:
            return
        if self.decrease_rate is not None and rate > 0.9 * self.decrease_rate:
            increased = rate + int(1200 * 8 / 0.2 * elapsed)     # about one packet per response time
        else:
            increased = int(rate * (1.08 ** elapsed))
        if delivered is not None:
            limit = int(1.5 * delivered) + 10_000
            if increased > limit:
                increased = max(rate, limit) if rate < limit else rate
        if increased != rate:
            self._set(increased, "increase")

    def _set(self, rate, why):
        self.available = max(MIN_BITRATE, int(rate))
        self._record(why)

    def _record(self, why):
        if self.history and self.history[-1]["bps"] == self.available and self.history[-1]["why"] == why:
            return                                   # the same again: no change to record
        self.history.append({"t": round((now_ms() - self.started) / 1000.0, 2), "bps": self.available, "why": why})

    # -- probing ----------------------------------------------------------------------------

    def new_cluster(self, rate):
        cluster = self.next_cluster
        self.next_cluster += 1
        self.clusters[cluster] = {"rate": rate, "packets": 0, "reported": 0, "received": [], "sends": []}
        if len(self.clusters) > 8:
            del self.clusters[min(self.clusters)]
        self.probes_sent += 1
        return cluster

    def _probe_packet(self, cluster, send_ms, size, arrival_us, at_ms):
        probe = self.clusters.get(cluster)
        if probe is None or probe.get("done"):
            return
        probe["reported"] += 1
        probe["sends"].append((send_ms, size))
        if arrival_us is not None:
            probe["received"].append((arrival_us / 1000.0, size))
        if probe["reported"] >= probe["packets"] * 0.8 and probe["packets"] >= 5:
            probe["done"] = True
            received = sorted(probe["received"])
            sends = sorted(probe["sends"])
            if len(received) < 5 or len(received) < 0.8 * probe["packets"]:
                self.probe_results.append({"cluster": cluster, "target": probe["rate"], "result": None})
                return
            # as libwebrtc's probe estimator: bytes after the first over the span, the lower of
            # the send and the receive rate
            send_span = sends[-1][0] - sends[0][0]
            receive_span = received[-1][0] - received[0][0]
            if send_span <= 0 or receive_span <= 0:
                return
            send_rate = sum(s for _, s in sends[:-1]) * 8000 / send_span
            receive_rate = sum(s for _, s in received[1:]) * 8000 / receive_span
            measured = int(min(send_rate, receive_rate))
            self.probe_results.append({"cluster": cluster, "target": probe["rate"], "result": measured})
            recent_overuse = self.last_overuse is not None and now_ms() - self.last_overuse < 2000
            if measured > self.available and not recent_overuse and (self.recent_loss(at_ms) or 0) <= 0.1:
                self._set(measured, "probe")

    def report(self):
        return {
            "mode": self.mode,
            "available_bitrate": self.available,
            "delivered_bitrate": self.delivered.rate() if self.mode == "transport-cc" else None,
            "sent_bitrate": self.sent_rate.rate(now_ms()),
            "loss": round(self.loss, 4) if self.loss is not None else None,
            "delay_trend": round(self.trend.trend, 3) if self.mode == "transport-cc" else None,
            "delay_threshold": round(self.trend.threshold, 3) if self.mode == "transport-cc" else None,
            "delay_signal": self.trend.signal if self.mode == "transport-cc" else None,
            "feedback_received": self.feedback_received,
            "feedback_malformed": self.feedback_malformed,
            "remb_received": self.remb_received,
            "last_remb": self.last_remb,
            "probes_sent": self.probes_sent,
            "probe_results": list(self.probe_results),
            "history": list(self.history),
        }


class LayerRates:
    """A simulcast producer's layer streams: bits per second of each over the last second (what
    mediasoup's GetLayerBitrate gives, from the producer's receive streams)."""

    def __init__(self, layers):
        self.windows = [RateWindow() for _ in range(layers)]

    def add(self, layer, size, at_ms=None):
        if 0 <= layer < len(self.windows):
            self.windows[layer].add(now_ms() if at_ms is None else at_ms, size)

    def bitrate(self, layer, at_ms=None):
        if not 0 <= layer < len(self.windows):
            return 0
        rate = self.windows[layer].rate(now_ms() if at_ms is None else at_ms)
        return rate or 0

    def report(self):
        return [self.bitrate(i) for i in range(len(self.windows))]


class SimulcastChoice:
    """One simulcast consumer in the distribution (mediasoup's SimulcastConsumer::IncreaseLayer,
    spatial layers only: the test producers have no temporal layers)."""

    def __init__(self, consumer, rates, layers, priority=1):
        self.consumer = consumer
        self.rates = rates
        self.layers = layers
        self.priority = priority
        self.provisional = -1
        self.last_downgrade_ms = None

    def increase(self, bitrate, consider_loss, at_ms):
        if self.provisional == self.layers - 1:
            return 0
        virtual = bitrate
        if consider_loss:
            loss = self.consumer.counters.get("rr_fraction_lost", 0) / 256.0
            if loss < 0.02:
                virtual = int(1.08 * bitrate)
            elif loss > 0.10:
                virtual = int((1 - 0.5 * loss) * bitrate)
        current = self.consumer.layer
        required = 0
        chosen = None
        for layer in range(self.layers):
            # after a downgrade for bandwidth, stay at most at the current layer for 10 s
            if self.last_downgrade_ms is not None and at_ms - self.last_downgrade_ms < BWE_DOWNGRADE_CONSERVATIVE_MS \
                    and self.provisional > -1 and current is not None and layer > current:
                break
            if layer <= self.provisional:
                continue
            required = self.rates.bitrate(layer, at_ms)
            if required:
                chosen = layer
                break
        if chosen is None:
            return 0
        if self.provisional > -1:
            # a higher layer replaces the provisional one: only the difference is new
            previous = self.rates.bitrate(self.provisional, at_ms)
            required = required - previous if required > previous else 1
        if required > virtual:
            return 0
        self.provisional = chosen
        return required if required <= bitrate else bitrate


class Distributor:
    """Transport::DistributeAvailableOutgoingBitrate for one consumer transport: consumers by
    priority, first the lowest layer for each, then a layer more for each in turn while the
    bitrate lasts; the outcome is each consumer's target layer (-1: nothing fits, nothing sent)."""

    def __init__(self, estimator, fixed_layer=lambda: None):
        self.estimator = estimator
        self.choices = []
        self.fixed_layer = fixed_layer     # the --simulcast-layer / POST /simulcast-layer override
        self.runs = 0
        self.task = None
        self.last_desired = 0

    def add(self, choice):
        self.choices.append(choice)

    def remove(self, consumer):
        self.choices = [c for c in self.choices if c.consumer is not consumer]

    def desired_bitrate(self, at_ms):
        return sum(c.rates.bitrate(c.layers - 1, at_ms) for c in self.choices if not c.consumer.closed)

    def distribute(self, at_ms=None):
        at_ms = now_ms() if at_ms is None else at_ms
        self.runs += 1
        live = [c for c in self.choices if not c.consumer.closed]
        if self.fixed_layer() is not None:
            return
        available = self.estimator.available
        consider_loss = self.estimator.mode == "remb"
        for choice in live:
            choice.provisional = -1
        ordered = sorted(live, key=lambda c: -c.priority)
        base = True
        while True:
            before = available
            for choice in ordered:
                for _ in range(1 if base else choice.priority):
                    used = choice.increase(available, consider_loss, at_ms)
                    available -= used
                    if used == 0:
                        break
            if available == before or available <= 0:
                break
            base = False
        for choice in live:
            target = choice.provisional
            current = choice.consumer.target_layer
            if current is not None and current >= 0 and target < current:
                choice.last_downgrade_ms = at_ms
            choice.consumer.set_target_layer(target)
        self.last_desired = self.desired_bitrate(at_ms)


class TransportBandwidth:
    """What one consumer transport carries for bandwidth: the estimator, the distribution, the
    periodic work (distribution each second, probes when the consumers want more)."""

    def __init__(self, dtls, mode, fixed_layer):
        self.dtls = dtls
        self.estimator = TransportEstimator(mode)
        self.distributor = Distributor(self.estimator, fixed_layer)
        self.probe_template = None      # (mid id, mid, abs-send-time id, wide-seq id)
        # probes as padding on a consumer's RTX stream instead of SSRC 1234: for a client with no
        # probator m-line (mediasoup-client makes one; a bare browser view has none and drops
        # SSRC 1234 unreported, which reads as loss)
        self.probe_on_rtx = False
        self.last_probe = None
        self.probe_gap = 2000.0
        self.padding_packets = 0
        self.padding_bytes = 0
        self.task = None
        self.closed = False

    def stamp(self, data, wide_id):
        """An RTP packet about to go out: with the transport's next wide sequence number written
        in (one-byte header extension element `wide_id`) and recorded for the feedback, or
        (no `wide_id`) only counted in the rate sent."""
        if wide_id is None:
            self.estimator.sent_rate.add(now_ms(), len(data))
            return data
        seq = self.estimator.next_seq()
        data = add_extension_element(data, wide_id, struct.pack("!H", seq))
        self.estimator.on_sent(seq, len(data))
        return data

    def start(self):
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())

    def stop(self):
        self.closed = True
        if self.task is not None:
            self.task.cancel()

    async def _run(self):
        try:
            next_distribution = 0.0
            while not self.closed:
                if time.monotonic() >= next_distribution:
                    next_distribution = time.monotonic() + DISTRIBUTE_INTERVAL
                    self.distributor.distribute()
                    await self._maybe_probe()
                await self._maybe_pad()
                await asyncio.sleep(PADDING_INTERVAL)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("bandwidth task failed")

    async def _maybe_pad(self):
        """REMB mode: while the consumers want more than the estimate and what is sent stays
        below it, padding on a simulcast consumer's RTX stream fills up to the estimate (never
        above), as libwebrtc pads: a REMB client (aiortc drops SSRC 1234's probes) can only
        raise its estimate from what it receives."""
        estimator = self.estimator
        if estimator.mode != "remb":
            return
        at = now_ms()
        desired = self.distributor.desired_bitrate(at)
        if not desired or desired <= estimator.available:
            return
        carrier = self.padding_carrier(max_fraction_lost=5)
        if carrier is None:
            return
        sent = estimator.sent_rate.rate(at) or 0
        deficit = min(estimator.available, desired) - sent
        budget = int(deficit * PADDING_INTERVAL / 8)
        while budget >= PADDING_SIZE:
            data = padding_packet(carrier)
            budget -= len(data)
            estimator.sent_rate.add(at, len(data))
            self.padding_packets += 1
            self.padding_bytes += len(data)
            try:
                await self.dtls._send_rtp(data)
            except Exception:
                return

    def padding_carrier(self, max_fraction_lost=255):
        """A simulcast consumer whose RTX stream can carry padding (started, RTX negotiated,
        something sent, abs-send-time), or None."""
        return next((c.consumer for c in self.distributor.choices
                     if not c.consumer.closed and c.consumer.started and c.consumer.rtx_ssrc is not None
                     and c.consumer.rtx_payload_type is not None
                     and c.consumer.last_out_ts is not None and c.consumer.abs_id is not None
                     and c.consumer.counters.get("rr_fraction_lost", 0) <= max_fraction_lost), None)

    async def _maybe_probe(self):
        estimator = self.estimator
        if estimator.mode != "transport-cc" or self.probe_template is None:
            return
        at = now_ms()
        desired = self.distributor.desired_bitrate(at)
        if not desired or desired <= estimator.available:
            return
        if estimator.last_overuse is not None and at - estimator.last_overuse < 5000:
            return
        # the loss of the last second only: a transport whose consumers the loss left without a
        # layer sends nothing and gets no feedback, and a probe is its only way back up
        if (estimator.recent_loss(at) or 0) > 0.02:
            return
        if self.last_probe is not None and at - self.last_probe < self.probe_gap:
            return
        self.last_probe = at
        self.probe_gap = min(self.probe_gap * 1.5, 10_000.0)
        target = int(min(2 * estimator.available, 1.5 * desired))
        await self.probe(target)

    async def probe(self, rate, duration_ms=60.0, size=900):
        """A probe cluster: padding packets at `rate` for `duration_ms` (at least 5)."""
        estimator = self.estimator
        carrier = self.padding_carrier() if self.probe_on_rtx else None
        if self.probe_on_rtx:
            if carrier is None:
                return
            size = PADDING_SIZE + 40     # a padding packet can carry no more (its count is one byte)
        count = max(5, int(rate * duration_ms / 1000.0 / 8 / size))
        cluster = estimator.new_cluster(rate)
        estimator.clusters[cluster]["packets"] = count
        gap = duration_ms / 1000.0 / count
        seq = random.randint(0, 0xFFFF)
        wide_id = self.probe_template[3]
        for _ in range(count):
            wide = estimator.next_seq()
            if carrier is not None:
                data = add_extension_element(padding_packet(carrier), wide_id, struct.pack("!H", wide))
            else:
                data = self._probator_packet(seq, wide, size)
                seq = (seq + 1) & 0xFFFF
            estimator.on_sent(wide, len(data), cluster=cluster)
            try:
                await self.dtls._send_rtp(data)
            except Exception:
                return
            await asyncio.sleep(gap)

    def _probator_packet(self, seq, wide, size):
        """A probe on mediasoup's probator SSRC: MID "probator", abs-send-time, the wide sequence."""
        mid_id, mid, abs_id, wide_id = self.probe_template
        ext = b""
        if mid_id is not None:
            ext += bytes([(mid_id << 4) | (len(mid) - 1)]) + mid
        if abs_id is not None:
            ntp = int((time.time() + 2208988800) * (1 << 18))
            ext += bytes([(abs_id << 4) | 2]) + (ntp & 0xFFFFFF).to_bytes(3, "big")
        ext += bytes([(wide_id << 4) | 1]) + struct.pack("!H", wide)
        ext += b"\x00" * (-len(ext) % 4)
        header = struct.pack("!BBHIIHH", 0x90, PROBATION_PAYLOAD_TYPE, seq, int(time.monotonic() * 90000) & 0xFFFFFFFF,
                             PROBATION_SSRC, 0xBEDE, len(ext) // 4) + ext
        return header + b"\x00" * max(0, size - len(header))

    def report(self):
        out = self.estimator.report()
        out["desired_bitrate"] = self.distributor.last_desired
        out["distributions"] = self.distributor.runs
        out["padding_packets"] = self.padding_packets
        out["padding_bytes"] = self.padding_bytes
        return out


def padding_packet(consumer):
    """A padding-only packet on the consumer's RTX stream (its sequence goes on), with its MID
    and abs-send-time: what a REMB estimator counts."""
    ext = consumer.extension + bytes([(consumer.abs_id << 4) | 2]) + \
        ((int((time.time() + 2208988800) * (1 << 18))) & 0xFFFFFF).to_bytes(3, "big")
    ext += b"\x00" * (-len(ext) % 4)
    header = struct.pack("!BBHIIHH", 0xB0, consumer.rtx_payload_type, consumer.rtx_seq, consumer.last_out_ts,
                         consumer.rtx_ssrc, 0xBEDE, len(ext) // 4) + ext
    consumer.rtx_seq = (consumer.rtx_seq + 1) & 0xFFFF
    return header + b"\x00" * (PADDING_SIZE - 1) + bytes([PADDING_SIZE])


def add_extension_element(data, element_id, value):
    """`data` (an RTP packet) with a one-byte header extension element added (RFC 8285): into
    its one-byte block (after its last element, padded again), or in a new block. A packet
    with a two-byte block, or too short to be RTP, is returned unchanged."""
    if len(data) < 12 or not 1 <= len(value) <= 16:
        return data
    element = bytes([(element_id << 4) | (len(value) - 1)]) + value
    start = 12 + 4 * (data[0] & 0x0F)
    if not data[0] & 0x10:
        block = element + b"\x00" * (-len(element) % 4)
        return bytes([data[0] | 0x10]) + data[1:start] + struct.pack("!HH", 0xBEDE, len(block) // 4) + block + data[start:]
    if start + 4 > len(data):
        return data
    profile, words = struct.unpack_from("!HH", data, start)
    end = start + 4 + 4 * words
    if profile != 0xBEDE or end > len(data):
        return data
    elements = data[start + 4:end]
    used, i = 0, 0
    while i < len(elements):
        if elements[i] == 0:        # padding between or after elements
            i += 1
            continue
        if elements[i] >> 4 == 15:
            break
        i += 2 + (elements[i] & 0x0F)
        used = min(i, len(elements))
    block = elements[:used] + element
    block += b"\x00" * (-len(block) % 4)
    return data[:start] + struct.pack("!HH", 0xBEDE, len(block) // 4) + block + data[end:]


class ProducerFeedback:
    """The receive side of a producer transport, as mediasoup runs it when a producer's
    rtpParameters carry the transport-wide sequence extension and its codec the transport-cc
    feedback: every RTP packet's wide sequence number and arrival (RTX and probes too) go to a
    twcc.FeedbackServer, and its feedback goes out every 100 ms once the transport is up."""

    def __init__(self, dtls, ext_id, connected):
        self.dtls = dtls
        self.ext_id = ext_id
        self.server = twcc.FeedbackServer(self._send)
        self.connected = connected
        self.task = asyncio.ensure_future(self._run())
        self.send_errors = 0

    def observe(self, data):
        seq = twcc.read_extension(data, self.ext_id)
        if seq is not None:
            self.server.packet(seq, int.from_bytes(data[8:12], "big"), int(now_ms()))

    def _send(self, data):
        asyncio.ensure_future(self._send_now(data))

    async def _send_now(self, data):
        try:
            await self.dtls._send_rtp(data)
        except Exception:
            self.send_errors += 1

    async def _run(self):
        try:
            await self.connected.wait()
            while True:
                await asyncio.sleep(twcc.SEND_INTERVAL)
                self.server.tick(int(now_ms()))
        except asyncio.CancelledError:
            pass

    def stop(self):
        self.task.cancel()

    def report(self):
        return dict(self.server.report(), extension_id=self.ext_id)


def consumer_mode(params):
    """transport-cc when the consumer negotiated the wide sequence extension and the codec the
    transport-cc feedback; REMB with abs-send-time and goog-remb; else None (mediasoup's rule
    for creating a transport's TransportCongestionControlClient)."""
    uris = {e.get("uri") for e in params.get("headerExtensions", [])}
    feedback = {fb.get("type") for c in params.get("codecs", []) for fb in c.get("rtcpFeedback", [])}
    if twcc.URI in uris and "transport-cc" in feedback:
        return "transport-cc"
    if "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" in uris and "goog-remb" in feedback:
        return "remb"
    return None


def producer_uses_feedback(params):
    ext = next((e.get("id") for e in params.get("headerExtensions", []) if e.get("uri") == twcc.URI), None)
    feedback = any(fb.get("type") == "transport-cc" for c in params.get("codecs", []) for fb in c.get("rtcpFeedback", []))
    return ext if ext is not None and feedback else None
