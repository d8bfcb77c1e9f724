"""The downlink end to end on 127.0.0.1: a simulcast publisher (roomserver.simulcast_client, 3
VP8 layers of ffmpeg's testsrc2, about 30, 300 and 300 kbit/s) and an aiortc viewer
(roomserver.feedback_viewer) whose REMB is aiortc's own estimate, capped at 150 kbit/s from
second 8 to 18; the server's layer choice for the viewer follows the REMB down and, once the cap
is gone and the 10 s mediasoup waits after a downgrade are over, up again. Then the same viewer
with transport-cc: the server's estimator is fed by its feedback. About 70 s.

    .venv/bin/python -m unittest discover -s Tests/RoomServer/tests"""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Process:
    def __init__(self, *args):
        self.process = subprocess.Popen([sys.executable, "-m"] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)

    def line(self):
        return json.loads(self.process.stdout.readline())

    def lines(self, timeout):
        out, _ = self.process.communicate(timeout=timeout)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


class DownlinkTests(unittest.TestCase):
    def setUp(self):
        self.server = Process("roomserver")
        self.addCleanup(self.server.stop)
        self.urls = self.server.line()
        publisher = Process("roomserver.simulcast_client", "--origin", self.urls["origin"], "--duration", "70",
                            "--content", "testsrc2")
        self.addCleanup(publisher.stop)
        publisher.line()
        self.wait_for(lambda: all(layer.get("frames_decoded", 0) > 10 for p in self.media()["producers"].values()
                                  for layer in p.get("layers", [])) and self.media()["producers"], "the layers decode")

    def media(self):
        with urllib.request.urlopen(self.urls["control"] + "/state", timeout=5) as answer:
            return json.load(answer)["media"]

    def wait_for(self, condition, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.5)
        self.fail("waited for %s: %s" % (what, self.media()))

    def viewer_state(self):
        media = self.media()
        consumers = [c for c in media["consumers"].values() if c["kind"] == "video" and "target_layer" in c]
        transports = [t["bandwidth"] for t in media["transports"].values() if "bandwidth" in t]
        return consumers, transports

    def test_the_layer_follows_the_viewers_remb(self):
        viewer = Process("roomserver.feedback_viewer", "--edge", self.urls["edge"], "--duration", "42",
                         "--remb-cap", "8:150000,18:100000000")
        self.addCleanup(viewer.stop)
        seen = []
        start = time.monotonic()
        consumer = bandwidth = None
        while time.monotonic() - start < 40:
            consumers, transports = self.viewer_state()
            if consumers and transports:
                consumer, bandwidth = consumers[0], transports[0]
                seen.append((round(time.monotonic() - start, 1), consumer.get("layer"), consumer["target_layer"],
                             bandwidth["available_bitrate"]))
            time.sleep(0.5)
        out = viewer.lines(20)
        self.assertIsNotNone(consumer, "the viewer consumed")
        self.assertEqual(bandwidth["mode"], "remb")
        self.assertGreater(bandwidth["remb_received"], 20)
        capped = [s for s in seen if s[3] == 150000]
        self.assertTrue(capped, "the capped REMB reached the server: %s" % seen)
        # 150 kbit/s holds the 30 kbit/s layer and not the 300 kbit/s ones
        self.assertEqual(capped[-1][1], 0, "the lowest layer while capped: %s" % seen)
        self.assertGreater(seen[-1][1], 0, "a higher layer again after the cap: %s" % seen)
        self.assertGreaterEqual(consumer["layer_switches"], 3, "%s" % consumer)
        sizes = out[-1]["streams"][0]["sizes"]
        self.assertIn("320x240", sizes)
        self.assertIn("80x60", sizes, "the viewer decoded the lowest layer too")
        print("\nREMB downlink: (s, layer, target, available):", seen[::4], "sizes", sizes, file=sys.stderr)

    def test_transport_cc_feedback_feeds_the_estimator(self):
        viewer = Process("roomserver.feedback_viewer", "--edge", self.urls["edge"], "--duration", "10", "--transport-cc")
        self.addCleanup(viewer.stop)
        self.wait_for(lambda: any(t["feedback_received"] > 30 for t in self.viewer_state()[1]), "feedback")
        bandwidth = self.viewer_state()[1][0]
        out = viewer.lines(20)
        self.assertEqual(bandwidth["mode"], "transport-cc")
        self.assertEqual(bandwidth["feedback_malformed"], 0)
        self.assertGreater(bandwidth["delivered_bitrate"], 0)
        self.assertEqual(bandwidth["loss"], 0.0)
        self.assertGreater(out[-1]["transport_cc"]["feedback_sent"], 30)
        print("\ntransport-cc downlink:", {k: v for k, v in bandwidth.items() if k != "history"}, file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
