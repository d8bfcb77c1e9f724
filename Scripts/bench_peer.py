"""The peer's side of Scripts/bench: the same SRTP and RTP work with aiortc's stack
(pylibsrtp over libsrtp2, aiortc.rtp in Python)."""

import sys
import time

from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
payload = bytes((i * 31) & 0xFF for i in range(1100))


def measure(label, count, size, body):
    for _ in range(min(count // 10, 10_000)):
        body()
    start = time.perf_counter()
    for _ in range(count):
        body()
    rate = count / (time.perf_counter() - start)
    print("aiortc  %-44s %12.0f packets/s %10.1f MB/s" % (label, rate, rate * size / 1e6))


packet = RtpPacket(payload_type=101, sequence_number=1, timestamp=90000, ssrc=0x12345678, payload=payload, marker=1)
wire = packet.serialize()
profiles = [("SRTP_AEAD_AES_256_GCM", Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 32, 12),
            ("SRTP_AEAD_AES_128_GCM", Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 16, 12),
            ("SRTP_AES128_CM_SHA1_80", Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 16, 14)]
for name, profile, key_length, salt_length in profiles:
    key = bytes([7] * key_length + [9] * salt_length)
    tx = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
    rx = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
    state = {"seq": 0}

    def step():
        state["seq"] = (state["seq"] + 1) & 0xFFFF
        data = wire[:2] + state["seq"].to_bytes(2, "big") + wire[4:]
        rx.unprotect(tx.protect(data))

    measure("SRTP protect+unprotect %s 1.1 kB" % name, iterations, len(wire), step)

measure("RTP parse 1.1 kB", iterations, len(wire), lambda: RtpPacket.parse(wire))
measure("RTP serialize 1.1 kB", iterations, len(wire), lambda: packet.serialize())


# Send path: aiortc's own encoders (libvpx and libopus through PyAV), its packetization, pylibsrtp.
import fractions

import numpy as np
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
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
print("aiortc  send 640x480@30 VP8 800 kb/s + Opus 32 kb/s      %6.3f CPU s per s of media   (%d kB sent for %d s)"
      % (used / seconds, sent // 1000, seconds))
