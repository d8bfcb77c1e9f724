"""roomserver.simulcast_switch: the rules mediasoup's SimulcastConsumer follows, on made-up
packets (also run by SimulcastViewerTests).

    .venv/bin/python -m unittest discover -s Tests/RoomServer/tests -p test_simulcast_switch.py"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from roomserver.simulcast_switch import SeqManager, SimulcastSwitch, VP8Descriptor  # noqa: E402

CLOCK = 90000


def vp8(picture_id, tl0, key=False, start=True, tid=0):
    """A VP8 payload: descriptor with 15-bit PictureID, TL0PICIDX, TID (Y=1), then one byte of
    frame header whose P bit says key frame or not."""
    return bytes([0x90 if start else 0x80, 0xE0, 0x80 | (picture_id >> 8), picture_id & 0xFF, tl0,
                  (tid << 6) | 0x20, 0x00 if key else 0x01])


class FakeSource:
    def __init__(self):
        self.reports = {}
        self.requests = []

    def sender_report(self, layer):
        return self.reports.get(layer)

    def request_keyframe(self, layer):
        self.requests.append(layer)


class SeqManagerTests(unittest.TestCase):
    def test_sync_continues_and_drops_leave_no_hole(self):
        seq = SeqManager(16, 100)
        seq.sync(499)
        self.assertEqual([seq.input(s) for s in (500, 501)], [101, 102])
        seq.drop(502)
        self.assertIsNone(seq.input(502))
        self.assertEqual(seq.input(503), 103)
        seq.sync(0xFFFF)        # another stream, wrapping
        self.assertEqual([seq.input(s) for s in (0, 1)], [104, 105])


class SwitchTests(unittest.TestCase):
    def setUp(self):
        self.source = FakeSource()
        self.counters = {}
        self.switch = SimulcastSwitch(self.source, CLOCK, "vp8", 1, 1000, self.counters)

    def send(self, layer, seq, ts, key=False, marker=True, picture_id=0, tl0=0):
        return self.switch.process(layer, seq, ts, marker, vp8(picture_id, tl0, key), key)

    def test_starts_at_a_key_frame_of_the_target_and_asks_for_it(self):
        self.switch.want(0)
        self.assertEqual(self.source.requests, [0])
        self.assertIsNone(self.send(0, 10, 1000))
        out = self.send(0, 11, 4000, key=True)
        self.assertEqual(out[:2], (1001, 4000))     # the reference layer's timestamps as they came
        self.assertEqual(self.counters["layer"], 0)

    def test_a_layer_without_sender_reports_waits(self):
        self.switch.want(0)
        self.send(0, 10, 1000, key=True)
        self.switch.want(1)
        self.assertEqual(self.switch.target, 0, "no SR of layers 0 and 1 yet")
        self.source.reports = {0: (5000, 1000), 1: (5000, 777000)}
        self.switch.reconsider()
        self.assertEqual(self.switch.target, 1)
        self.assertEqual(self.source.requests, [0, 1])

    def test_switch_maps_timestamps_through_sender_reports(self):
        self.source.reports = {0: (5000, 1000), 1: (5010, 777000 + 900)}   # layer 1 is 776000 ahead
        self.switch.want(0)
        self.send(0, 10, 1000, key=True, picture_id=7, tl0=3)
        self.send(0, 11, 4000, picture_id=8, tl0=4)
        self.switch.want(1)
        self.assertIsNone(self.send(1, 500, 777000 + 6000), "not a key frame: dropped")
        self.assertEqual(self.send(0, 12, 7000, picture_id=9, tl0=5)[:2], (1003, 7000), "the old layer goes on")
        out = self.switch.process(1, 501, 777000 + 9000, True, vp8(300, 90, key=True), True)
        self.assertEqual(out[:2], (1004, 10000))
        descriptor = VP8Descriptor(out[2])
        self.assertEqual((descriptor.picture_id, descriptor.tl0), (4, 4), "picture ids go on from the old layer's")
        self.assertEqual(self.counters["layer"], 1)

    def test_a_key_frame_that_would_not_advance_gets_an_extra_offset(self):
        self.source.reports = {0: (5000, 1000), 1: (5000, 501000)}
        self.switch.want(0)
        self.send(0, 10, 1000, key=True)
        self.send(0, 11, 4000)
        self.switch.want(1)
        out = self.send(1, 80, 504000, key=True)   # maps to 4000, the highest sent
        self.assertEqual(out[1], 4000 + 33 * 90)
        self.assertEqual(self.counters["ts_extra_offsets"], 1)

    def test_a_key_frame_far_behind_is_dropped_once_then_given_up_on(self):
        self.source.reports = {0: (5000, 1000), 1: (5000, 501000)}
        self.switch.want(0)
        self.send(0, 10, 1000, key=True)
        self.send(0, 11, 100000)
        self.switch.want(1)
        # maps to 91000: 100 ms behind the highest sent, more than 75 ms of extra offset needed
        self.assertIsNone(self.send(1, 80, 501000 + 90000, key=True))
        self.assertEqual(self.counters["switch_keyframes_dropped"], 1)
        self.assertEqual(self.source.requests, [0, 1, 1])
        self.assertEqual(self.send(0, 12, 103000)[1], 103000, "the old layer goes on")
        # the next one still needs more than 75 ms: given up on, one tick past its mapping
        out = self.send(1, 81, 501000 + 98000, key=True)
        self.assertEqual(out[1], 99000 + 1, "maps to 99000, 44 ms behind 103000: 77 ms needed")
        self.assertEqual(self.counters["layer"], 1)

    def test_a_frame_cut_short_skips_one_sequence_number(self):
        self.source.reports = {0: (5000, 1000), 1: (5000, 1000)}
        self.switch.want(0)
        self.send(0, 10, 1000, key=True)
        self.send(0, 11, 4000, marker=False)        # the frame's last packet never comes
        self.switch.want(1)
        out = self.send(1, 300, 7000, key=True)
        self.assertEqual(out[0], 1004, "1003 left out: the receiver learns the frame was incomplete")

    def test_padding_and_higher_temporal_layers_leave_no_hole(self):
        self.switch.want(0)
        self.send(0, 10, 1000, key=True, picture_id=1, tl0=1)
        self.assertIsNone(self.switch.process(0, 11, 4000, True, b"", False))
        self.assertIsNone(self.switch.process(0, 12, 4000, True, vp8(2, 1, tid=1), False), "T1 over an L?T1 producer")
        out = self.switch.process(0, 13, 7000, True, vp8(3, 2), False)
        self.assertEqual(out[0], 1002)
        self.assertEqual(VP8Descriptor(out[2]).picture_id, 2)

    def test_stop_sends_nothing_until_a_layer_is_wanted_again(self):
        self.switch.want(0)
        self.send(0, 10, 1000, key=True)
        self.switch.stop()
        self.assertIsNone(self.send(0, 11, 4000, key=True))
        self.switch.want(0)
        self.assertIsNone(self.send(0, 12, 7000))
        self.assertEqual(self.send(0, 13, 10000, key=True)[0], 1002)


if __name__ == "__main__":
    unittest.main()
