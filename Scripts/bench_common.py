"""Scripts/bench's shared machinery: the environment Scripts/bench sets, the children it
starts (and ends however the run ends), fresh test room servers (Tests/RoomServer) on 127.0.0.1,
/proc and /state sampling, and `measure_run`, which samples one participant over a window."""

import glob
import json
import os
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


def first_line(process, deadline):
    """The first line a child prints on its stdout pipe (its address), read byte by byte so
    nothing after it is buffered away from later readers; what came by the deadline."""
    line = b""
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready:
            byte = os.read(process.stdout.fileno(), 1)
            if not byte:
                break
            line += byte
    return line


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
        line = first_line(self.process, time.monotonic() + 60)
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
                server_media=None, on_sample=None):
    """Starts a fresh server and the participant (`command_for(server)`), samples at warmup
    and warmup + window seconds after the participant started, stops both. Returns the
    figures of the window. `on_sample()`, if given, is called right after each of the two
    samples, for figures read from the participant's own output. With `ready` (a test on the server's /state), the warm-up starts
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
        if on_sample:
            on_sample()
        time.sleep(max(0, a["t"] + window - time.monotonic()))
        b = sample(participant, server)
        if on_sample:
            on_sample()
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
