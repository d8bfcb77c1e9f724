"""roomserver.forwarding: a consumer answers NACKs as mediasoup's RtpStreamSend does -- a packet
at most once per round trip (100 ms until the receiver's reports give the RTT), none older than
2 s of video behind the newest.

    .venv/bin/python -m unittest discover -s Tests/RoomServer/tests -p test_forwarding.py"""

import asyncio
import collections
import os
import struct
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from aiortc.rtp import RtcpReceiverInfo, RtcpRrPacket, RtcpRtpfbPacket  # noqa: E402
from roomserver import forwarding  # noqa: E402

SSRC, RTX_SSRC = 1111, 2222


class FakeTransport:
    bandwidth = None

    def __init__(self):
        self.sent = []

    async def _send_rtp(self, data):
        self.sent.append(data)


def consumer(transport):
    params = {"codecs": [{"mimeType": "video/VP8", "payloadType": 96}, {"mimeType": "video/rtx", "payloadType": 97}],
              "encodings": [{"ssrc": SSRC, "rtx": {"ssrc": RTX_SSRC}}]}
    packet = forwarding.PacketConsumer(transport, params, "video", 90000, collections.defaultdict(int))
    packet.started = True
    return packet


class NackTests(unittest.TestCase):
    def setUp(self):
        self.clock = [1_000_000.0]
        patcher = mock.patch.object(forwarding, "now_ms", lambda: self.clock[0], create=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.transport = FakeTransport()
        self.consumer = consumer(self.transport)
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.sent_seqs = []
        for i in range(5):
            self.loop.run_until_complete(self.consumer.forward(0, 100 + i, 3000 * i, True, b"frame%d" % i, i == 0, True))
            self.sent_seqs.append(struct.unpack_from("!H", self.transport.sent[-1], 2)[0])
        self.transport.sent.clear()

    def nack(self, *seqs):
        packet = RtcpRtpfbPacket(fmt=1, ssrc=1, media_ssrc=SSRC, lost=list(seqs))
        self.loop.run_until_complete(self.consumer._handle_rtcp_packet(packet))

    def resent(self):
        """Original sequence numbers of the RTX packets sent so far."""
        return [struct.unpack_from("!H", data, 12)[0] for data in self.transport.sent]

    def test_a_repeated_nack_within_the_default_round_trip_is_not_answered_again(self):
        lost = self.sent_seqs[2]
        self.nack(lost)
        self.clock[0] += 60
        self.nack(lost)
        self.assertEqual(self.resent(), [lost], "one resend within 100 ms")
        self.clock[0] += 50
        self.nack(lost)
        self.assertEqual(self.resent(), [lost, lost], "resent again once the round trip has passed")
        self.assertEqual(self.consumer.counters["retransmitted"], 2)
        self.assertEqual(self.consumer.counters["retransmissions_skipped"], 1)

    def test_the_round_trip_comes_from_the_receivers_reports(self):
        # a receiver report echoing an SR sent 300 ms ago, held 50 ms: RTT 250 ms
        compact = (forwarding.ntp_now() >> 16) & 0xFFFFFFFF
        lsr = (compact - int(0.3 * 65536)) & 0xFFFFFFFF
        report = RtcpReceiverInfo(ssrc=SSRC, fraction_lost=0, packets_lost=0, highest_sequence=0, jitter=0,
                                  lsr=lsr, dlsr=int(0.05 * 65536))
        self.loop.run_until_complete(self.consumer._handle_rtcp_packet(RtcpRrPacket(ssrc=1, reports=[report])))
        self.assertAlmostEqual(self.consumer.rtt_ms, 250, delta=20)
        lost = self.sent_seqs[1]
        self.nack(lost)
        self.clock[0] += 150
        self.nack(lost)
        self.assertEqual(self.resent(), [lost], "not again within the measured 250 ms")
        self.clock[0] += 150
        self.nack(lost)
        self.assertEqual(self.resent(), [lost, lost])

    def test_a_packet_more_than_2_s_behind_the_newest_is_not_resent(self):
        self.loop.run_until_complete(self.consumer.forward(0, 105, 3000 * 4 + 90000 * 3, True, b"later", False, True))
        self.transport.sent.clear()
        self.nack(self.sent_seqs[0])
        self.assertEqual(self.resent(), [])
        self.assertEqual(self.consumer.counters["retransmissions_too_old"], 1)


if __name__ == "__main__":
    unittest.main()


class LayerChoiceTests(unittest.TestCase):
    """The estimate's choice (bandwidth.Distributor calls set_target_layer) goes through the
    consumer's switch (simulcast_switch): -1 stops the consumer, a layer again starts it at a key
    frame of that layer, with sequence numbers going on."""

    def test_no_layer_then_a_lower_layer(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        transport = FakeTransport()
        source = forwarding.Source("video", "h264", 90000)     # no VP8 descriptor to rewrite
        source.layer_ssrcs = [10, 20, 30]
        packet = consumer(transport)
        packet.target_layer = 2
        source.add(packet)

        def send(layer, seq, ts, key):
            coroutine = packet.forward(layer, seq, ts, True, b"x", key, True)
            if coroutine is not None:
                loop.run_until_complete(coroutine)
            return coroutine is not None

        self.assertTrue(send(2, 500, 9000, True))
        self.assertTrue(send(2, 501, 12000, False))
        packet.set_target_layer(-1)
        self.assertFalse(send(2, 502, 15000, False))
        self.assertEqual(packet.switch.target, None)
        # a layer other than the timestamp reference waits for both layers' sender reports
        packet.set_target_layer(0)
        self.assertFalse(send(0, 70, 3000, True))
        ntp = forwarding.ntp_now()
        source.sender_report_received(30, ntp, 15000)
        source.sender_report_received(10, ntp, 5000)
        self.assertFalse(send(0, 71, 6000, False), "not before a key frame of layer 0")
        self.assertTrue(send(0, 72, 9000, True))
        seqs = [struct.unpack_from("!H", data, 2)[0] for data in transport.sent]
        self.assertEqual((seqs[2] - seqs[1]) & 0xFFFF, 1, "sequence numbers go on across the stop")
        self.assertEqual(packet.layer, 0)
