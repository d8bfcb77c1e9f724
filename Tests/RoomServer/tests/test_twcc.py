"""roomserver.twcc against what a real mediasoup 3.14 worker sent (Tests/RTPTests/Fixtures):
parse and serialize again to the same bytes, and the feedback server fed with the arrivals those
feedbacks report writes them again byte for byte.

    .venv/bin/python -m unittest discover -s Tests/RoomServer/tests"""

import os
import struct
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from roomserver import twcc  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "RTPTests", "Fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def captured_feedbacks():
    """(ms since the first record, bytes) of every transport-cc feedback mediasoup sent to
    producer transport B."""
    data = fixture("stream-rtcp-to-producer-b.pkts")
    out, i = [], 0
    while i < len(data):
        ms, length = struct.unpack_from("!IH", data, i)
        datagram = data[i + 6:i + 6 + length]
        i += 6 + length
        j = 0
        while j < len(datagram):
            size = (struct.unpack_from("!H", datagram, j + 2)[0] + 1) * 4
            packet = datagram[j:j + size]
            if packet[1] == 205 and packet[0] & 0x1F == 15:
                out.append((ms, packet))
            j += size
    return out


class CapturedFeedbackTests(unittest.TestCase):
    def test_single_captures_parse_to_their_fields_and_serialize_to_the_same_bytes(self):
        lossy = twcc.Feedback.parse(fixture("rtcp-transport-cc-to-producer.bin"))
        self.assertEqual((lossy.sender_ssrc, lossy.media_ssrc, lossy.base_seq, lossy.feedback_count), (0, 33333333, 49, 15))
        self.assertEqual(lossy.statuses, [0, 1, 0, 1, 1])
        self.assertEqual(lossy.deltas, [168, 172, 144])
        first = twcc.Feedback.parse(fixture("rtcp-transport-cc-noloss-to-producer.bin"))
        self.assertEqual((first.media_ssrc, first.base_seq, first.feedback_count, first.reference_time), (0, 0, 0, 33034))
        self.assertEqual(first.statuses, [1] * 7)
        large = twcc.Feedback.parse(fixture("rtcp-transport-cc-largedelta-to-producer.bin"))
        self.assertEqual(large.statuses, [1, 0, 0, 2])
        self.assertEqual(large.deltas, [160, 340])
        for name in ("rtcp-transport-cc-to-producer.bin", "rtcp-transport-cc-noloss-to-producer.bin",
                     "rtcp-transport-cc-largedelta-to-producer.bin"):
            self.assertEqual(twcc.Feedback.parse(fixture(name)).serialize(), fixture(name), name)

    def test_every_captured_feedback_round_trips(self):
        feedbacks = captured_feedbacks()
        self.assertEqual(len(feedbacks), 148)
        for ms, packet in feedbacks:
            self.assertEqual(twcc.Feedback.parse(packet).serialize(), packet, "feedback at %d ms" % ms)

    def test_server_fed_the_reported_arrivals_writes_the_captured_feedbacks(self):
        # Arrival times in ms follow from each feedback: reference x 64 ms plus the deltas, the
        # first relative to the pre-base's time truncated to 64 ms. The pre-base is the last
        # packet reported before, stamped with the time the feedback went out: so a send time
        # is found for each feedback between its last packet and the next one's first, in the
        # 64 ms the next reference time gives.
        captured = captured_feedbacks()
        feedbacks = [twcc.Feedback.parse(p) for _, p in captured]
        arrivals = [[(seq, us // 1000) for seq, us in f.results() if us is not None] for f in feedbacks]
        for received in arrivals:
            self.assertTrue(received)
        sent = []
        server = twcc.FeedbackServer(sent.append)
        server.packet((feedbacks[0].base_seq - 1) & 0xFFFF, 33333333, feedbacks[0].reference_time * 64)
        for index, received in enumerate(arrivals):
            for seq, ms in received:
                server.packet(seq, 33333333, ms)
            if index + 1 < len(feedbacks):
                window = feedbacks[index + 1].reference_time * 64
                send_ms = max(received[-1][1], window)
                self.assertLess(send_ms, window + 64, "feedback %d" % index)
                self.assertLessEqual(send_ms, arrivals[index + 1][0][1], "feedback %d" % index)
            else:
                send_ms = received[-1][1]
            server.tick(send_ms)
        self.assertEqual(len(sent), len(feedbacks))
        for index, (ours, (ms, theirs)) in enumerate(zip(sent, captured)):
            self.assertEqual(ours.hex(), theirs.hex(), "feedback %d at %d ms" % (index, ms))
        self.assertEqual(server.sent, 148)


class WriterTests(unittest.TestCase):
    def build(self, arrivals, media_ssrc=7):
        builder = twcc.FeedbackBuilder(media_ssrc, 3)
        for seq, ms in arrivals:
            self.assertEqual(builder.add(seq, ms), builder.SUCCESS)
        return builder.feedback()

    def test_long_runs_losses_and_large_deltas_come_back_from_the_parser(self):
        arrivals = [(100, 6400)]                                  # pre-base
        arrivals += [(101 + i, 6405 + i) for i in range(20)]      # a run of 20 small deltas
        arrivals += [(131, 6430), (132, 6600), (133, 6600)]       # 10 lost, then a large and a zero delta
        arrivals += [(140 + i, 6700 + 2 * i) for i in range(9)]
        feedback = self.build(arrivals)
        data = feedback.serialize()
        parsed = twcc.Feedback.parse(data)
        self.assertEqual(parsed, feedback)
        self.assertEqual(parsed.base_seq, 101)
        self.assertEqual(len(parsed.statuses), 148 - 101 + 1)
        received = {seq: us for seq, us in parsed.results() if us is not None}
        self.assertEqual(received[101], 6405 * 1000)
        self.assertEqual(received[120], 6424 * 1000)
        self.assertNotIn(125, received)
        self.assertEqual(received[132], 6600 * 1000)
        self.assertEqual(received[133], 6600 * 1000)
        self.assertEqual(received[148], 6716 * 1000)
        # the run of 20 is one run-length chunk (status 1, count 20)
        self.assertEqual(struct.unpack_from("!H", data, 20)[0], (1 << 13) | 20)

    def test_packets_at_or_below_the_highest_are_left_out_and_a_full_packet_says_so(self):
        feedback = self.build([(10, 640), (11, 641), (13, 642), (12, 643), (13, 644), (14, 645)])
        self.assertEqual(feedback.statuses, [1, 0, 1, 1])
        builder = twcc.FeedbackBuilder(1, 0)
        builder.add(0, 0)
        results = [builder.add(seq, seq * 300) for seq in range(1, 2000)]
        self.assertIn(builder.MAX_SIZE_EXCEEDED, results)
        self.assertLessEqual(len(builder.feedback().serialize()), twcc.MAX_PACKET_LENGTH)
        self.assertEqual(twcc.FeedbackBuilder(1, 0).add(0, 0), "success")
        gap = twcc.FeedbackBuilder(1, 0)
        gap.add(0, 0)
        self.assertEqual(gap.add(9000, 1), gap.FATAL)       # more than 8191 missing

    def test_the_server_sends_nothing_without_news_and_counts_its_feedbacks(self):
        sent = []
        server = twcc.FeedbackServer(sent.append)
        server.tick(990)
        server.packet(5, 99, 1000)
        server.tick(1005)                   # only the pre-base: nothing to report
        self.assertEqual(sent, [])
        server.packet(6, 99, 1010)
        server.tick(1015)
        self.assertEqual(len(sent), 1)
        feedback = twcc.Feedback.parse(sent[0])
        self.assertEqual((feedback.media_ssrc, feedback.base_seq, feedback.feedback_count), (0, 6, 0))
        server.packet(7, 99, 1020)
        server.tick(1100)
        feedback = twcc.Feedback.parse(sent[1])
        self.assertEqual((feedback.media_ssrc, feedback.base_seq, feedback.feedback_count), (99, 7, 1))
        self.assertEqual(server.report()["feedback_sent"], 2)


class ReaderTests(unittest.TestCase):
    def test_one_bit_vectors_and_padding_as_other_writers_use_them(self):
        # libwebrtc style: a one-bit vector (14 statuses, 1 = small delta), P bit and padding.
        chunk = 0x8000 | 0b10110000000001
        deltas = bytes([4, 8, 12, 16])
        body = struct.pack("!H", chunk) + deltas
        body += b"\x00" * (-len(body) % 4) + b"\x00\x00\x00\x04"
        header = struct.pack("!BBHIIHH", 0xA0 | 15, 205, (20 + len(body)) // 4 - 1, 1, 2, 65530, 14) + b"\x00\x00\x10\x05"
        feedback = twcc.Feedback.parse(header + body)
        self.assertEqual(feedback.statuses, [1, 0, 1, 1] + [0] * 9 + [1])
        self.assertEqual(feedback.deltas, [4, 8, 12, 16])
        self.assertEqual(feedback.results()[-1], (65530 + 13 - 65536, (16 * 64000) + 40 * 250))
        self.assertEqual(feedback.feedback_count, 5)

    def test_malformed_feedback_is_refused(self):
        cases = {
            "65535 statuses in one short run": "8fcd0005000000010000000200 00ffff000000001fff0000",
            "run length 0 forever": "8fcd00050000000100000002000000010000000000000000",
            "reserved symbol": "8fcd000400000001000000020000000100000000 6001 0000",
            "length beyond the datagram": "8fcd00090000000100000002000000010000000020010400",
            "deltas missing": "8fcd000400000001000000020000000300000000 2003 0102",
            "not transport-cc": "8fcc00040000000100000002000000010000000020010400",
        }
        for name, text in cases.items():
            with self.assertRaises(ValueError, msg=name):
                twcc.Feedback.parse(bytes.fromhex(text.replace(" ", "")))
        negative = twcc.Feedback.parse(bytes.fromhex("8fcd000500000001000000020000 0001 ffffff00 4001 8000".replace(" ", "")))
        self.assertEqual((negative.reference_time, negative.deltas), (-1, [-32768]))

    def test_the_extension_is_read_from_one_and_two_byte_blocks(self):
        one_byte = struct.pack("!BBHII", 0x90, 96, 1, 2, 3) + struct.pack("!HH", 0xBEDE, 2) + \
            bytes([0x10, 0x31, 0x00, 0x51, 0x12, 0x34, 0x00, 0x00]) + b"payload"
        self.assertEqual(twcc.read_extension(one_byte, 5), 0x1234)
        self.assertIsNone(twcc.read_extension(one_byte, 4))
        two_byte = struct.pack("!BBHII", 0x90, 96, 1, 2, 3) + struct.pack("!HH", 0x1000, 2) + \
            bytes([5, 2, 0xAB, 0xCD, 0, 0, 0, 0]) + b"payload"
        self.assertEqual(twcc.read_extension(two_byte, 5), 0xABCD)
        self.assertIsNone(twcc.read_extension(one_byte[:16], 5))


if __name__ == "__main__":
    unittest.main()
