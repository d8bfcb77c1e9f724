"""roomserver.bandwidth: the estimator fed with made-up feedback (a queue that builds up, loss,
a clean link, REMB), the layer distribution, and the wide sequence written into packets.

    .venv/bin/python -m unittest discover -s Tests/RoomServer/tests"""

import asyncio
import collections
import os
import struct
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from roomserver import bandwidth, forwarding, twcc  # noqa: E402


def feed(estimator, packets, feedback_every_ms=100):
    """packets: (send ms, size, arrival ms or None). Each is sent with the next wide sequence
    number; feedback (parsed from the bytes twcc.FeedbackServer writes) goes back every 100 ms
    of the receiver's clock."""
    out = []
    server = twcc.FeedbackServer(out.append)
    arrivals = []
    for send_ms, size, arrival_ms in packets:
        seq = estimator.next_seq()
        estimator.on_sent(seq, size, at_ms=send_ms)
        if arrival_ms is not None:
            arrivals.append((arrival_ms, seq))
    arrivals.sort()
    next_tick = arrivals[0][0] + feedback_every_ms
    for arrival_ms, seq in arrivals:
        while arrival_ms >= next_tick:
            server.tick(int(next_tick))
            for data in out:
                estimator.on_rtcp(data, at_ms=next_tick + 5)
            out.clear()
            next_tick += feedback_every_ms
        server.packet(seq, 1, int(arrival_ms))
    server.tick(int(next_tick))
    for data in out:
        estimator.on_rtcp(data, at_ms=next_tick + 5)


def paced(start_ms, seconds, bitrate, size=1000):
    """Packets of `size` bytes at `bitrate`, send times from start_ms."""
    gap = size * 8 * 1000.0 / bitrate
    return [start_ms + i * gap for i in range(int(seconds * 1000 / gap))]


class EstimatorTests(unittest.TestCase):
    def test_a_clean_link_raises_the_estimate_no_further_than_the_delivered_rate_allows(self):
        estimator = bandwidth.TransportEstimator("transport-cc")
        self.assertEqual(estimator.available, 600_000)
        sends = paced(1000, 10, 500_000)
        feed(estimator, [(t, 1000, t + 20) for t in sends])
        self.assertEqual(estimator.trend.signal, "normal")
        self.assertGreater(estimator.available, 600_000)
        delivered = estimator.delivered_bitrate()
        self.assertAlmostEqual(delivered, 500_000, delta=50_000)
        self.assertLessEqual(estimator.available, 1.5 * delivered + 10_000 + 1)

    def test_a_growing_queue_is_overuse_and_the_estimate_drops_below_the_delivered_rate(self):
        estimator = bandwidth.TransportEstimator("transport-cc")
        # 800 kbit/s sent into a 400 kbit/s bottleneck: each packet leaves 20 ms after the last
        sends = paced(1000, 4, 800_000)
        arrivals, free = [], 0.0
        for t in sends:
            free = max(t + 20, free + 1000 * 8 * 1000.0 / 400_000)
            arrivals.append(free)
        feed(estimator, [(t, 1000, a) for t, a in zip(sends, arrivals)])
        self.assertIsNotNone(estimator.last_overuse, estimator.report())
        self.assertLess(estimator.available, 400_000)
        self.assertGreater(estimator.available, 200_000)
        self.assertIn("overuse", [h["why"] for h in estimator.history])

    def test_heavy_loss_cuts_the_estimate(self):
        estimator = bandwidth.TransportEstimator("transport-cc")
        sends = paced(1000, 3, 300_000)
        feed(estimator, [(t, 1000, None if i % 4 == 0 else t + 20) for i, t in enumerate(sends)])
        self.assertAlmostEqual(estimator.loss, 0.25, delta=0.03)
        self.assertLess(estimator.available, 600_000)
        self.assertIn("loss", [h["why"] for h in estimator.history])

    def test_remb_is_the_available_bitrate_in_remb_mode(self):
        estimator = bandwidth.TransportEstimator("remb")
        remb = struct.pack("!BBHII", 0x8F, 206, 5, 1, 0) + b"REMB" + bytes([1, (3 << 2) | 0]) + struct.pack("!H", 50_000) + \
            struct.pack("!I", 1234)
        estimator.on_rtcp(remb)
        self.assertEqual(estimator.available, 400_000)
        self.assertEqual(estimator.remb_received, 1)
        estimator.on_rtcp(b"\x81\xcd\x00\x01junk")   # malformed or foreign RTCP changes nothing
        self.assertEqual(estimator.available, 400_000)


class FakeConsumer:
    def __init__(self):
        self.counters = {"rr_fraction_lost": 0}
        self.layer = None
        self.target_layer = 2
        self.closed = False

    def set_target_layer(self, layer):
        self.target_layer = layer


class DistributionTests(unittest.TestCase):
    def rates(self, *bitrates, until_ms=1000):
        rates = bandwidth.LayerRates(len(bitrates))
        for layer, bps in enumerate(bitrates):
            for i in range(until_ms // 100 + 1):
                rates.add(layer, bps // 80, at_ms=i * 100.0)
        return rates

    def test_the_highest_layer_that_fits_and_none_when_nothing_does(self):
        estimator = bandwidth.TransportEstimator("transport-cc")
        distributor = bandwidth.Distributor(estimator)
        consumer = FakeConsumer()
        rates = self.rates(100_000, 300_000, 900_000)
        self.assertAlmostEqual(rates.bitrate(2, 1000.0), 900_000, delta=10_000)
        distributor.add(bandwidth.SimulcastChoice(consumer, rates, 3))
        for available, layer in ((2_000_000, 2), (600_000, 1), (250_000, 0), (50_000, -1)):
            estimator.available = available
            distributor.distribute(at_ms=1000.0)
            self.assertEqual(consumer.target_layer, layer, available)

    def test_two_consumers_share_and_a_fixed_layer_overrides(self):
        estimator = bandwidth.TransportEstimator("transport-cc")
        fixed = []
        distributor = bandwidth.Distributor(estimator, lambda: fixed[0] if fixed else None)
        rates = self.rates(100_000, 300_000, 900_000)
        first, second = FakeConsumer(), FakeConsumer()
        distributor.add(bandwidth.SimulcastChoice(first, rates, 3))
        distributor.add(bandwidth.SimulcastChoice(second, rates, 3))
        estimator.available = 700_000
        distributor.distribute(at_ms=1000.0)
        self.assertEqual((first.target_layer, second.target_layer), (1, 1))
        fixed.append(2)
        estimator.available = 100_000
        distributor.distribute(at_ms=1000.0)
        self.assertEqual((first.target_layer, second.target_layer), (1, 1), "left to the fixed layer")

    def test_after_a_downgrade_the_layer_stays_down_for_ten_seconds(self):
        estimator = bandwidth.TransportEstimator("transport-cc")
        distributor = bandwidth.Distributor(estimator)
        consumer = FakeConsumer()
        consumer.layer = 2
        rates = self.rates(100_000, 300_000, 900_000, until_ms=12_000)
        distributor.add(bandwidth.SimulcastChoice(consumer, rates, 3))
        estimator.available = 400_000
        distributor.distribute(at_ms=1000.0)
        self.assertEqual(consumer.target_layer, 1)
        consumer.layer = 1
        estimator.available = 2_000_000
        distributor.distribute(at_ms=1000.0 + 5000)
        self.assertEqual(consumer.target_layer, 1)
        distributor.distribute(at_ms=1000.0 + 10_001)
        self.assertEqual(consumer.target_layer, 2)


class FakeDtls:
    def __init__(self):
        self.sent = []

    async def _send_rtp(self, data):
        self.sent.append((bandwidth.now_ms(), data))


class ProbeTests(unittest.TestCase):
    def run_probe(self, capacity):
        """A 2 Mbit/s probe cluster through a link of `capacity` bit/s (a queue: each packet
        leaves when the one before is through); the feedback goes back to the estimator."""
        dtls = FakeDtls()
        link = bandwidth.TransportBandwidth(dtls, "transport-cc", lambda: None)
        link.probe_template = (1, b"probator", 4, 5)
        link.estimator.available = 300_000
        asyncio.run(link.probe(2_000_000))
        self.assertGreaterEqual(len(dtls.sent), 5)
        out = []
        server = twcc.FeedbackServer(out.append)
        free = 0.0
        first_send = dtls.sent[0][0]
        for index, (sent_ms, data) in enumerate(dtls.sent):
            self.assertEqual(struct.unpack_from("!I", data, 8)[0], 1234)
            self.assertEqual(data[1] & 0x7F, 127)
            free = max(sent_ms - first_send + 10, free + len(data) * 8000.0 / capacity)
            if index == 0:
                server.packet(twcc.read_extension(data, 5) - 1, 1234, 990)     # a pre-base before it
            server.packet(twcc.read_extension(data, 5), 1234, 1000 + int(free))
        server.tick(2000)
        for data in out:
            link.estimator.on_rtcp(data)
        return link.estimator

    def test_a_probe_through_a_wider_link_raises_the_estimate_to_what_passed(self):
        estimator = self.run_probe(1_000_000)
        result = estimator.probe_results[-1]["result"]
        self.assertAlmostEqual(result, 1_000_000, delta=200_000)
        self.assertEqual(estimator.available, result)

    def test_a_probe_that_passes_less_than_the_estimate_leaves_it(self):
        estimator = self.run_probe(200_000)
        self.assertLess(estimator.probe_results[-1]["result"], 300_000)
        self.assertEqual(estimator.available, 300_000)


    def test_a_transport_left_without_a_layer_by_loss_is_probed_once_the_loss_is_old(self):
        # Chromium behind a 600 kbit/s link: 33 % loss cut the estimate to 55 kbit/s, below the
        # lowest layer, so nothing was sent, no feedback came, and the loss stayed the last word
        dtls = FakeDtls()
        link = bandwidth.TransportBandwidth(dtls, "transport-cc", lambda: None)
        link.probe_template = (1, b"probator", 4, 5)
        now = bandwidth.now_ms()
        rates = bandwidth.LayerRates(3)
        for layer, bps in enumerate((155_000, 350_000, 800_000)):
            for i in range(10):
                rates.add(layer, bps // 80, at_ms=now - 900 + i * 100)
        consumer = FakeConsumer()
        link.distributor.add(bandwidth.SimulcastChoice(consumer, rates, 3))
        link.estimator.available = 54_709
        link.distributor.distribute(at_ms=now)
        self.assertEqual(consumer.target_layer, -1)
        link.estimator.loss_window.append((now - 1500, 100, 33))
        asyncio.run(link._maybe_probe())
        self.assertGreaterEqual(len(dtls.sent), 5, "a probe cluster went out")
        link.estimator.loss_window.append((bandwidth.now_ms(), 100, 33))
        link.last_probe = None
        dtls.sent.clear()
        asyncio.run(link._maybe_probe())
        self.assertEqual(dtls.sent, [], "not while the last second's feedback reports loss")


    def test_a_client_without_a_probator_is_probed_with_padding_on_a_consumers_rtx_stream(self):
        dtls = FakeDtls()
        link = bandwidth.TransportBandwidth(dtls, "transport-cc", lambda: None)
        link.probe_template = (1, b"probator", 4, 5)
        link.probe_on_rtx = True
        params = {"codecs": [{"mimeType": "video/VP8", "payloadType": 96}, {"mimeType": "video/rtx", "payloadType": 97}],
                  "encodings": [{"ssrc": 1111, "rtx": {"ssrc": 2222}}],
                  "headerExtensions": [{"uri": forwarding.ABS_SEND_TIME_URI, "id": 4}, {"uri": forwarding.WIDE_SEQ_URI, "id": 5}]}
        consumer = forwarding.PacketConsumer(dtls, params, "video", 90000, collections.defaultdict(int), layer=0)
        link.distributor.add(bandwidth.SimulcastChoice(consumer, bandwidth.LayerRates(3), 3))
        asyncio.run(link.probe(400_000))
        self.assertEqual(dtls.sent, [], "no consumer has sent anything yet: nothing to pad")
        consumer.started, consumer.last_out_ts = True, 1000
        asyncio.run(link.probe(400_000))
        self.assertGreaterEqual(len(dtls.sent), 5)
        for _, data in dtls.sent:
            self.assertEqual(struct.unpack_from("!I", data, 8)[0], 2222)
            self.assertEqual(data[1] & 0x7F, 97)
            self.assertTrue(data[0] & 0x20, "padding")
        wide = [twcc.read_extension(data, 5) for _, data in dtls.sent]
        self.assertEqual(wide, list(range(wide[0], wide[0] + len(wide))), "each with the next wide sequence number")
        self.assertEqual(link.estimator.clusters[link.estimator.next_cluster - 1]["packets"], len(dtls.sent))


class ExtensionTests(unittest.TestCase):
    def test_the_wide_sequence_joins_the_one_byte_block_or_makes_one(self):
        bare = struct.pack("!BBHII", 0x80, 101, 7, 9, 11) + b"payload"
        stamped = bandwidth.add_extension_element(bare, 5, b"\x12\x34")
        self.assertEqual(twcc.read_extension(stamped, 5), 0x1234)
        self.assertTrue(stamped.endswith(b"payload"))
        # mid "1" then abs-send-time ending in 0x00 bytes (not padding), then padding
        block = bytes([0x10, 0x31, 0x42, 0xAB, 0x00, 0x00]) + b"\x00\x00"
        with_block = struct.pack("!BBHII", 0x90, 101, 7, 9, 11) + struct.pack("!HH", 0xBEDE, 2) + block + b"payload"
        stamped = bandwidth.add_extension_element(with_block, 5, b"\x00\x01")
        self.assertEqual(twcc.read_extension(stamped, 5), 1)
        self.assertEqual(stamped[16:22], block[:6], "the abs-send-time value kept whole")
        self.assertTrue(stamped.endswith(b"payload"))
        self.assertEqual(len(stamped[16:-len(b"payload")]) % 4, 0)


if __name__ == "__main__":
    unittest.main()
