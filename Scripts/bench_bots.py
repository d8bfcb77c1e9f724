"""`Scripts/bench bots` (issue 10): nacho bots per participant next to aiortc participants, replay
bots per bot, the largest room this machine holds. nacho's own figures come from
`nacho report --json` (bench_nacho.py); the aiortc side's from its `--ticks` lines."""

import json
import os
import signal
import subprocess
import sys
import time

from bench_common import (CORES, NACHO, PYTHON, QUIET_WAIT, ROOM, ROOT, RoomServer, SCRATCH, check, cleanup,
    finish, measure_run, results, sample, spawn, status_kb, tail, wait_for_quiet)
from bench_nacho import WindowCount, bots_outcome, report
from bench_table import ratio, table


BOTS_VIDEO = {"width": 320, "height": 240, "fps": 15, "bitrate": 300_000}
BOTS_AUDIO = {"bitrate": 32000, "channels": 1}
BOTS_SERVER_MEDIA = ["--video-size", "320x240", "--video-fps", "15"]
BOTS = {"sizes": [int(v) for v in os.environ.get("BENCH_BOTS_SIZES", "1 4 16").split()],
        "replay_rooms": [1, 2, 4], "settle": 3, "window": 15, "joins_per_second": 10, "ready_timeout": 120}
LARGEST = {"seconds": float(os.environ.get("BENCH_ROOM_SECONDS", "60")), "first": 4,
           "max": int(os.environ.get("BENCH_ROOM_MAX", "64")), "steps": int(os.environ.get("BENCH_ROOM_STEPS", "8")),
           "expect": ["joined=all", "tracks=all", "loss<1%"]}
SATURATED = 90.0   # % of one core: a thread this busy is the bottleneck, not the thing measured


def bots_config():
    path = os.path.join(SCRATCH, "bots-config.json")
    with open(path, "w") as f:
        json.dump({"video": BOTS_VIDEO, "audio": BOTS_AUDIO}, f)
    return path


def joins_per_second(bots):
    """10 joins a second, more for large rooms: the ramp takes at most 10 s."""
    return max(BOTS["joins_per_second"], bots / 10)


def bots_command(name, video_publishers, audio_publishers, subscribers, video_source="synthetic", audio_source="synthetic",
                 duration=600, expect=()):
    """`nacho bots` for a room (one shared encode or one clip per kind, simulcast off, the
    statistics in the scratch directory as NAME.jsonl). Returns (build, stats path)."""
    stats = os.path.join(SCRATCH, name + ".jsonl")
    rate = joins_per_second(video_publishers + audio_publishers + subscribers)

    def build(server):
        command = [NACHO, "bots", "--config", bots_config(), "--edge", server.edge, "--origin", server.origin, "--room", ROOM,
                   "--video-publishers", str(video_publishers), "--audio-publishers", str(audio_publishers),
                   "--subscribers", str(subscribers), "--no-simulcast", "--num-per-second", "%g" % rate,
                   "--duration", "%g" % duration, "--stats", stats, "--video-source", video_source, "--audio-source", audio_source]
        for expectation in expect:
            command += ["--expect", expectation]
        return command
    return build, stats


def aiortc_room_command(count):
    def build(server):
        return [PYTHON, os.path.join(ROOT, "Scripts/bench_participant.py"), "--edge", server.edge, "--origin", server.origin,
                "--room", ROOM, "--member", "2000", "--count", str(count), "--receive-own", "--no-decode", "--ticks", "--duration", "600",
                "--video-size", "%dx%d" % (BOTS_VIDEO["width"], BOTS_VIDEO["height"]), "--video-fps", str(BOTS_VIDEO["fps"]),
                "--video-bitrate", str(BOTS_VIDEO["bitrate"])]
    return build


def room_ready(producers, consumers):
    """/state test: the room's producers exist and every consumer was created and resumed."""
    def ready(state):
        have = sum(len(p) for p in state["producers"].values())
        resumed = sum(1 for c in state["consumers"] if c.get("resumed"))
        return have >= producers and resumed >= consumers
    return ready


def ticks_window_delivered(run):
    """bench_participant.py --ticks: packets/s its receivers counted in the window (its
    once-a-second cumulative counts, interpolated at the window's edges), % of the packets/s
    the server sent them in the same window."""
    ticks = sorted((l["tick"], l["received_packets"]) for l in run["report"] if "tick" in l)

    def at(t):
        before = [c for c in ticks if c[0] <= t]
        after = [c for c in ticks if c[0] >= t]
        if not before or not after:
            return None
        (t0, n0), (t1, n1) = before[-1], after[0]
        return n0 + ((t - t0) / (t1 - t0) if t1 > t0 else 0) * (n1 - n0)

    start, end = run["wall"]
    first, last = at(start), at(end)
    if first is None or last is None or not run["received_pps"]:
        return None
    return 100 * (last - first) / (end - start) / run["received_pps"]


def delivered_pct(run, counted):
    """nacho bots: packets/s its subscribers counted in the window (`nacho report` at each end
    of it), % of the packets/s the server sent them in the same window."""
    rate = counted.per_second()
    return 100 * rate / run["received_pps"] if rate is not None and run["received_pps"] else None


def try_run(label, *arguments, **keywords):
    try:
        return measure_run(*arguments, **keywords)
    except RuntimeError as error:
        print("\n  !! %s could not be measured: %s" % (label, error))
        return None


def saturation_notes(runs):
    """Flags for runs whose figures say more about the bottleneck than about the participant."""
    notes = []
    for label, run in runs:
        if run is None:
            continue
        thread, pct = run["server_busiest_thread"]
        if pct >= SATURATED:
            notes.append("!! %s: the server's busiest thread (%s) used %.0f %% of a core: the server was saturated, "
                         "these figures are not trustworthy" % (label, thread, pct))
        thread, pct = run["participant_busiest_thread"]
        if pct >= SATURATED:
            notes.append("!! %s: its busiest thread (%s) used %.0f %% of a core: it could not keep up "
                         "(see what it counted of what the server sent)" % (label, thread, pct))
        if run["machine_pct"] >= 95 * CORES and run["other_load_pct"] <= 50:
            notes.append("!! %s: the machine was busy %.0f %% of the window (all %d cores): CPU seconds are inflated"
                         % (label, run["machine_pct"] / CORES, CORES))
        if run.get("delivered_pct") is not None and run["delivered_pct"] < 90:
            notes.append("!! %s: counted only %.0f %% of what the server sent it: it could not keep up (%.0f datagrams/s "
                         "dropped for full receive buffers on the machine); its CPU is for the work it managed, not the "
                         "work asked, so its ratio flatters it" % (label, run["delivered_pct"], run["udp_drops_per_s"]))
        if run["ready_after"] is None:
            notes.append("!! %s: not every consumer was up after %d s; measured anyway" % (label, BOTS["ready_timeout"]))
    return notes


def bots_participants():
    """Part A: N participants sending and receiving, nacho bots in one process next to N
    aiortc participants in one process."""
    c = BOTS
    video = "%dx%d@%d VP8 (%d kb/s target)" % (BOTS_VIDEO["width"], BOTS_VIDEO["height"], BOTS_VIDEO["fps"],
                                                BOTS_VIDEO["bitrate"] // 1000)
    runs = {}
    for n in c["sizes"]:
        ready = room_ready(2 * n, 2 * n * n)
        build, stats = bots_command("bots-nacho-%d" % n, n, n, n)
        counted = WindowCount(NACHO, stats)
        nacho = try_run("nacho %d" % n, "bots-nacho-%d" % n, build, [], c["settle"], c["window"], ready=ready,
                        ready_timeout=c["ready_timeout"], server_media=BOTS_SERVER_MEDIA, on_sample=counted.mark)
        if nacho:
            nacho["bots"] = bots_outcome(report(NACHO, stats))
            nacho["delivered_pct"] = delivered_pct(nacho, counted)
        aiortc = try_run("aiortc %d" % n, "bots-aiortc-%d" % n, aiortc_room_command(n), [], c["settle"], c["window"],
                         ready=ready, ready_timeout=c["ready_timeout"], server_media=BOTS_SERVER_MEDIA)
        if aiortc:
            aiortc["delivered_pct"] = ticks_window_delivered(aiortc)
        for run in (nacho, aiortc):
            if run:
                run["participants"] = n
        runs[n] = {"nacho": nacho, "aiortc": aiortc}
    results.setdefault("bots", {})["participants"] = runs

    def per(run, key):
        return run[key] / run["participants"] if run else None

    rows = []
    for n, pair in runs.items():
        nacho, aiortc = pair["nacho"], pair["aiortc"]
        rows.append([str(n), per(nacho, "cpu_pct"), per(aiortc, "cpu_pct"), ratio(per(nacho, "cpu_pct"), per(aiortc, "cpu_pct")),
                     per(nacho, "rss_mb"), per(aiortc, "rss_mb"), ratio(per(nacho, "rss_mb"), per(aiortc, "rss_mb")),
                     per(nacho, "received_pps"), per(aiortc, "received_pps")])
    rows.append(["goal (issue 10) at 16", "", "", "<= 0.10", "", "", "<= 0.10", "", ""])
    table("bots: N participants, each sending %s + Opus and receiving every audio and video track of the room; "
          "per participant (process ÷ N); %d s window once every consumer is up + %d s; fresh server each"
          % (video, c["window"], c["settle"]),
          ["N", "nacho CPU %", "aiortc CPU %", "nacho ÷ aiortc", "nacho RSS MB", "aiortc RSS MB", "nacho ÷ aiortc",
           "nacho rx pkt/s", "aiortc rx pkt/s"], rows,
          notes=["nacho: ONE `nacho bots` process with N video publishers + N audio publishers + N subscribers (bots publish "
                 "or receive, never both: a participant here is one of each), synthetic sources, ONE shared VP8 encode and "
                 "ONE Opus encode (32 kb/s mono) for all publishers, --no-simulcast; subscribers reassemble, never decode",
                 "aiortc: ONE Python process, `Scripts/bench_participant.py --count N --receive-own --no-decode --ticks`: N participants "
                 "on one asyncio loop, each encoding its own VP8 (PyAV) and Opus (96 kb/s stereo), receiving without decoding",
                 "both receive every track of the room, their own included (a nacho subscriber is a member of its own; "
                 "--receive-own makes aiortc's edge another member): N × 2N streams from the server",
                 "CPU: user+sys of the whole process over the window, % of one core, ÷ N; RSS: VmHWM ÷ N (at N = 1 all of "
                 "the process's fixed cost lands on one participant)",
                 "rx pkt/s: RTP packets/s the server sent to the participant's consumers in the window (/state), ÷ N"])

    labels = [("%s %d" % (who, n), pair[who]) for n, pair in runs.items() for who in ("nacho", "aiortc")]

    def row(label, value):
        return [label] + [value(run) if run else None for _, run in labels]

    detail = [
        row("process CPU, % of one core", lambda r: r["cpu_pct"]),
        row("process peak RSS (VmHWM), MB", lambda r: r["rss_mb"]),
        row("sent per participant, kb/s (RTP payload)", lambda r: r["sent_kbps"] / r["participants"]),
        row("  of which video, kb/s", lambda r: r["sent_video_kbps"] / r["participants"]),
        row("received per participant, kb/s (RTP payload)", lambda r: r["received_kbps"] / r["participants"]),
        row("counted by the participants, % of what the server sent", lambda r: r["delivered_pct"]),
        row("UDP datagrams dropped by the kernel, /s (machine)", lambda r: r["udp_drops_per_s"]),
        row("its busiest thread, % of one core", lambda r: r["participant_busiest_thread"][1]),
        row("server CPU, % of one core", lambda r: r["server_cpu_pct"]),
        row("server's busiest thread, % of one core", lambda r: r["server_busiest_thread"][1]),
        row("machine busy, %% of one core (of %d)" % (100 * CORES), lambda r: r["machine_pct"]),
        row("other processes, % of one core", lambda r: r["other_load_pct"]),
        row("every consumer up after, s", lambda r: r["ready_after"]),
    ]
    table("bots: the runs above in detail", [""] + [label for label, _ in labels], detail,
          notes=["counted by the participants: packets/s the participants counted in the window (nacho: its subscribers' "
                 "counts from `nacho report --json` at each end of the window; aiortc: its receivers' counts, once a second with --ticks) ÷ packets/s the "
                 "server's consumers sent them in it (/state); well under 100 % means the participant could not keep up",
                 "UDP datagrams dropped: /proc/net/snmp RcvbufErrors in the window, the whole machine (the server's sockets "
                 "and other processes' too)"] + saturation_notes(labels))
    for label, run in labels:
        if run:
            check(run, sends=True, receives=True)
        else:
            print("  !! %s: no figures (see above)" % label)
    if any(pair["aiortc"] is None for pair in runs.values()):
        print("  !! aiortc did not complete every size: the server or the machine could not hold that many aiortc participants")


def replay_clips():
    """A 10 s VP8 clip (testsrc2, 320x240@15, 300 kb/s, a key frame every 2 s) and a 10 s Opus
    clip (440 Hz, 32 kb/s mono), made once by ffmpeg in the scratch directory."""
    video, audio = os.path.join(SCRATCH, "clip.ivf"), os.path.join(SCRATCH, "clip.ogg")
    for path, arguments in (
            (video, ["-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=%d" % (BOTS_VIDEO["width"], BOTS_VIDEO["height"], BOTS_VIDEO["fps"]),
                     "-t", "10", "-c:v", "libvpx", "-g", str(2 * BOTS_VIDEO["fps"]), "-b:v", "%dk" % (BOTS_VIDEO["bitrate"] // 1000),
                     "-f", "ivf"]),
            (audio, ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-ac", "1", "-c:a", "libopus",
                     "-b:a", "32k"])):
        if not os.path.exists(path):
            out = subprocess.run(["ffmpeg", "-v", "error", "-y"] + arguments + [path], capture_output=True, text=True,
                                 stdin=subprocess.DEVNULL)
            if out.returncode != 0:
                raise RuntimeError("ffmpeg could not make %s:\n%s" % (path, out.stderr[-2000:]))
    return "replay:" + video, "replay:" + audio


def bots_replay():
    """Part B: replay bots (no encoder), per bot: one bot alone, then rooms of k video + k audio
    publishers + 2k subscribers."""
    c = BOTS
    video, audio = replay_clips()
    plans = [("1 bot", 1, 0, 0)] + [("%d+%d+%d" % (k, k, 2 * k), k, k, 2 * k) for k in c["replay_rooms"]]
    runs = []
    for label, vp, ap, subs in plans:
        name = "bots-replay-%d-%d-%d" % (vp, ap, subs)
        build, stats = bots_command(name, vp, ap, subs, video, audio)
        counted = WindowCount(NACHO, stats)
        run = try_run(label, name, build, [], c["settle"], c["window"], ready=room_ready(vp + ap, subs * (vp + ap)),
                      ready_timeout=c["ready_timeout"], server_media=BOTS_SERVER_MEDIA, on_sample=counted.mark)
        if run:
            run["bots"] = bots_outcome(report(NACHO, stats))
            run["count"], run["subscribers"] = vp + ap + subs, subs
            run["delivered_pct"] = delivered_pct(run, counted) if subs else None
        runs.append((label, run))
    base = runs[0][1]

    def marginal(run, key):
        if not run or not base or run["count"] <= 1:
            return None
        return (run[key] - base[key]) / (run["count"] - 1)

    def row(label, value):
        return [label] + [value(run) if run else None for _, run in runs]

    rows = [
        row("bots", lambda r: str(r["count"])),
        row("process CPU, % of one core", lambda r: r["cpu_pct"]),
        row("CPU % of a core per bot (process ÷ bots)", lambda r: r["cpu_pct"] / r["count"]),
        row("  marginal: (CPU(N) − CPU(1 bot)) ÷ (N − 1)", lambda r: marginal(r, "cpu_pct")),
        row("process peak RSS (VmHWM), MB", lambda r: r["rss_mb"]),
        row("RSS MB per bot (process ÷ bots)", lambda r: r["rss_mb"] / r["count"]),
        row("  marginal: (RSS(N) − RSS(1 bot)) ÷ (N − 1)", lambda r: marginal(r, "rss_mb")),
        row("sent, kb/s (RTP payload, all publishers)", lambda r: r["sent_kbps"]),
        row("received per subscriber, packets/s", lambda r: r["received_pps"] / r["subscribers"] if r["subscribers"] else None),
        row("counted by the subscribers, % of what the server sent", lambda r: r["delivered_pct"]),
        row("UDP datagrams dropped by the kernel, /s (machine)", lambda r: r["udp_drops_per_s"]),
        row("server's busiest thread, % of one core", lambda r: r["server_busiest_thread"][1]),
        row("other processes, % of one core", lambda r: r["other_load_pct"]),
    ]
    results.setdefault("bots", {})["replay"] = dict(runs)
    table("bots replay: `nacho bots --video-source replay:clip.ivf --audio-source replay:clip.ogg` (320x240@15 VP8 300 kb/s, "
          "Opus 32 kb/s mono, 10 s loops; no encoder); %d s window once every consumer is up + %d s; fresh server each"
          % (c["window"], c["settle"]),
          [""] + [label for label, _ in runs], rows,
          notes=["columns: one video publisher alone, then k video + k audio publishers + 2k subscribers (each subscriber "
                 "receives 2k tracks, so a subscriber's cost grows with the room)",
                 "the marginal figures are the honest per-bot cost: the process's fixed part (runtime, event loops, the "
                 "clips) is paid once; `process ÷ bots` spreads it over the bots",
                 "goal (issue 10), per replay bot: <= 1 % of a core and <= 5 MB"] + saturation_notes(runs))
    for label, run in runs:
        if run:
            check(run, sends=True, receives=run["subscribers"] > 0)


def room_step(k, seconds):
    """One step of the largest-room search: k video + k audio replay publishers + 2k
    subscribers for `seconds`, a fresh server, the expectations; /proc sampled in between."""
    name = "bots-room-%d" % k
    video, audio = replay_clips()
    bots = 4 * k
    if QUIET_WAIT > 0:
        wait_for_quiet(name)
    server = RoomServer(name + "-server", BOTS_SERVER_MEDIA)
    step = {"k": k, "video_publishers": k, "audio_publishers": k, "subscribers": 2 * k, "bots": bots, "seconds": seconds}
    try:
        build, stats = bots_command(name, k, k, 2 * k, video, audio, duration=seconds, expect=LARGEST["expect"])
        command = build(server)
        bots_process = spawn(command, name)
        start = time.monotonic()
        ramp = bots / joins_per_second(bots)
        # Sampled from the end of the ramp (+ 2 s) to 1 s before the end.
        first, last = ramp + 2, seconds - 1
        a = b = None
        if last - first >= 3:
            time.sleep(max(0, start + first - time.monotonic()))
            if bots_process.poll() is None:
                a = sample(bots_process, server)
                time.sleep(max(0, start + last - time.monotonic()))
                if bots_process.poll() is None:
                    b = sample(bots_process, server)
                    step["rss_mb"] = status_kb(bots_process.pid, "VmHWM") / 1024
        try:
            bots_process.wait(max(0, start + seconds + 60 - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        step["exit"] = finish(bots_process, signal.SIGINT, timeout=20)
    finally:
        server.stop()
    if a and b:
        window = b["t"] - a["t"]
        step["cpu_pct"] = 100 * (b["participant"] - a["participant"]) / window
        busiest = max(((cpu - a["threads"].get(tid, (comm, 0))[1], comm) for tid, (comm, cpu) in b["threads"].items()),
                      default=(0, "?"))
        step["server_busiest_thread"] = (busiest[1], 100 * busiest[0] / window)
        step["server_cpu_pct"] = 100 * (b["server"] - a["server"]) / window
        step["other_load_pct"] = 100 * max(0.0, (b["busy"] - a["busy"]) - (b["participant"] - a["participant"])
                                           - (b["server"] - a["server"])) / window
        step["udp_drops_per_s"] = (b["udp_drops"] - a["udp_drops"]) / window
    outcome = bots_outcome(report(NACHO, stats, expect=LARGEST["expect"]))
    step.update({key: value for key, value in outcome.items() if key != "bots"})  # bots: as planned
    step["passed"] = step["exit"] == 0 and outcome["passed"] is True
    return step


def bots_largest_room():
    """Part C: the largest room of replay publishers and subscribers this machine holds for
    BENCH_ROOM_SECONDS with every expectation met: doubling k from LARGEST["first"], then
    bisecting between the last pass and the first failure."""
    c = LARGEST
    seconds = c["seconds"]
    steps = []
    passed_k, failed_k = 0, None
    k = max(1, min(c["first"], c["max"]))
    while len(steps) < c["steps"]:
        step = room_step(k, seconds)
        steps.append(step)
        print("  room %d+%d+%d (%d bots), %g s: exit %s, %s, %d of %d joined%s%s" % (
            k, k, 2 * k, step["bots"], seconds, step["exit"], "passed" if step["passed"] else "MISSED", step["joined"],
            step["bots"], "" if step["worst_loss"] is None else ", worst track loss %.2f %%" % (100 * step["worst_loss"]),
            "".join(", %s missed by %d" % item for item in step["missed_expectations"].items())))
        if step["exit"] not in (0, 3):
            print("      nacho bots exited with %s; its log ends:\n%s" % (step["exit"], tail("bots-room-%d" % k, 8)))
        for miss in step["misses"][:3]:
            print("      " + miss)
        if len(step["misses"]) > 3:
            print("      ... %d more misses" % (len(step["misses"]) - 3))
        sys.stdout.flush()
        if step["passed"]:
            passed_k = k
        else:
            failed_k = k if failed_k is None else min(failed_k, k)
        if failed_k is None:
            if k >= c["max"]:
                break
            k = min(2 * k, c["max"])
        else:
            if failed_k - passed_k <= 1:
                break
            k = (passed_k + failed_k) // 2
    if passed_k and failed_k is None:
        verdict = "at least %d bots (%d+%d+%d): the largest room tried (BENCH_ROOM_MAX=%d) passed" % (
            4 * passed_k, passed_k, passed_k, 2 * passed_k, c["max"])
    elif passed_k and failed_k - passed_k <= 1:
        verdict = "%d bots (%d+%d+%d); %d+%d+%d did not hold" % (4 * passed_k, passed_k, passed_k, 2 * passed_k,
                                                                  failed_k, failed_k, 2 * failed_k)
    elif passed_k:
        verdict = "at least %d bots (%d+%d+%d), fewer than %d: out of steps (BENCH_ROOM_STEPS=%d)" % (
            4 * passed_k, passed_k, passed_k, 2 * passed_k, 4 * failed_k, c["steps"])
    else:
        verdict = "none: even %d+%d+%d missed" % (failed_k, failed_k, 2 * failed_k)
    results.setdefault("bots", {})["largest_room"] = {"seconds": seconds, "expect": c["expect"], "steps": steps,
                                                      "largest_k": passed_k, "largest_bots": 4 * passed_k, "verdict": verdict}
    rows = [["%d+%d+%d" % (s["k"], s["k"], 2 * s["k"]), str(s["bots"]), str(s["exit"]), "yes" if s["passed"] else "no",
             "%d/%d" % (s["joined"], s["bots"]), None if s["worst_loss"] is None else 100 * s["worst_loss"],
             ", ".join("%s ×%d" % item for item in s["missed_expectations"].items()) or "-",
             s.get("cpu_pct"), s.get("rss_mb"), s.get("server_busiest_thread", (None, None))[1], s.get("udp_drops_per_s"),
             s.get("other_load_pct")]
            for s in steps]
    notes = ["each step: a fresh server, `nacho bots --video-publishers k --audio-publishers k --subscribers 2k "
             "--video-source replay:clip.ivf --audio-source replay:clip.ogg --no-simulcast --duration %g %s`; "
             "passed = exit 0 (every expectation met by every bot and track)" % (
                 seconds, " ".join("--expect '%s'" % e for e in c["expect"])),
             "joins: 10 a second, or bots ÷ 10 when more (the ramp takes at most 10 s)",
             "CPU, RSS, the server's busiest thread and the machine's UDP receive-buffer drops sampled from the end of the "
             "ramp + 2 s to 1 s before the end ('-': too short a run to sample); a server thread near 100 % means the "
             "Python test server, not nacho, was the limit",
             "largest room held: " + verdict]
    loss_held = [s["k"] for s in steps if s["met"].get("loss<1%")]
    if loss_held:
        notes.append("loss<1%% alone (the other expectations aside) held in rooms tried up to %d+%d+%d (%d bots)%s" % (
            max(loss_held), max(loss_held), 2 * max(loss_held), 4 * max(loss_held),
            "" if all(s["met"].get("loss<1%") for s in steps if s["k"] <= max(loss_held)) else ", not in every smaller one"))
    notes += ["!! room %d+%d+%d: the server's busiest thread used %.0f %% of a core (saturated)" % (
        s["k"], s["k"], 2 * s["k"], s["server_busiest_thread"][1]) for s in steps
        if s.get("server_busiest_thread") and s["server_busiest_thread"][1] >= SATURATED]
    table("bots largest room: replay publishers + subscribers for %g s, every bot meeting %s" % (seconds, ", ".join(c["expect"])),
          ["room (video+audio+subs)", "bots", "exit", "passed", "joined", "worst loss %", "missed (lines)", "nacho CPU %", "nacho RSS MB",
           "server thread %", "UDP drops/s", "other load %"], rows, notes=notes)


def bench_bots():
    """nacho bots (issue 10): per participant next to aiortc, replay bots per bot, the largest
    room. Not in the default set: it takes about 15 minutes (BENCH_ROOM_SECONDS=60)."""
    bots_participants()
    cleanup()
    bots_replay()
    cleanup()
    bots_largest_room()
