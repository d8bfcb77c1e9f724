"""Tests of bench_nacho.py against the real `nacho report --json` (NACHO_BIN, or the debug build
in .build): statistics files written here in docs/STATS.md's format, read back through nacho.

    python3 Scripts/bench_nacho_test.py

Without a nacho binary the tests fail under NACHO_TEST_STRICT (Scripts/test) and skip otherwise."""

import json
import os
import tempfile
import unittest

import bench_nacho

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NACHO = os.environ.get("NACHO_BIN") or os.path.join(ROOT, ".build", "debug", "nacho")
RUN = "run-test"


def line(line_type, second, **fields):
    return dict(type=line_type, run=RUN, time="2026-12-07T12:00:%02d.000Z" % second, **fields)


def track(second, bot, role, direction, kind, packets, lost=0):
    return line("track", second, bot=bot, role=role, direction=direction, kind=kind,
                codec="video/VP8" if kind == "video" else "audio/opus", track="%s-%s" % (bot, kind),
                peer="1000" if direction == "receive" else None, elapsed_s=second, interval_s=1, packets=packets,
                bytes=packets * 1000, bitrate=packets * 8000, packets_lost=lost, loss=lost / (packets + lost),
                jitter_ms=1, rtt_ms=None, nacks=0, plis=0, firs=0, retransmissions=0, frames=packets, key_frames=0,
                freezes=0, freeze_ms=0, delay_ms_p50=None, delay_ms_p95=None)


RUN_LINE = line("run", 0, room="42", host="test", index=None, member_base=1000, version="0.1.0",
                plan=dict(video_publishers=1, audio_publishers=0, subscribers=1, num_per_second=10, duration=2,
                          video_source="synthetic", audio_source="synthetic", simulcast=False))


def seconds(first, last, subscriber_lost=0):
    """Track lines for a publisher (1000) sending 100 packets a second and a subscriber (1001)
    receiving them, `subscriber_lost` of them missing each second."""
    lines = []
    for second in range(first, last + 1):
        lines.append(track(second, "1000", "video_publisher", "send", "video", 100))
        lines.append(track(second, "1001", "subscriber", "receive", "video", 100 - subscriber_lost, subscriber_lost))
    return lines


@unittest.skipUnless(os.access(NACHO, os.X_OK) or os.environ.get("NACHO_TEST_STRICT"), "no nacho binary at %s" % NACHO)
class BenchNachoTests(unittest.TestCase):
    def write(self, lines):
        handle, path = tempfile.mkstemp(suffix=".jsonl")
        self.addCleanup(os.remove, path)
        with os.fdopen(handle, "w") as f:
            f.writelines(json.dumps(l) + "\n" for l in lines)
        return path

    def test_a_finished_run_with_a_missed_expectation(self):
        summaries = [line("summary", 3, bot=bot, role=role, joined=True, join_attempts=1, join_ms=100, reconnections=0,
                          error=None, tracks=[]) for bot, role in (("1000", "video_publisher"), ("1001", "subscriber"))]
        end = line("end", 3, bots=2, joined=2, passed=False,
                   expectations=[dict(expect="loss<1%", met=False, missed=["1001"], misses=["bot 1001 ..."])])
        path = self.write([RUN_LINE] + seconds(1, 2, subscriber_lost=5) + summaries + [end])
        outcome = bench_nacho.bots_outcome(bench_nacho.report(NACHO, path, expect=["loss<1%"]))
        self.assertEqual((outcome["bots"], outcome["joined"]), (2, 2))
        self.assertEqual(outcome["received_packets"], 2 * 95)
        self.assertAlmostEqual(outcome["worst_loss"], 0.05)
        self.assertTrue(outcome["has_end"])
        self.assertIs(outcome["passed"], False)
        self.assertEqual(list(outcome["missed_expectations"]), ["loss<1%"])
        self.assertTrue(outcome["misses"])
        self.assertEqual(outcome["met"], {"loss<1%": False})

    def test_a_run_still_going_has_no_verdict(self):
        outcome = bench_nacho.bots_outcome(bench_nacho.report(NACHO, self.write([RUN_LINE] + seconds(1, 3))))
        self.assertEqual(outcome["received_packets"], 300)
        self.assertFalse(outcome["has_end"])
        self.assertIsNone(outcome["passed"])

    def test_window_count_is_the_growth_of_the_file(self):
        path = self.write([RUN_LINE] + seconds(1, 2))
        counted = bench_nacho.WindowCount(NACHO, path)
        counted.mark()
        with open(path, "a") as f:
            f.writelines(json.dumps(l) + "\n" for l in seconds(3, 6, subscriber_lost=20))
        counted.mark()
        # The subscriber's new lines: 80 packets in each of 4 one-second intervals.
        self.assertEqual(counted.per_second(), 80)

    def test_no_statistics_yet(self):
        path = self.write([])
        self.assertIsNone(bench_nacho.report(NACHO, path))
        self.assertEqual(bench_nacho.bots_outcome(None)["received_packets"], 0)
        counted = bench_nacho.WindowCount(NACHO, path)
        counted.mark()
        counted.mark()
        self.assertIsNone(counted.per_second())


if __name__ == "__main__":
    unittest.main()
