"""Scripts/bench's driver: runs nacho (NACHO_BIN) and aiortc against fresh test room servers
(Tests/RoomServer) on 127.0.0.1, samples /proc and the server's /state, prints tables.

    bench_run.py [--json FILE] [machine] [participant] [receive] [alloc] [packets [ITERATIONS]] [bots]

No name runs all but bots (bots takes about 15 minutes; it runs only when named).

BENCH_QUIET_WAIT: seconds each run may wait for other processes to quiet down first (default
30, 0 = never wait). For bots: BENCH_BOTS_SIZES (participants per room, default "1 4 16"),
BENCH_ROOM_SECONDS (each step of the largest-room search, default 60), BENCH_ROOM_MAX (the
largest k tried, a room being k video + k audio publishers + 2k subscribers; default 64),
BENCH_ROOM_STEPS (at most that many steps, default 8).

Environment (Scripts/bench sets them): NACHO_BIN, NACHO_BENCH_BIN (nacho-bench, for packets),
NACHO_BENCH_SCRATCH (a scratch directory; child pids are listed in its `pids` file so the
shell's EXIT trap can end them even if this process is killed), MALLOC_COUNT_LIB (the
LD_PRELOAD allocation counter, for alloc).

Every figure is measured, nothing is asserted. See docs/BENCHMARKS.md for how to read them."""

import ctypes
import datetime
import glob
import json
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = os.environ.get("NACHO_BENCH_SCRATCH") or sys.exit("bench_run: NACHO_BENCH_SCRATCH not set (run Scripts/bench)")
NACHO = os.environ.get("NACHO_BIN") or sys.exit("bench_run: NACHO_BIN not set (run Scripts/bench)")
PYTHON = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count()
ROOM, MEMBER = "42", "7"
VIDEO = {"width": 640, "height": 480, "fps": 30, "bitrate": 800_000}
SERVER_MEDIA = ["--video-size", "%dx%d" % (VIDEO["width"], VIDEO["height"]), "--video-fps", str(VIDEO["fps"])]

children = []
results = {}


# --- processes ----------------------------------------------------------------------------

def spawn(command, name, env=None, cwd=None, stdout=None):
    """Starts a child with its stdout/stderr in the scratch directory (or stdout piped)."""
    err = open(os.path.join(SCRATCH, name + ".err"), "w")
    out = subprocess.PIPE if stdout == "pipe" else open(os.path.join(SCRATCH, name + ".out"), "w")
    process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                               env=dict(os.environ, **(env or {})))
    process.name = name
    children.append(process)
    with open(os.path.join(SCRATCH, "pids"), "a") as f:
        f.write("%d\n" % process.pid)
    return process


def finish(process, sig=signal.SIGTERM, timeout=10):
    """Asks a child to stop (sig), kills it after `timeout` s; returns its exit status."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def cleanup():
    for process in children:
        if process.poll() is None:
            process.kill()
            process.wait()


def tail(name, lines=15):
    try:
        with open(os.path.join(SCRATCH, name + ".err")) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class RoomServer:
    """A fresh test room server (Tests/RoomServer) on 127.0.0.1."""

    def __init__(self, name, arguments):
        self.name = name
        self.process = spawn([PYTHON, "-m", "roomserver"] + arguments, name, cwd=os.path.join(ROOT, "Tests/RoomServer"),
                             stdout="pipe")
        line = b""
        deadline = time.monotonic() + 60
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1)
            if ready:
                byte = os.read(self.process.stdout.fileno(), 1)
                if not byte:
                    break
                line += byte
        try:
            info = json.loads(line)
        except ValueError:
            finish(self.process)
            raise RuntimeError("room server did not start:\n" + tail(name))
        self.edge, self.origin, self.control = info["edge"], info["origin"], info["control"]
        for url in (self.edge, self.origin, self.control):
            assert "//127.0.0.1:" in url, url

    def state(self):
        with urllib.request.urlopen(self.control + "/state", timeout=20) as response:
            return json.load(response)

    def stop(self):
        finish(self.process)


# --- /proc ----------------------------------------------------------------------------------

def cpu_seconds(pid, tid=None):
    """user + system CPU seconds of a process (all its threads) or of one thread."""
    path = "/proc/%d/task/%d/stat" % (pid, tid) if tid else "/proc/%d/stat" % pid
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def thread_seconds(pid):
    out = {}
    for path in glob.glob("/proc/%d/task/*" % pid):
        tid = int(os.path.basename(path))
        try:
            with open(path + "/comm") as f:
                comm = f.read().strip()
            out[tid] = (comm, cpu_seconds(pid, tid))
        except OSError:
            pass
    return out


def machine_busy():
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


def udp_receive_drops():
    """Datagrams the kernel dropped for full socket receive buffers, machine-wide since boot
    (/proc/net/snmp Udp RcvbufErrors)."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Udp:")]
        return int(rows[1][rows[0].index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return 0


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def sample(participant, server):
    """One snapshot: CPU of the participant, the server (and its threads), the machine; the
    server's counters."""
    snapshot = {"t": time.monotonic(), "wall": time.time(), "busy": machine_busy(), "udp_drops": udp_receive_drops(), "participant": cpu_seconds(participant.pid),
                "server": cpu_seconds(server.process.pid), "threads": thread_seconds(server.process.pid),
                "participant_threads": thread_seconds(participant.pid)}
    snapshot["state"] = server.state()
    return snapshot


def counters(state):
    """The server's counters, summed: what the participant sent (its producers, as received
    by the server: RTP payload bytes, RTX included) and what it received (its consumers, as
    sent by the server's aiortc senders: RTP payload bytes, original packets)."""
    ours = {p["id"] for producers in state["producers"].values() for p in producers if not p["virtual"]}
    media = state["media"]
    out = {"sent_packets": 0, "sent_bytes": 0, "sent_video_bytes": 0, "sent_audio_bytes": 0, "decoded_at_server": 0,
           "received_packets": 0, "received_bytes": 0, "frames_from_server": 0}
    for pid, p in media["producers"].items():
        if pid in ours:
            out["sent_packets"] += p["packets"]
            out["sent_bytes"] += p["bytes"]
            out["sent_%s_bytes" % p["kind"]] += p["bytes"]
            if p["kind"] == "video":
                out["decoded_at_server"] += p["frames_decoded"]
    for c in media["consumers"].values():
        out["received_packets"] += c["packets_sent"]
        out["received_bytes"] += c["bytes_sent"]
        out["frames_from_server"] += c["frames_sent"]
    return out


QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "30"))


def wait_for_quiet(name, limit=QUIET_WAIT, threshold=15.0):
    """On a shared machine: waits (at most `limit` s) until other processes used less than
    `threshold` % of a core over 2 s, so a run does not start in the middle of someone's build."""
    deadline = time.monotonic() + limit
    told = False
    while True:
        before, start = machine_busy(), time.monotonic()
        time.sleep(2)
        load = 100 * (machine_busy() - before) / (time.monotonic() - start)
        if load < threshold:
            return
        if time.monotonic() >= deadline:
            print("  (%s: the machine is still busy, %.0f %% of a core; measuring anyway)" % (name, load))
            return
        if not told:
            print("  (%s: waiting up to %.0f s for other processes to quiet down: %.0f %% of a core)" % (name, limit, load))
            sys.stdout.flush()
            told = True


def wait_until_ready(name, participant, server, ready, timeout):
    """Polls the server's /state once a second until `ready(state)` (e.g. every consumer of a
    room created and resumed); returns the seconds it took, or None after `timeout` s."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if participant.poll() is not None:
            raise RuntimeError("%s exited early (%s):\n%s" % (name, participant.returncode, tail(name)))
        if ready(server.state()):
            return time.monotonic() - start
        time.sleep(1)
    return None


def measure_run(name, command_for, server_arguments, warmup, window, env=None, ready=None, ready_timeout=90,
                server_media=None):
    """Starts a fresh server and the participant (`command_for(server)`), samples at warmup
    and warmup + window seconds after the participant started, stops both. Returns the
    figures of the window. With `ready` (a test on the server's /state), the warm-up starts
    once it holds (or after `ready_timeout` s: then `ready_after` is None)."""
    if QUIET_WAIT > 0:
        wait_for_quiet(name)
    server = RoomServer(name + "-server", server_arguments + (SERVER_MEDIA if server_media is None else server_media))
    try:
        command = command_for(server)
        participant = spawn(command, name, env=env)
        ready_after = wait_until_ready(name, participant, server, ready, ready_timeout) if ready else 0.0
        time.sleep(warmup)
        if participant.poll() is not None:
            raise RuntimeError("%s exited early (%s):\n%s" % (name, participant.returncode, tail(name)))
        a = sample(participant, server)
        time.sleep(max(0, a["t"] + window - time.monotonic()))
        b = sample(participant, server)
        peak_rss = status_kb(participant.pid, "VmHWM")
        server_rss = status_kb(server.process.pid, "VmHWM")
        status = finish(participant, signal.SIGINT, timeout=30)
    finally:
        server.stop()
    seconds = b["t"] - a["t"]
    ca, cb = counters(a["state"]), counters(b["state"])
    delta = {k: cb[k] - ca[k] for k in ca}
    participant_cpu = b["participant"] - a["participant"]
    server_cpu = b["server"] - a["server"]
    busiest = max(((cpu - a["threads"].get(tid, (comm, 0))[1], comm) for tid, (comm, cpu) in b["threads"].items()),
                  default=(0, "?"))
    participant_busiest = max(((cpu - a["participant_threads"].get(tid, (comm, 0))[1], comm)
                               for tid, (comm, cpu) in b["participant_threads"].items()), default=(0, "?"))
    # The participant's CPU by thread name (threads of one name summed), most first.
    by_name = {}
    for tid, (comm, cpu) in b["participant_threads"].items():
        by_name[comm] = by_name.get(comm, 0) + cpu - a["participant_threads"].get(tid, (comm, 0))[1]
    threads = sorted(((100 * cpu / (b["t"] - a["t"]), comm) for comm, cpu in by_name.items()), reverse=True)
    with open(os.path.join(SCRATCH, name + ".out")) as f:
        report = [json.loads(line) for line in f if line.startswith("{")]
    return {
        "name": name, "command": " ".join(command), "exit": status, "window": seconds, "t0": a["t"], "t1": b["t"],
        "cpu": participant_cpu, "cpu_pct": 100 * participant_cpu / seconds, "cpu_total": b["participant"],
        "rss_mb": peak_rss / 1024, "server_cpu_pct": 100 * server_cpu / seconds, "server_rss_mb": server_rss / 1024,
        "server_busiest_thread": (busiest[1], 100 * busiest[0] / seconds), "threads": threads,
        "other_load_pct": 100 * max(0.0, (b["busy"] - a["busy"]) - participant_cpu - server_cpu) / seconds,
        "sent_kbps": delta["sent_bytes"] * 8 / seconds / 1000, "sent_video_kbps": delta["sent_video_bytes"] * 8 / seconds / 1000,
        "sent_audio_kbps": delta["sent_audio_bytes"] * 8 / seconds / 1000, "sent_pps": delta["sent_packets"] / seconds,
        "received_kbps": delta["received_bytes"] * 8 / seconds / 1000, "received_pps": delta["received_packets"] / seconds,
        "server_decoded_fps": delta["decoded_at_server"] / seconds, "server_sent_fps": delta["frames_from_server"] / seconds,
        "sent_packets": delta["sent_packets"], "received_packets": delta["received_packets"],
        "participant_busiest_thread": (participant_busiest[1], 100 * participant_busiest[0] / seconds),
        "machine_pct": 100 * (b["busy"] - a["busy"]) / seconds, "ready_after": ready_after,
        "udp_drops_per_s": (b["udp_drops"] - a["udp_drops"]) / seconds,
        "wall": (a["wall"], b["wall"]),
        "report": report,
    }


# --- output ---------------------------------------------------------------------------------

def table(title, header, rows, notes=(), text=False):
    print()
    print(title)
    cells = [header] + [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = re.compile(r"^[-+0-9.<= ]*$")
    for n, row in enumerate(cells):
        print(("  " + row[0].ljust(widths[0]) + "  " + "  ".join(
            c.ljust(w) if text or not (numeric.match(c) or n == 0) else c.rjust(w) for c, w in zip(row[1:], widths[1:]))).rstrip())
        if n == 0:
            print("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    for note in notes:
        print("  " + note)
    sys.stdout.flush()


def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 1e5:
        return "%.0f" % value
    if abs(value) >= 100:
        return "%.0f" % value
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.2f" % value


def ratio(a, b):
    return a / b if a is not None and b else None


# --- subcommands ----------------------------------------------------------------------------

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


def check(run, sends, receives):
    """A run that moved no media measures nothing: say so next to its figures."""
    problems = []
    if sends and run["sent_packets"] == 0:
        problems.append("sent nothing")
    if receives and run["received_packets"] == 0:
        problems.append("received nothing")
    if problems:
        print("\n  !! %s %s; its log ends:\n%s" % (run["name"], " and ".join(problems), tail(run["name"])))
    if run["other_load_pct"] > 50:
        print("  !! %s: other processes used %.0f %% of a core during the window (the machine has %d): "
              "its figures are less reliable; run again on a quiet machine" % (run["name"], run["other_load_pct"], CORES))
    return not problems


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


# --- bots (issue 10) -----------------------------------------------------------------------

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


def read_stats(path):
    lines = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return lines


def bots_outcome(lines):
    """What a `nacho bots` statistics file says: bots joined, packets its subscribers counted,
    the worst loss of any track, the end line's verdict and misses."""
    summaries = [l for l in lines if l.get("type") == "summary"]
    end = next((l for l in lines if l.get("type") == "end"), None)
    received = sum(t.get("packets", 0) for s in summaries for t in s.get("tracks", []) if t.get("direction") == "receive")
    losses = [t.get("loss") or 0 for s in summaries for t in s.get("tracks", [])]
    expectations = (end or {}).get("expectations", [])
    misses = [m for e in expectations for m in e.get("misses", [])]
    return {"bots": len(summaries), "joined": sum(1 for s in summaries if s.get("joined")), "received_packets": received,
            "worst_loss": max(losses) if losses else None, "passed": end.get("passed") if end else None,
            "misses": misses, "has_end": end is not None,
            "met": {e.get("expect"): bool(e.get("met")) for e in expectations},
            "missed_expectations": {e.get("expect"): len(e.get("misses") or e.get("missed") or [])
                                    for e in expectations if not e.get("met")}}


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


def stats_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def bots_window_delivered(run, lines):
    """nacho bots: packets/s its subscribers counted in the window (per track, the `track`
    lines that end inside it: packets over their intervals), % of the packets/s the server
    sent them in the same window. (The summaries' totals stop at the last whole interval, so
    they are short of the server's by up to a second.)"""
    start, end = run["wall"]
    packets, seconds = {}, {}
    for line in lines:
        if line.get("type") != "track" or line.get("direction") != "receive":
            continue
        try:
            t = stats_time(line["time"])
        except (KeyError, ValueError):
            continue
        if start < t <= end:
            key = (line.get("bot"), line.get("track"))
            packets[key] = packets.get(key, 0) + line.get("packets", 0)
            seconds[key] = seconds.get(key, 0) + (line.get("interval_s") or 0)
    rate = sum(packets[key] / seconds[key] for key in packets if seconds[key] > 0)
    return 100 * rate / run["received_pps"] if run["received_pps"] else None


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
        nacho = try_run("nacho %d" % n, "bots-nacho-%d" % n, build, [], c["settle"], c["window"], ready=ready,
                        ready_timeout=c["ready_timeout"], server_media=BOTS_SERVER_MEDIA)
        if nacho:
            lines = read_stats(stats)
            nacho["bots"] = bots_outcome(lines)
            nacho["delivered_pct"] = bots_window_delivered(nacho, lines)
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
                 "per-second `track` lines; aiortc: its receivers' counts, once a second with --ticks) ÷ packets/s the "
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
        run = try_run(label, name, build, [], c["settle"], c["window"], ready=room_ready(vp + ap, subs * (vp + ap)),
                      ready_timeout=c["ready_timeout"], server_media=BOTS_SERVER_MEDIA)
        if run:
            lines = read_stats(stats)
            run["bots"] = bots_outcome(lines)
            run["count"], run["subscribers"] = vp + ap + subs, subs
            run["delivered_pct"] = bots_window_delivered(run, lines) if subs else None
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
    outcome = bots_outcome(read_stats(stats))
    step.update(outcome)
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


def main(argv):
    json_out = None
    if "--json" in argv:
        index = argv.index("--json")
        json_out = argv[index + 1]
        del argv[index:index + 2]
    known = ["machine", "participant", "receive", "alloc", "packets", "bots"]
    # bots takes about 15 minutes: it runs only when named.
    selected = [a for a in argv if a in known] or [k for k in known if k != "bots"]
    iterations = next((a for a in argv if a.isdigit()), "200000")
    unknown = [a for a in argv if a not in known and not a.isdigit()]
    if unknown:
        sys.exit("bench: unknown benchmark %s (known: %s)" % (", ".join(unknown), ", ".join(known)))
    failed = []
    for name in known:
        if name in selected:
            try:
                globals()["bench_" + name](*([iterations] if name == "packets" else []))
            except RuntimeError as error:
                # One benchmark that could not run (a server that did not start, a participant
                # that left early) does not stop the others.
                print("\n  !! %s failed: %s" % (name, error))
                failed.append(name)
            finally:
                cleanup()
    if json_out:
        with open(json_out, "w") as f:
            json.dump(results, f, indent=1, default=str)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(130))
    try:
        main(sys.argv[1:])
    finally:
        cleanup()
