"""The peer's side of `Scripts/bench packets`: the work nacho-bench measures, done by aiortc's
stack (pylibsrtp over libsrtp2, aiortc.rtp, aiortc's receiver pieces and encoders, in Python),
one JSON object per line ({"name", "side": "aiortc", "value", "unit"}), names as nacho-bench's.

    bench_peer.py [ITERATIONS] [--packets FILE]

--packets: the packet set nacho-bench wrote (--packets-out), so both sides run the same packets.
Rates are packets per second of this process's CPU time (figures per core)."""

import fractions
import json
import sys
import time

from aiortc import clock
from aiortc.codecs import depayload
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpparameters import (RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters,
                                     RTCRtpParameters)
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from pylibsrtp import Policy, Session

arguments = sys.argv[1:]
packets_file = None
if "--packets" in arguments:
    index = arguments.index("--packets")
    packets_file = arguments[index + 1]
    del arguments[index:index + 2]
iterations = int(arguments[0]) if arguments else 200_000


def emit(name, value, unit):
    print(json.dumps({"name": name, "side": "aiortc", "value": value, "unit": unit}), flush=True)


def packets_per_cpu_second(packets_per_pass, body, minimum=0.6):
    """One warm-up pass, then passes until `minimum` CPU seconds and 3 passes went by."""
    body()
    start = time.process_time()
    passes = 0
    while passes < 3 or time.process_time() - start < minimum:
        body()
        passes += 1
    return passes * packets_per_pass / (time.process_time() - start)


PROFILES = {"SRTP_AEAD_AES_256_GCM": Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
            "SRTP_AEAD_AES_128_GCM": Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
            "SRTP_AES128_CM_SHA1_80": Policy.SRTP_PROFILE_AES128_CM_SHA1_80}

# --- Packet paths on nacho-bench's recorded stream ----------------------------------------

if packets_file:
    with open(packets_file, "rb") as f:
        header = json.loads(f.readline())
        blob = f.read()
    kinds, plain, protected = [], [], []
    offset = 0
    for _ in range(header["count"]):
        kind = blob[offset]
        plain_length = int.from_bytes(blob[offset + 1:offset + 3], "big")
        protected_length = int.from_bytes(blob[offset + 3:offset + 5], "big")
        offset += 5
        kinds.append(kind)
        plain.append(blob[offset:offset + plain_length])
        offset += plain_length
        protected.append(blob[offset:offset + protected_length])
        offset += protected_length
    count = len(protected)
    key = bytes.fromhex(header["key"]) + bytes.fromhex(header["salt"])
    profile = PROFILES[header["profile"]]

    def inbound():
        return Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))

    def unprotect_pass():
        session = inbound()
        for wire in protected:
            session.unprotect(wire)

    emit("SRTP unprotect", packets_per_cpu_second(count, unprotect_pass), "packets/s")

    # What RTCDtlsTransport and RTCRtpReceiver do per packet, without asyncio and the
    # receive-side bitrate estimator: unprotect, parse (header extensions), route by SSRC,
    # statistics, NACK generator (video), VP8 depayload, jitter buffer (frame assembly).
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=4, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
        RTCRtpHeaderExtensionParameters(id=10, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level")]))
    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=101)
    opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=100)
    first_video = RtpPacket.parse(plain[kinds.index(1)])
    first_audio = RtpPacket.parse(plain[kinds.index(0)])

    def receive_pass():
        session = inbound()
        streams = {
            first_video.ssrc: {"codec": vp8, "stats": StreamStatistics(90000), "nack": NackGenerator(),
                               "jitter": JitterBuffer(capacity=512, is_video=True)},
            first_audio.ssrc: {"codec": opus, "stats": StreamStatistics(48000), "nack": None,
                               "jitter": JitterBuffer(capacity=16, prefetch=4)},
        }
        frames = 0
        for wire in protected:
            packet = RtpPacket.parse(session.unprotect(wire), extensions)
            stream = streams.get(packet.ssrc)
            if stream is None:
                continue
            stream["stats"].add(packet)
            if stream["nack"] is not None:
                stream["nack"].add(packet)
            packet._data = depayload(stream["codec"], packet.payload) if packet.payload else b""
            _, frame = stream["jitter"].add(packet)
            if frame is not None:
                frames += 1

    emit("receive path", packets_per_cpu_second(count, receive_pass), "packets/s")

    # RTCRtpSender per packet: RtpPacket with header extensions, serialize, protect (the
    # payloads as nacho-bench packetized them; aiortc's own VP8 packetizer runs in encode()).
    parsed = [RtpPacket.parse(p, extensions) for p in plain]
    outbound = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
    state = {"seq": 0}

    def send_pass():
        for original in parsed:
            state["seq"] = (state["seq"] + 1) & 0xFFFF
            packet = RtpPacket(payload_type=original.payload_type, sequence_number=state["seq"], timestamp=original.timestamp,
                               ssrc=original.ssrc, payload=original.payload, marker=original.marker)
            packet.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
            packet.extensions.mid = "1"
            outbound.protect(packet.serialize(extensions))

    emit("send path", packets_per_cpu_second(count, send_pass), "packets/s")

# --- SRTP and RTP on one 1.1 kB packet -------------------------------------------------------

payload = bytes((i * 31) & 0xFF for i in range(1100))


def measure(label, count, body):
    for _ in range(min(count // 10, 10_000)):
        body()
    start = time.process_time()
    for _ in range(count):
        body()
    emit(label, count / (time.process_time() - start), "packets/s")


packet = RtpPacket(payload_type=101, sequence_number=1, timestamp=90000, ssrc=0x12345678, payload=payload, marker=1)
wire = packet.serialize()
for name, profile in PROFILES.items():
    key_length = 32 if "256" in name else 16
    salt_length = 14 if "CM" in name else 12
    key = bytes([7] * key_length + [9] * salt_length)
    tx = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
    rx = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
    state = {"seq": 0}

    def step():
        state["seq"] = (state["seq"] + 1) & 0xFFFF
        data = wire[:2] + state["seq"].to_bytes(2, "big") + wire[4:]
        rx.unprotect(tx.protect(data))

    measure("SRTP protect+unprotect %s 1.1 kB" % name.replace("SRTP_", ""), iterations, step)

measure("RTP parse 1.1 kB", iterations, lambda: RtpPacket.parse(wire))
measure("RTP serialize 1.1 kB", iterations, lambda: packet.serialize())


# --- Send: aiortc's own encoders (libvpx and libopus through PyAV), its packetization, pylibsrtp.
import numpy as np
from aiortc.codecs import get_encoder
from av import AudioFrame, VideoFrame

seconds, width, height, fps = 10, 640, 480, 30
frames = []
for n in range(fps):
    y = ((np.arange(width)[None, :] + np.arange(height)[:, None] // 2 + n * 4) % 256).astype(np.uint8)
    planes = np.concatenate([y.reshape(-1), np.full(width * height // 2, 128, np.uint8)]).reshape(height * 3 // 2, width)
    frame = VideoFrame.from_ndarray(planes, format="yuv420p")
    frame.time_base = fractions.Fraction(1, 90000)
    frames.append(frame)
vp8 = get_encoder(RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000))
vp8.target_bitrate = 800_000
opus = get_encoder(RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2))
tone = (10000 * np.sin(2 * np.pi * 440 * np.arange(960) / 48000)).astype(np.int16)
key = bytes([1] * 16 + [2] * 12)
tx = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_128_GCM))
sent = 0
seq = 0
start = time.process_time()
for n in range(seconds * fps):
    frame = frames[n % fps]
    frame.pts = n * 3000
    payloads, timestamp = vp8.encode(frame)
    for i, payload in enumerate(payloads):
        seq = (seq + 1) & 0xFFFF
        packet = RtpPacket(payload_type=101, sequence_number=seq, timestamp=timestamp, ssrc=1, payload=payload,
                           marker=int(i == len(payloads) - 1))
        sent += len(tx.protect(packet.serialize()))
for n in range(seconds * 50):
    frame = AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = 48000
    frame.pts = n * 960
    frame.time_base = fractions.Fraction(1, 48000)
    payloads, timestamp = opus.encode(frame)
    for payload in payloads:
        seq = (seq + 1) & 0xFFFF
        sent += len(tx.protect(RtpPacket(payload_type=100, sequence_number=seq, timestamp=timestamp, ssrc=2, payload=payload).serialize()))
used = time.process_time() - start
name = "encode + send 640x480@30 VP8 + Opus"
emit(name, used / seconds, "CPU s per s of media")
emit(name, sent * 8 / seconds / 1000, "kb/s sent")
