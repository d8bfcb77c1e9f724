"""`Scripts/bench load` (issue 17): `nacho bots` subscribers fed by the Swift load source
(nacho-load-source: virtual members replaying clips over ICE-lite, DTLS and SRTP), so the
source, not the Python test server, carries 1,000 streams. Per size S: a fresh load source
with 2 video + 2 audio virtual members, `nacho bots --subscribers S` (no publishers), a wait
until every bot joined and every consumer is resumed (the source's statistics lines), a settle,
then a window sampled from /proc. nacho's counts come from `nacho report --json`.

Environment: BENCH_LOAD_SIZES (subscribers, default "63 250"; a 1-subscriber run is added as
the base of the marginal figures), BENCH_LOAD_SETTLE (s, default 3), BENCH_LOAD_WINDOW (s,
default 15), BENCH_LOAD_THREADS (the load source's event loops, default 1),
NACHO_LOAD_SOURCE_BIN (Scripts/bench builds it in release unless given)."""

import json
import os
import signal
import threading
import time

from bench_bots import bots_config, joins_per_second, replay_clips
from bench_common import (CORES, first_line, NACHO, QUIET_WAIT, ROOM, SCRATCH, cpu_seconds, finish, machine_busy, results, spawn, status_kb, tail,
    udp_receive_drops, wait_for_quiet)
from bench_nacho import WindowCount, bots_outcome, report
from bench_table import table


LOAD_SOURCE = os.environ.get("NACHO_LOAD_SOURCE_BIN")
LOAD = {"sizes": [int(v) for v in os.environ.get("BENCH_LOAD_SIZES", "63 250").split()],
        "settle": float(os.environ.get("BENCH_LOAD_SETTLE", "3")), "window": float(os.environ.get("BENCH_LOAD_WINDOW", "15")),
        "threads": int(os.environ.get("BENCH_LOAD_THREADS", "1")), "video_producers": 2, "audio_producers": 2,
        "ready_timeout": 180, "member_base": 2000}
STREAMS_PER_SUBSCRIBER = LOAD["video_producers"] + LOAD["audio_producers"]


class LoadSource:
    """A fresh nacho-load-source on 127.0.0.1; its statistics lines are read on a thread and
    kept with the monotonic time each arrived."""

    def __init__(self, name, video, audio):
        self.name = name
        self.process = spawn([LOAD_SOURCE, "--port", "0", "--video-clip", video, "--audio-clip", audio,
                              "--video-producers", str(LOAD["video_producers"]), "--audio-producers", str(LOAD["audio_producers"]),
                              "--threads", str(LOAD["threads"]), "--stats-interval", "1"], name, stdout="pipe")
        self.lines = []
        self.lock = threading.Lock()
        first = first_line(self.process, time.monotonic() + 60)
        try:
            self.url = json.loads(first)["listening"]
        except (ValueError, KeyError, TypeError):
            finish(self.process)
            raise RuntimeError("load source did not start:\n" + tail(name))
        assert self.url.startswith("ws://127.0.0.1:"), self.url
        self.reader = threading.Thread(target=self._read_all, daemon=True)
        self.reader.start()

    def _read_all(self):
        for raw in self.process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            with self.lock:
                self.lines.append((time.monotonic(), line))

    def latest(self):
        with self.lock:
            return self.lines[-1][1] if self.lines else None

    def sent_at(self, t):
        """RTP packets the source had sent at monotonic time t, interpolated between the
        statistics lines around it (None when t is outside them)."""
        with self.lock:
            points = [(at, line["media"]["rtp_packets_sent"]) for at, line in self.lines]
        before = [p for p in points if p[0] <= t]
        after = [p for p in points if p[0] >= t]
        if not before or not after:
            return None
        (t0, n0), (t1, n1) = before[-1], after[0]
        return n0 + ((t - t0) / (t1 - t0) if t1 > t0 else 0) * (n1 - n0)

    def stop(self):
        status = finish(self.process)
        self.reader.join(5)
        return status


def ready(source, subscribers):
    """Every bot joined and every consumer resumed, by the source's latest statistics line."""
    line = source.latest()
    if not line:
        return False
    signaling = line["signaling"]
    return signaling["members"] >= subscribers and signaling["consumers_resumed"] >= subscribers * STREAMS_PER_SUBSCRIBER


def snapshot(bots, source):
    return {"t": time.monotonic(), "busy": machine_busy(), "udp_drops": udp_receive_drops(), "nacho": cpu_seconds(bots.pid),
            "source": cpu_seconds(source.process.pid)}


def load_run(subscribers, video, audio):
    """One size: a fresh load source, S subscriber bots, the window's figures."""
    c = LOAD
    name = "load-%d" % subscribers
    if QUIET_WAIT > 0:
        wait_for_quiet(name)
    source = LoadSource(name + "-source", video, audio)
    stats = os.path.join(SCRATCH, name + ".jsonl")  # read through `nacho report`
    command = [NACHO, "bots", "--config", bots_config(), "--server", source.url, "--room", ROOM,
               "--member-base", str(c["member_base"]), "--video-publishers", "0", "--audio-publishers", "0",
               "--subscribers", str(subscribers), "--num-per-second", "%g" % joins_per_second(subscribers),
               "--duration", "600", "--stats", stats]
    counted = WindowCount(NACHO, stats)
    try:
        bots = spawn(command, name)
        start = time.monotonic()
        ready_after = None
        while time.monotonic() - start < c["ready_timeout"]:
            if bots.poll() is not None:
                raise RuntimeError("nacho bots exited early (%s):\n%s" % (bots.returncode, tail(name)))
            if source.process.poll() is not None:
                raise RuntimeError("the load source exited early (%s):\n%s" % (source.process.returncode, tail(source.name)))
            if ready(source, subscribers):
                ready_after = time.monotonic() - start
                break
            time.sleep(0.5)
        time.sleep(c["settle"])
        a = snapshot(bots, source)
        counted.mark()
        time.sleep(max(0, a["t"] + c["window"] - time.monotonic()))
        b = snapshot(bots, source)
        counted.mark()
        # The source's lines come once a second: one more after the window's end.
        time.sleep(1.2)
        rss_kb = status_kb(bots.pid, "VmHWM")
        source_rss_kb = status_kb(source.process.pid, "VmHWM")
        final_line = source.latest()
        exit_status = finish(bots, signal.SIGINT, timeout=30)
    finally:
        source_status = source.stop()
    seconds = b["t"] - a["t"]
    sent_a, sent_b = source.sent_at(a["t"]), source.sent_at(b["t"])
    streams = subscribers * STREAMS_PER_SUBSCRIBER
    nacho_cpu = b["nacho"] - a["nacho"]
    source_cpu = b["source"] - a["source"]
    received_pps = counted.per_second()
    sent_pps = (sent_b - sent_a) / seconds if sent_a is not None and sent_b is not None else None
    packets_per_s = received_pps if received_pps is not None else sent_pps
    run = {
        "name": name, "subscribers": subscribers, "streams": streams, "command": " ".join(command), "exit": exit_status,
        "source_exit": source_status, "window": seconds, "ready_after": ready_after,
        "cpu_pct": 100 * nacho_cpu / seconds, "rss_mb": rss_kb / 1024,
        "received_pps": received_pps, "sent_pps": sent_pps,
        "cpu_us_per_packet": 1e6 * nacho_cpu / (packets_per_s * seconds) if packets_per_s else None,
        "udp_drops": b["udp_drops"] - a["udp_drops"],
        "source_cpu_pct": 100 * source_cpu / seconds, "source_rss_mb": source_rss_kb / 1024,
        "other_load_pct": 100 * max(0.0, (b["busy"] - a["busy"]) - nacho_cpu - source_cpu) / seconds,
        "machine_pct": 100 * (b["busy"] - a["busy"]) / seconds,
        "source_last": final_line,
    }
    run["bots"] = bots_outcome(report(NACHO, stats))
    run["delivered_pct"] = 100 * received_pps / sent_pps if received_pps is not None and sent_pps else None
    return run


def bench_load():
    """nacho bots subscribers on the Swift load source at each size, and a 1-subscriber base."""
    if not LOAD_SOURCE:
        raise RuntimeError("NACHO_LOAD_SOURCE_BIN not set (run Scripts/bench load)")
    c = LOAD
    video, audio = (path[len("replay:"):] for path in replay_clips())
    sizes = [1] + [s for s in c["sizes"] if s != 1]
    runs = []
    for subscribers in sizes:
        try:
            runs.append(load_run(subscribers, video, audio))
        except RuntimeError as error:
            print("\n  !! load %d could not be measured: %s" % (subscribers, error))
            runs.append(None)
    base = runs[0]
    results["load"] = {"config": c, "runs": runs}

    def marginal(run, key):
        if not run or not base or run["subscribers"] <= 1:
            return None
        return (run[key] - base[key]) / (run["subscribers"] - 1)

    def per(run, key, divisor):
        value = run[key]
        return value / run[divisor] if value is not None and run[divisor] else None

    def three(value):
        """Per-stream shares are hundredths of a percent: three decimals (the goal is 0.04)."""
        return "-" if value is None else "%.3f" % value

    labels = [("%d subs (%d streams)" % (s, s * STREAMS_PER_SUBSCRIBER), run) for s, run in zip(sizes, runs)]

    def row(label, value):
        return [label] + [value(run) if run else None for _, run in labels]

    rows = [
        row("nacho CPU, % of one core", lambda r: r["cpu_pct"]),
        row("  per received stream, % of a core", lambda r: three(per(r, "cpu_pct", "streams"))),
        row("  marginal per subscriber: (CPU(S) − CPU(1)) ÷ (S − 1)", lambda r: marginal(r, "cpu_pct")),
        row("  CPU µs per received packet", lambda r: r["cpu_us_per_packet"]),
        row("nacho peak RSS (VmHWM), MB", lambda r: r["rss_mb"]),
        row("  RSS MB per subscriber (process ÷ bots)", lambda r: per(r, "rss_mb", "subscribers")),
        row("  marginal: (RSS(S) − RSS(1)) ÷ (S − 1)", lambda r: marginal(r, "rss_mb")),
        row("packets/s counted by nacho's subscribers", lambda r: r["received_pps"]),
        row("packets/s sent by the load source", lambda r: r["sent_pps"]),
        row("  counted ÷ sent, %", lambda r: r["delivered_pct"]),
        row("UDP receive drops in the window (machine)", lambda r: r["udp_drops"]),
        row("load source CPU, % of one core", lambda r: r["source_cpu_pct"]),
        row("  per stream, % of a core", lambda r: three(per(r, "source_cpu_pct", "streams"))),
        row("load source peak RSS, MB", lambda r: r["source_rss_mb"]),
        row("other processes, % of one core", lambda r: r["other_load_pct"]),
        row("every consumer resumed after, s", lambda r: r["ready_after"]),
        row("bots joined (of planned)", lambda r: "%d/%d" % (r["bots"]["joined"], r["bots"]["bots"])),
        row("worst track loss, %", lambda r: None if r["bots"]["worst_loss"] is None else 100 * r["bots"]["worst_loss"]),
    ]
    notes = ["each column: a fresh `nacho-load-source --video-producers %d --audio-producers %d --threads %d` replaying "
             "320x240@15 VP8 300 kb/s + Opus 32 kb/s (10 s loops), and `nacho bots --subscribers S --video-publishers 0 "
             "--audio-publishers 0` (members from %d); every subscriber receives %d streams"
             % (c["video_producers"], c["audio_producers"], c["threads"], c["member_base"], STREAMS_PER_SUBSCRIBER),
             "window: %g s, after every bot joined and every consumer was resumed (the source's statistics) + %g s"
             % (c["window"], c["settle"]),
             "CPU: user+sys of the process over the window, %% of one core (the machine has %d); µs per packet: nacho's CPU "
             "÷ the packets its subscribers counted (`nacho report --json` at each end of the window)" % CORES,
             "UDP receive drops: /proc/net/snmp RcvbufErrors over the window, the whole machine"]
    for label, run in labels:
        if run is None:
            continue
        if run["ready_after"] is None:
            notes.append("!! %s: not every consumer was resumed after %d s; measured anyway" % (label, c["ready_timeout"]))
        if run["delivered_pct"] is not None and run["delivered_pct"] < 95:
            notes.append("!! %s: nacho counted %.0f %% of what the source sent" % (label, run["delivered_pct"]))
        if run["source_cpu_pct"] >= 90 * c["threads"]:
            notes.append("!! %s: the load source used %.0f %% of a core with %d event loop(s): it may be the limit"
                         % (label, run["source_cpu_pct"], c["threads"]))
        if run["other_load_pct"] > 50:
            notes.append("!! %s: other processes used %.0f %% of a core during the window: less reliable figures"
                         % (label, run["other_load_pct"]))
        if run["exit"] != 0:
            notes.append("!! %s: nacho bots exited with %s; its log ends: %s" % (label, run["exit"], tail(run["name"], 3)))
    table("load: nacho bots subscribers fed by the Swift load source", [""] + [label for label, _ in labels], rows, notes=notes)
