"""nacho's own figures for Scripts/bench, read through `nacho report --json` (docs/STATS.md):
the statistics a `nacho bots --stats FILE` run writes are never parsed here, so the bench reads
them exactly as a user's `nacho report` does."""

import json
import subprocess


def report(nacho, path, expect=()):
    """`nacho report --json [--expect E]... PATH` as a dict, or None when the file holds no
    statistics yet (exit 64) or nacho could not read it. Exit 3 (an expectation missed) still
    carries the whole report."""
    command = [nacho, "report", "--json", path]
    for expectation in expect:
        command += ["--expect", expectation]
    out = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if out.returncode not in (0, 3):
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def received_packets(document):
    """RTP packets every subscriber counted so far (the `received` tracks' totals)."""
    if not document:
        return 0
    return sum(track.get("packets") or 0 for track in document.get("received", []))


def bots_outcome(document):
    """What a `nacho bots` run's report says: bots planned and joined, packets its subscribers
    counted, the worst loss of any track, whether the run ended and passed, and the
    expectations (evaluated by `nacho report --expect` with the run's own expectations)."""
    document = document or {}
    tracks = document.get("published", []) + document.get("received", [])
    losses = [track.get("loss") or 0 for track in tracks]
    runs = document.get("runs", [])
    expectations = document.get("expectations", [])
    bots = document.get("bots") or {}
    return {"bots": bots.get("planned") or 0, "joined": bots.get("joined") or 0,
            "received_packets": received_packets(document),
            "worst_loss": max(losses) if losses else None,
            "has_end": bool(runs) and all(run.get("ended") for run in runs),
            "passed": (all(run.get("passed") is True for run in runs) if runs and all(run.get("ended") for run in runs)
                       else None),
            "misses": [miss for e in expectations for miss in e.get("misses") or []],
            "met": {e.get("expect"): bool(e.get("met")) for e in expectations},
            "missed_expectations": {e.get("expect"): len(e.get("misses") or []) for e in expectations if not e.get("met")}}


def received_tracks(document):
    """Per received track ((run, bot, track)): the packets counted so far and the seconds they
    cover (the `interval_s` of its lines added up)."""
    if not document:
        return {}
    return {(t.get("run"), t.get("bot"), t.get("track")): (t.get("packets") or 0, t.get("interval_s") or 0)
            for t in document.get("received", [])}


class WindowCount:
    """Packets per second a `nacho bots` process's subscribers counted in a window: the report
    taken at the window's start and again at its end (the statistics file grows by one `track`
    line per track per second); per track, the packets its new lines add over the seconds they
    cover, added up over the tracks."""

    def __init__(self, nacho, path):
        self.nacho, self.path = nacho, path
        self.marks = []

    def mark(self):
        self.marks.append(received_tracks(report(self.nacho, self.path)))

    def per_second(self):
        if len(self.marks) < 2:
            return None
        first, last = self.marks[0], self.marks[-1]
        rate, measured = 0.0, False
        for key, (packets, seconds) in last.items():
            packets0, seconds0 = first.get(key, (0, 0))
            if seconds > seconds0:
                rate += (packets - packets0) / (seconds - seconds0)
                measured = True
        return rate if measured else None
