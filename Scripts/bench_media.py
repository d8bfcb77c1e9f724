"""The media-path benchmarks of Scripts/bench (issue 9): machine, participant, receive, alloc,
packets. Each starts nacho and its aiortc counterpart against fresh servers and prints a table."""

import ctypes
import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

from bench_common import CORES, MEMBER, NACHO, PYTHON, ROOM, ROOT, SCRATCH, VIDEO, check, measure_run, results
from bench_table import ratio, table


def nacho_config():
    path = os.path.join(SCRATCH, "nacho-config.json")
    with open(path, "w") as f:
        json.dump({"video": VIDEO, "audio": {"bitrate": 32000, "channels": 1}}, f)
    return path


def nacho_command(*arguments):
    """`nacho join` or `nacho record` against the server, as the benchmarks run it."""
    def build(server):
        command = [NACHO] + list(arguments)
        if arguments[0] == "join":
            command += ["--edge", server.edge, "--origin", server.origin, "--config", nacho_config()]
        else:
            command += ["--edge", server.edge]
        return command + ["--room", ROOM, "--member", MEMBER, "--json", "--duration", "600"]
    return build


def aiortc_command(*arguments):
    def build(server):
        return [PYTHON, os.path.join(ROOT, "Scripts/bench_participant.py"), "--edge", server.edge, "--origin", server.origin,
                "--room", ROOM, "--member", MEMBER, "--duration", "600",
                "--video-size", "%dx%d" % (VIDEO["width"], VIDEO["height"]), "--video-fps", str(VIDEO["fps"]),
                "--video-bitrate", str(VIDEO["bitrate"])] + list(arguments)
    return build


def version_of_library(path, symbol):
    try:
        library = ctypes.CDLL(path)
        function = getattr(library, symbol)
        function.restype = ctypes.c_char_p
        return function().decode()
    except (OSError, AttributeError):
        return "?"


def strings_version(path, pattern):
    try:
        with open(path, "rb") as f:
            found = re.search(pattern, f.read())
        return found.group(1).decode() if found else "?"
    except OSError:
        return "?"


def srtp_crypto():
    """The crypto library the system libsrtp2 was built with (Debian's uses NSS)."""
    out = subprocess.run(["sh", "-c", "ldd $(ldconfig -p | awk '/libsrtp2.so/ {print $NF; exit}')"],
                         capture_output=True, text=True).stdout
    return "NSS" if "libnss3" in out else "OpenSSL" if "libcrypto" in out else "built-in"


def bench_machine():
    """What the figures were measured on."""
    with open("/proc/cpuinfo") as f:
        info = {}
        for line in f:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    flags = info.get("flags", "").split()
    model = "%s (family %s, %s MHz%s%s)" % (
        info.get("model name", platform.processor()), info.get("cpu family", "?"), info.get("cpu MHz", "?").split(".")[0],
        ", AVX-512" if "avx512f" in flags else ", AVX2" if "avx2" in flags else "",
        ", virtual machine" if "hypervisor" in flags else "")
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / 1024 / 1024
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    site = os.path.dirname(os.path.dirname(subprocess.run([PYTHON, "-c", "import aiortc; print(aiortc.__file__)"],
                                                          capture_output=True, text=True).stdout.strip()))

    def pip_version(package):
        try:
            from importlib.metadata import version
            return version(package)
        except Exception:
            return "?"

    def deb(package):
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
        return out.stdout or "?"

    av_vpx = glob.glob(os.path.join(site, "av.libs", "libvpx*"))
    binding = glob.glob(os.path.join(site, "pylibsrtp", "_binding*.so"))
    nacho_stat = os.stat(NACHO)
    rows = [
        ["cores (nproc)", str(CORES)],
        ["CPU", model],
        ["RAM", "%.1f GiB" % memory],
        ["kernel", platform.release()],
        ["Swift", swift[0] if swift else "?"],
        ["nacho binary", "%s (built %s)" % (NACHO, time.strftime("%Y-%m-%d %H:%M", time.localtime(nacho_stat.st_mtime)))],
        ["nacho's libraries (Debian)", "libvpx %s, libsrtp2 %s (crypto: %s), libopus %s, OpenSSL %s" % (
            version_of_library("libvpx.so.7", "vpx_codec_version_str"), deb("libsrtp2-1"), srtp_crypto(), deb("libopus0"),
            deb("libssl3"))],
        ["aiortc side (Python %s)" % platform.python_version(),
         "aiortc %s, aioice %s, PyAV %s (its libvpx %s), pylibsrtp %s (its libsrtp %s, %s)" % (
             pip_version("aiortc"), pip_version("aioice"), pip_version("av"),
             version_of_library(av_vpx[0], "vpx_codec_version_str") if av_vpx else "?", pip_version("pylibsrtp"),
             strings_version(binding[0], rb"libsrtp2 ([0-9.]+)") if binding else "?",
             "OpenSSL " + strings_version(binding[0], rb"OpenSSL ([0-9.]+[a-z]?) ") if binding else "?")],
        ["load average at start", " ".join(open("/proc/loadavg").read().split()[:3])],
    ]
    results["machine"] = dict(rows)
    table("machine", ["", ""], rows, text=True)


PARTICIPANT = {"members": 1, "warmup": 5, "window": 20}


def bench_participant():
    """One participant sending 640x480@30 VP8 + Opus and receiving the room's virtual member,
    nacho then aiortc, each against a fresh server."""
    c = PARTICIPANT
    server = ["--virtual-members", str(c["members"])]
    n = measure_run("participant-nacho", nacho_command("join", "--audio-source", "synthetic", "--video-source", "synthetic"),
                    server, c["warmup"], c["window"])
    a = measure_run("participant-aiortc", aiortc_command(), server, c["warmup"], c["window"])
    results["participant"] = {"nacho": n, "aiortc": a}

    def per_mbps(run):
        return run["cpu_pct"] / (run["sent_kbps"] / 1000) if run["sent_kbps"] else None

    def row(label, key, compare=True):
        return [label, n[key], a[key], ratio(n[key], a[key]) if compare else None]

    rows = [
        row("CPU s in the window (user+sys)", "cpu"),
        row("CPU, % of one core", "cpu_pct"),
        ["CPU % of a core per Mb/s sent", per_mbps(n), per_mbps(a), ratio(per_mbps(n), per_mbps(a))],
        row("CPU s from process start (start-up in)", "cpu_total"),
        row("peak RSS (VmHWM), MB", "rss_mb"),
        row("sent, kb/s (RTP payload)", "sent_kbps"),
        row("  of which video, kb/s", "sent_video_kbps"),
        row("  of which audio, kb/s", "sent_audio_kbps"),
        row("sent, packets/s", "sent_pps"),
        row("received, kb/s (RTP payload)", "received_kbps"),
        row("received, packets/s", "received_pps"),
        row("server: member frames sent, fps", "server_sent_fps", False),
        row("server: participant's frames decoded, fps", "server_decoded_fps", False),
        row("server CPU, % of one core", "server_cpu_pct", False),
        ["server's busiest thread, % of one core", n["server_busiest_thread"][1], a["server_busiest_thread"][1], None],
        row("other processes, % of one core", "other_load_pct", False),
    ]
    table("participant: sends 640x480@30 VP8 (800 kb/s target) + Opus, receives %d virtual member (640x480@30 VP8 + Opus); "
          "%d s window after %d s; one after the other, fresh server each" % (c["members"], c["window"], c["warmup"]),
          ["", "nacho", "aiortc", "nacho ÷ aiortc"], rows,
          notes=["nacho: `nacho join --audio-source synthetic --video-source synthetic` (Opus 32 kb/s mono); "
                 "it reassembles what it receives and does not decode it",
                 "aiortc: Scripts/bench_participant.py (VP8 through PyAV, 1 encoder thread at 640x480, target at most %d kb/s as "
                 "nacho's; Opus 96 kb/s stereo " % (VIDEO["bitrate"] // 1000) +
                 "as aiortc always does); it decodes what it receives",
                 "goal (issue 9): nacho ÷ aiortc CPU <= 0.25"] + [
                     "%s by thread name, %% of one core: %s" % (who, ", ".join("%s %.1f" % (comm, pct) for pct, comm in run["threads"][:5]))
                     for who, run in (("nacho", n), ("aiortc", a))])
    for run in (n, a):
        check(run, sends=True, receives=True)


RECEIVE = {"members": 1, "warmup": 3, "window": 12}


def bench_receive():
    """Receiving one member (640x480@30 VP8 + Opus): nacho record, nacho join without sending,
    the aiortc participant receive-only, decoding and not."""
    c = RECEIVE
    server = ["--virtual-members", str(c["members"])]
    record_dir = os.path.join(SCRATCH, "recordings")
    runs = [
        ("nacho record", measure_run("receive-nacho-record", nacho_command("record", "--out", record_dir), server, c["warmup"], c["window"])),
        ("nacho join", measure_run("receive-nacho-join", nacho_command("join", "--no-audio", "--no-video"), server, c["warmup"], c["window"])),
        ("aiortc", measure_run("receive-aiortc", aiortc_command("--no-send"), server, c["warmup"], c["window"])),
        ("aiortc no-decode", measure_run("receive-aiortc-nodecode", aiortc_command("--no-send", "--no-decode"), server,
                                         c["warmup"], c["window"])),
    ]
    results["receive"] = dict(runs)
    by = dict(runs)
    members = c["members"]

    def row(label, value):
        return [label] + [value(run) for _, run in runs]

    rows = [
        row("CPU, % of one core", lambda r: r["cpu_pct"]),
        row("CPU % of a core per received member", lambda r: r["cpu_pct"] / members),
        row("CPU µs per received packet", lambda r: 1e6 * r["cpu"] / r["received_packets"] if r["received_packets"] else None),
        row("received, packets/s", lambda r: r["received_pps"]),
        row("received, kb/s (RTP payload)", lambda r: r["received_kbps"]),
        row("peak RSS (VmHWM), MB", lambda r: r["rss_mb"]),
        row("CPU ÷ aiortc (decoding)", lambda r: ratio(r["cpu"], by["aiortc"]["cpu"])),
        row("CPU ÷ aiortc (not decoding)", lambda r: ratio(r["cpu"], by["aiortc no-decode"]["cpu"])),
        row("server CPU, % of one core", lambda r: r["server_cpu_pct"]),
        row("other processes, % of one core", lambda r: r["other_load_pct"]),
    ]
    table("receive: one virtual member (640x480@30 VP8 + Opus), nothing sent; %d s window after %d s; fresh server each"
          % (c["window"], c["warmup"]), [""] + [label for label, _ in runs], rows,
          notes=["nacho record writes WebM (no decoding); nacho join --no-audio --no-video reassembles frames and drops them",
                 "aiortc decodes every frame (what an aiortc participant does); 'no-decode' swaps its decoder for one that drops frames"])
    for _, run in runs:
        check(run, sends=False, receives=True)


ALLOC = {"warmup": 5, "window": 10}


def read_counts(path):
    with open(path) as f:
        return [tuple(float(v) for v in line.split()) for line in f if line.strip()]


def count_at(counts, t):
    """Allocations at monotonic time t, interpolated between the once-a-second lines."""
    before = [c for c in counts if c[0] <= t]
    after = [c for c in counts if c[0] >= t]
    if not before or not after:
        return None
    (t0, n0, b0), (t1, n1, b1) = before[-1], after[0]
    share = (t - t0) / (t1 - t0) if t1 > t0 else 0
    return n0 + share * (n1 - n0), b0 + share * (b1 - b0)


def bench_alloc():
    """Heap allocations of nacho in steady state, per received and per sent RTP packet."""
    library = os.environ.get("MALLOC_COUNT_LIB")
    if not library:
        sys.exit("bench_run: MALLOC_COUNT_LIB not set (run Scripts/bench)")
    c = ALLOC
    plans = [
        ("receive only", ["--virtual-members", "1"], nacho_command("join", "--no-audio", "--no-video")),
        ("send only", ["--virtual-members", "0"], nacho_command("join", "--audio-source", "synthetic", "--video-source", "synthetic")),
        ("idle", ["--virtual-members", "0"], nacho_command("join", "--no-audio", "--no-video")),
    ]
    runs = {}
    for label, server, build in plans:
        name = "alloc-" + label.replace(" ", "-")
        counts_file = os.path.join(SCRATCH, name + ".counts")
        run = measure_run(name, build, server, c["warmup"], c["window"],
                          env={"LD_PRELOAD": library, "NACHO_MALLOC_COUNT_FILE": counts_file})
        counts = read_counts(counts_file)
        first, last = count_at(counts, run["t0"]), count_at(counts, run["t1"])
        if first and last:
            run["allocations"], run["allocated_bytes"] = last[0] - first[0], last[1] - first[1]
        else:
            run["allocations"] = run["allocated_bytes"] = None
        runs[label] = run
    results["alloc"] = runs
    idle = runs["idle"]
    idle_rate = idle["allocations"] / idle["window"] if idle["allocations"] is not None else None

    def rate(run):
        return run["allocations"] / run["window"] if run["allocations"] is not None else None

    def per(run, key):
        packets = run[key]
        return run["allocations"] / packets if packets and run["allocations"] is not None else None

    def net(run, key):
        packets = run[key]
        if not packets or rate(run) is None or idle_rate is None:
            return None
        return (rate(run) - idle_rate) * run["window"] / packets

    r, s = runs["receive only"], runs["send only"]
    rows = [
        ["allocations per second", rate(r), rate(s), idle_rate],
        ["RTP packets per second (received / sent)", r["received_pps"], s["sent_pps"], None],
        ["allocations per packet", per(r, "received_packets"), per(s, "sent_packets"), None],
        ["  minus the idle rate", net(r, "received_packets"), net(s, "sent_packets"), None],
        ["bytes allocated per packet", r["allocated_bytes"] / r["received_packets"] if r["received_packets"] and r["allocated_bytes"] is not None else None,
         s["allocated_bytes"] / s["sent_packets"] if s["sent_packets"] and s["allocated_bytes"] is not None else None, None],
        ["goal (issue 9), allocations per packet", "0", "<= 1", ""],
    ]
    table("alloc: heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc) of nacho, "
          "t = %d..%d s, LD_PRELOAD counter" % (c["warmup"], c["warmup"] + c["window"]),
          ["", "receive only", "send only", "idle"], rows,
          notes=["receive only: `nacho join --no-audio --no-video`, 1 virtual member (640x480@30 VP8 + Opus); "
                 "packets = what the server's senders sent in the window (/state)",
                 "send only: `nacho join --audio-source synthetic --video-source synthetic`, nobody else in the room; "
                 "packets = what the server received (/state)",
                 "idle: joined, nothing sent or received (ICE consent, RTCP timers, Socket.IO pings)",
                 "every allocation of the process counts (encoder, timers, RTCP, signaling), divided by RTP packets"])
    for label, run in runs.items():
        check(run, sends=label == "send only", receives=label == "receive only")


def bench_packets(iterations):
    """nacho-bench (nacho's public SRTP/RTP/Media APIs, raw libsrtp) and bench_peer.py (aiortc's
    stack) on the same packets."""
    binary = os.environ.get("NACHO_BENCH_BIN")
    if not binary:
        sys.exit("bench_run: NACHO_BENCH_BIN not set (run Scripts/bench)")
    packets = os.path.join(SCRATCH, "packets.bin")
    lines = []
    for command in ([binary, iterations, "--packets-out", packets],
                    [PYTHON, os.path.join(ROOT, "Scripts/bench_peer.py"), iterations, "--packets", packets]):
        out = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            print("\n  !! %s failed:\n%s" % (command[0], out.stderr[-3000:]))
            return
        lines += [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    info = next((l for l in lines if l["side"] == "info"), None)
    figures = {}
    order = []
    for line in lines:
        if line["side"] == "info":
            continue
        key = (line["name"], line["unit"])
        if key not in figures:
            figures[key] = {}
            order.append(key)
        figures[key][line["side"]] = line["value"]
    results["packets"] = [{"name": k[0], "unit": k[1], **figures[k]} for k in order]
    rows = []
    for name, unit in order:
        f = figures[(name, unit)]
        nacho, raw, peer = f.get("nacho"), f.get("libsrtp"), f.get("aiortc")
        if unit == "packets/s":
            rows.append([name + " (packets/s)", nacho, raw, peer, ratio(raw, nacho), ratio(nacho, peer)])
        elif unit.startswith("CPU"):
            rows.append([name + " (" + unit + ")", nacho, raw, peer, None, ratio(peer, nacho)])
        else:
            rows.append([name + " (" + unit + ")", nacho, raw, peer, None, None])
    table("packets: per CPU second of one thread; packet paths on %d recorded packets (%s); micro-benchmarks %s iterations"
          % (info["value"], info["unit"].split(" for ")[1] if info else "?", iterations),
          ["", "nacho", "libsrtp raw", "aiortc", "nacho cost ÷ libsrtp", "aiortc cost ÷ nacho"], rows,
          notes=["receive path: unprotect, parse, route by SSRC, statistics, jitter buffer insert + pop, VP8 reassembly "
                 "(nacho: public SRTP/RTP/Media APIs; aiortc: its RTCRtpReceiver pieces, no asyncio, no bitrate estimator)",
                 "send path: packetize (nacho: VP8 descriptors), RTP packets with header extensions, serialize, protect",
                 "libsrtp raw: srtp_unprotect / srtp_protect called from Swift on one preallocated buffer (the floor)",
                 "nacho cost ÷ libsrtp: how many raw libsrtp calls one packet through nacho's path costs"])
