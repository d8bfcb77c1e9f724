"""Pre-encoded media for virtual members: ffmpeg encodes a loop and its RTP muxer packetizes it
(an independent packetizer: neither aiortc's nor nacho's); the packets are captured by a UDP
listener on 127.0.0.1 and kept in memory (and cached in a temp dir, keyed by the command).

Video frames are synthetic.draw_frame's pattern (the frame counter as a barcode on top, so the
order of recorded frames can be checked), piped to ffmpeg as raw I420. Audio is a 440 Hz tone.
A loop is replayed by a ReplaySource (forwarding.py) paced by its RTP timestamps."""

import dataclasses
import hashlib
import logging
import os
import pickle
import socket
import subprocess
import tempfile
import threading

from . import synthetic
from .rtp_util import keyframe_start

log = logging.getLogger("roomserver.replay")

CACHE_VERSION = 3
PAYLOAD_TYPES = {"vp8": 96, "vp9": 98, "opus": 111}
CLOCK = {"vp8": 90000, "vp9": 90000, "opus": 48000}


@dataclasses.dataclass
class LoopPacket:
    ts: int          # RTP timestamp relative to the loop's first packet
    marker: bool
    payload: bytes
    keyframe: bool   # first packet of a key frame (video), always True for audio


@dataclasses.dataclass
class Loop:
    codec: str       # vp8 | vp9 | opus
    clock_rate: int
    duration: int    # loop length in RTP ticks
    packets: list    # [LoopPacket]
    frames: int      # frames (video) or packets (audio) per loop
    keyframes: int


def _ffmpeg_command(codec, width, height, fps, seconds, port, content="pattern", bitrate="300k"):
    out = ["-f", "rtp", "-payload_type", str(PAYLOAD_TYPES[codec]),
           "udp://127.0.0.1:%d?localaddr=127.0.0.1&pkt_size=1200" % port]
    if codec == "opus":
        return ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
                "-i", "sine=frequency=440:sample_rate=48000:duration=%d" % seconds,
                "-af", "volume=0.3*8", "-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-application", "voip",
                "-frame_duration", "20"] + out
    encoder = {"vp8": ["-c:v", "libvpx", "-cpu-used", "16"], "vp9": ["-c:v", "libvpx-vp9", "-cpu-used", "8",
                                                                      "-row-mt", "0", "-strict", "experimental"]}[codec]
    gop = 2 * fps  # a key frame every 2 s: replay cannot make one when a consumer asks
    if content == "testsrc2":  # a busier picture (about the bitrate asked for), without the barcode
        source = ["-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=%d:duration=%d" % (width, height, fps, seconds)]
    else:
        source = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "%dx%d" % (width, height), "-r", str(fps), "-i", "pipe:0"]
    return ["ffmpeg", "-nostdin", "-v", "error"] + source + encoder + \
           ["-deadline", "realtime", "-lag-in-frames", "0", "-g", str(gop), "-keyint_min", str(gop), "-b:v", bitrate,
            "-threads", "1", "-auto-alt-ref", "0"] + out


def _capture(codec, width, height, fps, seconds, content, bitrate="300k"):
    """Runs ffmpeg into a UDP socket on 127.0.0.1; returns the RTP packets (RTCP dropped)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    command = _ffmpeg_command(codec, width, height, fps, seconds, sock.getsockname()[1], content, bitrate)
    piped = codec != "opus" and content == "pattern"
    process = subprocess.Popen(command, stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if piped:
        def feed():
            try:
                for n in range(seconds * fps):
                    process.stdin.write(synthetic.draw_frame(n, width, height).tobytes())
                process.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        threading.Thread(target=feed, daemon=True).start()
    packets = []
    try:
        while True:
            try:
                data = sock.recv(2048)
            except socket.timeout:
                if process.poll() is not None:
                    break
                continue
            if len(data) >= 12 and not 200 <= data[1] <= 206:
                packets.append(data)
    finally:
        sock.close()
    errors = process.stderr.read().decode(errors="replace")
    if process.wait() != 0:
        raise RuntimeError("ffmpeg failed for %s: %s" % (codec, errors[-2000:]))
    return packets


def _to_loop(codec, raw, fps):
    if not raw:
        raise RuntimeError("ffmpeg sent no %s packets" % codec)
    seqs = [int.from_bytes(p[2:4], "big") for p in raw]
    for a, b in zip(seqs, seqs[1:]):
        if (a + 1) & 0xFFFF != b:
            raise RuntimeError("%s capture lost packets (%d then %d)" % (codec, a, b))
    first_ts = int.from_bytes(raw[0][4:8], "big")
    packets = []
    for p in raw:
        cc = p[0] & 0x0F
        offset = 12 + 4 * cc
        if p[0] & 0x10:
            offset += 4 + 4 * int.from_bytes(p[offset + 2:offset + 4], "big")
        end = len(p) - (p[-1] if p[0] & 0x20 else 0)
        payload = p[offset:end]
        ts = (int.from_bytes(p[4:8], "big") - first_ts) & 0xFFFFFFFF
        packets.append(LoopPacket(ts=ts, marker=bool(p[1] & 0x80), payload=payload, keyframe=False))
    # key frames: the first packet of each frame whose bitstream says so
    previous_ts = None
    frames = keyframes = 0
    for packet in packets:
        if codec == "opus":
            packet.keyframe = True
            frames += 1
            continue
        if packet.ts != previous_ts:
            frames += 1
            packet.keyframe = keyframe_start(codec, packet.payload)
            keyframes += packet.keyframe
            previous_ts = packet.ts
    if codec == "opus":
        step = 960
        duration = packets[-1].ts + step
    else:
        duration = packets[-1].ts + 90000 // fps
    if codec != "opus" and not packets[0].keyframe:
        raise RuntimeError("%s loop does not start with a key frame" % codec)
    return Loop(codec=codec, clock_rate=CLOCK[codec], duration=duration, packets=packets, frames=frames, keyframes=keyframes)


_memory = {}


def load(codec, width=320, height=240, fps=15, seconds=30, content="pattern", bitrate="300k"):
    """The loop for these parameters: from memory, the temp-dir cache, or made now. Video content:
    `pattern` (synthetic.draw_frame, frame counter as a barcode) or `testsrc2` (ffmpeg's); `bitrate`
    is the encoder's target (-b:v)."""
    key = (codec, width, height, fps, seconds, content, bitrate)
    if key in _memory:
        return _memory[key]
    digest = hashlib.sha256(repr((CACHE_VERSION, _ffmpeg_command(codec, width, height, fps, seconds, 0, content, bitrate))).encode()).hexdigest()[:16]
    directory = os.path.join(tempfile.gettempdir(), "nacho-roomserver-replay")
    path = os.path.join(directory, "%s-%s.pickle" % (codec, digest))
    loop = None
    try:
        with open(path, "rb") as f:
            loop = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError):
        loop = None
    if loop is None:
        for attempt in range(3):
            try:
                loop = _to_loop(codec, _capture(codec, width, height, fps, seconds, content, bitrate), fps)
                break
            except RuntimeError as error:
                if attempt == 2:
                    raise
                log.warning("replay generation: %s; again", error)
        os.makedirs(directory, exist_ok=True)
        temporary = path + ".%d.tmp" % os.getpid()
        with open(temporary, "wb") as f:
            pickle.dump(loop, f)
        os.replace(temporary, path)
    _memory[key] = loop
    return loop
