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
