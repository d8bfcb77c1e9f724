"""Scripts/bench send (issue 17): one participant's send path next to its encoder alone, on the
same frames, in the same run.

The frames: a 640x480@30 Y4M clip (ffmpeg testsrc2, 5 s) and a 48 kHz mono WAV (440 Hz tone,
5 s), written once to the scratch directory and looped by both sides.
- encoder alone: `nacho-bench encode` (Benchmarks/Sources/NachoBench/EncoderAlone.swift) reads
  them with nacho's file sources at their own pace and encodes them with the encoders
  `nacho join` makes (VP8 CBR with its default threads and speed, Opus 32 kb/s mono);
  its figure is the CPU time inside the encode calls (each thread's own clock), per second. It
  runs after the send path, at the video bitrate the send path sent in its window (the send
  path's congestion controller, not the configuration, sets its encoder's bitrate).
- send path: `nacho join --video-source file:CLIP.y4m --audio-source file:TONE.wav` against a
  fresh test room server with nobody else in it (so nothing is received): the whole process's
  CPU (/proc, user + system) over the window: file source, encode, packetize, pacer, SRTP,
  sockets, RTCP, congestion control, timers, signaling, the idle receive transport.
The goal (issue 17): send path <= 1.3 x encoder alone.

Since the machine may be shared, the ratio is confirmed by `perf record` proportions on the
send path itself: the share of its CPU samples whose stack is inside libvpx or libopus (the
encoder) against all of its samples; that share does not depend on how busy the machine is.
BENCH_SEND_PERF=0 skips it (also skipped when perf is missing or not permitted)."""

import json
import os
import shutil
import signal
import subprocess
import time

import bench_common
from bench_common import SCRATCH, finish, machine_busy, measure_run, results, spawn
from bench_media import nacho_command
from bench_table import ratio, table

SEND = {"warmup": 5, "window": 20, "clip_seconds": 5, "perf_seconds": 10}


def make_clips():
    """The frames both sides send: a Y4M clip and a WAV tone, once per run."""
    if not shutil.which("ffmpeg"):
        raise RuntimeError("ffmpeg is needed to write the clip (apt-get install ffmpeg)")
    video = os.path.join(SCRATCH, "send-clip.y4m")
    audio = os.path.join(SCRATCH, "send-tone.wav")
    seconds = str(SEND["clip_seconds"])
    for command in (["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-t", seconds,
                     "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", video],
                    ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", seconds,
                     "-ac", "1", "-c:a", "pcm_s16le", audio]):
        out = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError("ffmpeg failed: " + out.stderr[-1000:])
    return video, audio


def encoder_alone(video, audio, video_bitrate):
    """nacho-bench encode over the same warm-up and window; its figures by (name, unit)."""
    binary = os.environ.get("NACHO_BENCH_BIN")
    if not binary:
        raise RuntimeError("NACHO_BENCH_BIN not set (run Scripts/bench)")
    c = SEND
    if bench_common.QUIET_WAIT > 0:
        bench_common.wait_for_quiet("send-encoder")
    busy = machine_busy()
    started = time.monotonic()
    process = spawn([binary, "encode", "--video", video, "--audio", audio, "--warmup", str(c["warmup"]), "--window", str(c["window"]),
                     "--video-bitrate", str(video_bitrate)],
                    "send-encoder", stdout="pipe")
    out, _ = process.communicate(timeout=c["warmup"] + c["window"] + 120)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError("nacho-bench encode failed:\n" + bench_common.tail("send-encoder"))
    figures = {}
    for line in out.decode().splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            figures[(item["name"], item["unit"])] = item["value"]
    figures["machine_pct"] = 100 * (machine_busy() - busy) / elapsed
    return figures


def perf_available():
    if os.environ.get("BENCH_SEND_PERF", "1") == "0" or not shutil.which("perf"):
        return False
    probe = subprocess.run(["perf", "record", "-q", "-o", os.devnull, "--", "true"], capture_output=True, stdin=subprocess.DEVNULL)
    return probe.returncode == 0


def encoder_share(data, binary):
    """From `perf script` of a recording: (samples, samples with libvpx or libopus anywhere in
    their stack, the other samples' top places: thread and the innermost function of nacho's own
    binary on their stack, else their leaf)."""
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym,dso"], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    samples = encoder = 0
    others = {}
    stack = []
    own = "(" + os.path.realpath(binary) + ")"

    def close():
        nonlocal samples, encoder
        if not stack:
            return
        samples += 1
        frames = stack[1:]
        if any("libvpx" in frame or "libopus" in frame for frame in frames):
            encoder += 1
            return
        place = next((frame for frame in frames if frame.endswith(own)), frames[0] if frames else "? ?")
        parts = place.split(None, 1)
        symbol = parts[1].rsplit(" (", 1)[0] if len(parts) > 1 else "?"
        key = (stack[0].strip(), symbol)
        others[key] = others.get(key, 0) + 1

    for line in out.stdout.splitlines():
        if not line.strip():
            close()
            stack = []
        elif not line.startswith((" ", "\t")):
            close()
            stack = [line]
        else:
            stack.append(line.strip())
    close()
    top = sorted(others.items(), key=lambda item: -item[1])[:10]
    names = [symbol for (_, symbol), _ in top]
    if shutil.which("swift") and names:
        demangled = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names), capture_output=True,
                                   text=True).stdout.splitlines()
        if len(demangled) == len(names):
            names = demangled
    return samples, encoder, [("%s: %s" % (thread, name[:100]), n) for ((thread, _), n), name in zip(top, names)]


def bench_send():
    c = SEND
    video, audio = make_clips()
    use_perf = perf_available()
    perf_data = os.path.join(SCRATCH, "send.perf")
    recording = {}

    def on_sample():
        # First sample: record the send path for perf_seconds; second: make sure it ended.
        if not use_perf:
            return
        if "process" not in recording:
            participant = next(p for p in bench_common.children if p.name == "send-nacho" and p.poll() is None)
            recording["process"] = spawn(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf", "-p", str(participant.pid),
                                          "-o", perf_data, "--", "sleep", str(c["perf_seconds"])], "send-perf")
        else:
            finish(recording["process"], signal.SIGINT, timeout=30)

    join = measure_run("send-nacho", nacho_command("join", "--audio-source", "file:" + audio, "--video-source", "file:" + video),
                       ["--virtual-members", "0"], c["warmup"], c["window"], on_sample=on_sample)
    perf = encoder_share(perf_data, bench_common.NACHO) if use_perf and os.path.exists(perf_data) else None
    bench_common.check(join, sends=True, receives=False)
    # The send path's congestion controller sets its encoder's bitrate (it starts at 300 kb/s
    # and climbs): the encoders alone encode at the video bitrate the send path sent in its
    # window, so both do the same work on the same frames.
    # No floor and no default: a made-up rate would compare the send path with other work.
    if not join["sent_video_kbps"]:
        raise RuntimeError("send: the send path sent no video in its window, so there is no bitrate to encode at alone")
    video_bitrate = int(round(join["sent_video_kbps"] * 1000))
    alone = encoder_alone(video, audio, video_bitrate)

    join_target = next((r.get("target_bitrate") for r in join["report"] if r.get("kind") == "video"), None)
    encode_pct = 100 * (alone[("encoder alone, video", "CPU s per s")] + alone[("encoder alone, audio", "CPU s per s")])
    source_pct = 100 * (alone[("source read, video", "CPU s per s")] + alone[("source read, audio", "CPU s per s")])
    perf_share = perf[1] / perf[0] if perf and perf[0] else None
    results["send"] = {"encoder": {"%s (%s)" % k: v for k, v in alone.items() if isinstance(k, tuple)}, "join": join,
                       "encoder_pct": encode_pct, "ratio": ratio(join["cpu_pct"], encode_pct),
                       "perf": {"samples": perf[0], "encoder_samples": perf[1], "top_other": perf[2]} if perf else None}
    rows = [
        ["CPU, % of one core", encode_pct, join["cpu_pct"], ratio(join["cpu_pct"], encode_pct)],
        ["  video encoder (VP8) alone", 100 * alone[("encoder alone, video", "CPU s per s")], None, None],
        ["  audio encoder (Opus) alone", 100 * alone[("encoder alone, audio", "CPU s per s")], None, None],
        ["  file sources' reads (not in the encoder figure)", source_pct, None, None],
        ["  nacho-bench process (sources + encoders)", 100 * alone[("process", "CPU s per s")], None, None],
        ["perf: encoder's share of the send path's samples", None, perf_share and 100 * perf_share,
         1 / perf_share if perf_share else None],
        ["video bitrate set, kb/s", video_bitrate / 1000, join_target and join_target / 1000, None],
        ["encoded / sent, video kb/s", alone[("encoded, video", "kb/s")], join["sent_video_kbps"], None],
        ["encoded / sent, audio kb/s", alone[("encoded, audio", "kb/s")], join["sent_audio_kbps"], None],
        ["video frames in the window", alone[("encoded, video", "frames")], None, None],
        ["sent, packets/s", None, join["sent_pps"], None],
        ["whole machine busy, % of one core", alone["machine_pct"], join["machine_pct"], None],
    ]
    table("send: one participant's send path vs its encoders alone, same frames (640x480@30 testsrc2 Y4M + 440 Hz WAV, "
          "looped); %d s window after %d s" % (c["window"], c["warmup"]),
          ["", "encoder alone", "send path", "send ÷ encoder"], rows,
          notes=["encoder alone: `nacho-bench encode`, CPU inside VP8Encoder.encode + OpusEncoder.encode (thread clocks), "
                 "encoders set up as `nacho join` does (VP8 CBR, its default threads and speed; Opus 32 kb/s mono), run after "
                 "the send path at the video bitrate the send path sent (its congestion controller starts at 300 kb/s and "
                 "climbs towards the configured 800; send path column: its target at the end)",
                 "send path: `nacho join --video-source file:CLIP.y4m --audio-source file:TONE.wav`, nobody else in the room; "
                 "the whole process (/proc), everything but the encoders counted as send path",
                 "perf: `perf record -F 499 --call-graph dwarf` on the send path for %d s; a sample is the encoder's when its "
                 "stack is in libvpx or libopus; send ÷ encoder = all samples ÷ the encoder's (independent of the machine's load)"
                 % c["perf_seconds"],
                 "goal (issue 17): send ÷ encoder <= 1.3"] + (
                     ["perf: where the rest of the send path's samples are (thread: nacho's innermost function, else the "
                      "leaf), share of all: " +
                      "; ".join("%s %.1f %%" % (key, 100 * n / perf[0]) for key, n in perf[2])] if perf and perf[0] else []) + [
                     "send path by thread name, %% of one core: %s" % ", ".join("%s %.1f" % (comm, pct) for pct, comm in join["threads"][:6])])
