"""A simulcast publisher for tests: `python -m roomserver.simulcast_client --origin URL ...`.

Joins a room as a producer over Socket.IO (PROTOCOL.md's origin sequence), connects an ICE
(controlling, 127.0.0.1 only) + DTLS transport with aiortc's ORTC objects, and produces VP8 the
way a browser's simulcast does without rids: 3 encodings with an SSRC and an RTX SSRC each, at
1/4, 1/2 and full size (scaleResolutionDownBy 4/2/1), plus Opus. The media are pre-encoded loops
(replay.py: ffmpeg's encoder and RTP packetizer) played out in real time. Prints one JSON line
when producing, and one with what it sent when done."""

import argparse
import asyncio
import json
import random
import struct
import sys
import time

import aioice
import socketio
from aiortc import (RTCCertificate, RTCDtlsFingerprint, RTCDtlsParameters, RTCDtlsTransport, RTCIceCandidate,
                    RTCIceGatherer, RTCIceParameters, RTCIceTransport)

from . import replay


class LoopbackConnection(aioice.Connection):
    async def gather_candidates(self):
        if not self._local_candidates_start:
            self._local_candidates_start = True
            for component in self._components:
                self._local_candidates += await self.get_component_candidates(component=component, addresses=["127.0.0.1"])
            self._local_candidates_end = True


async def request(sio, event, data):
    answer = await sio.call(event, data, timeout=10)
    if isinstance(answer, dict) and "error" in answer:
        raise RuntimeError("%s: %s" % (event, answer["error"]))
    return answer


async def connect_transport(sio, answer, dtls_class=RTCDtlsTransport):
    """Connects to a transport the server created (`answer`) the way a client does: ICE on
    loopback only, connectTransport with our fingerprint, ICE and DTLS as the client role.
    Returns (ice, dtls)."""
    gatherer = RTCIceGatherer()
    gatherer._connection = LoopbackConnection(ice_controlling=True)
    ice = RTCIceTransport(gatherer)
    dtls = dtls_class(ice, [RTCCertificate.generateCertificate()])
    await gatherer.gather()
    for c in answer["iceCandidates"]:
        if c["protocol"] == "udp":
            await ice.addRemoteCandidate(RTCIceCandidate(component=1, foundation=c["foundation"], ip=c["ip"], port=c["port"],
                                                         priority=c["priority"], protocol="udp", type="host"))
    await ice.addRemoteCandidate(None)
    local = dtls.getLocalParameters()
    await request(sio, "connectTransport", {"transport_id": answer["id"], "dtlsParameters": {
        "role": "client", "fingerprints": [{"algorithm": f.algorithm, "value": f.value} for f in local.fingerprints]}})
    params = answer["iceParameters"]
    await ice.start(RTCIceParameters(usernameFragment=params["usernameFragment"], password=params["password"], iceLite=True))
    dtls._set_role("client")
    await dtls.start(RTCDtlsParameters(fingerprints=[RTCDtlsFingerprint(algorithm=f["algorithm"], value=f["value"])
                                                     for f in answer["dtlsParameters"]["fingerprints"]]))
    if dtls.state != "connected":
        raise RuntimeError("DTLS %s" % dtls.state)
    return ice, dtls


async def run(options):
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(options.origin, transports=["websocket"])
    await request(sio, "createRoom", {"room_id": options.room})
    await request(sio, "join", {"room_id": options.room, "member_no": options.member, "type": "producer"})
    caps = await request(sio, "getRouterRtpCapabilities", {})
    answer = await request(sio, "createWebRtcTransport", {"forceTcp": False})

    ice, dtls = await connect_transport(sio, answer)

    vp8 = next(c for c in caps["codecs"] if c["mimeType"].lower() == "video/vp8")
    rtx = next(c for c in caps["codecs"] if c["mimeType"].lower() == "video/rtx" and c["parameters"].get("apt") == vp8["preferredPayloadType"])
    opus = next(c for c in caps["codecs"] if c["mimeType"].lower() == "audio/opus")
    width, height = options.width, options.height
    bitrates = options.layer_bitrates.split(",")
    if len(bitrates) != 3:
        raise SystemExit("--layer-bitrates: three bitrates, lowest layer first")
    layers = []
    for index, scale in enumerate((4, 2, 1)):
        ssrc = random.randint(1, 2**32 - 1)
        layers.append({"ssrc": ssrc, "rtx": ssrc ^ 0x5A5A, "scale": scale, "seq": random.randint(0, 0xFFFF),
                       "loop": replay.load("vp8", width // scale, height // scale, options.fps, options.seconds,
                                           content=options.content, bitrate=bitrates[index]),
                       "packets": 0, "frames": 0})
    video_params = {
        "mid": "1",
        "codecs": [{"mimeType": "video/VP8", "payloadType": vp8["preferredPayloadType"], "clockRate": 90000, "parameters": {},
                    "rtcpFeedback": [{"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"}]},
                   {"mimeType": "video/rtx", "payloadType": rtx["preferredPayloadType"], "clockRate": 90000,
                    "parameters": {"apt": vp8["preferredPayloadType"]}, "rtcpFeedback": []}],
        "headerExtensions": [{"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1, "encrypt": False, "parameters": {}}],
        "encodings": [{"ssrc": l["ssrc"], "rtx": {"ssrc": l["rtx"]}, "scaleResolutionDownBy": l["scale"]} for l in layers],
        "rtcp": {"cname": "simulcast-client", "reducedSize": True},
    }
    audio_ssrc = random.randint(1, 2**32 - 1)
    audio = {"ssrc": audio_ssrc, "seq": random.randint(0, 0xFFFF), "loop": replay.load("opus", seconds=options.seconds),
             "packets": 0, "frames": 0}
    audio_params = {
        "mid": "0",
        "codecs": [{"mimeType": "audio/opus", "payloadType": opus["preferredPayloadType"], "clockRate": 48000, "channels": 2,
                    "parameters": {}, "rtcpFeedback": []}],
        "headerExtensions": [{"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1, "encrypt": False, "parameters": {}}],
        "encodings": [{"ssrc": audio_ssrc}],
        "rtcp": {"cname": "simulcast-client", "reducedSize": True},
    }
    produced = {}
    if not options.no_audio:
        produced["audio"] = (await request(sio, "produce", {"producerTransportId": answer["id"], "kind": "audio",
                                                            "rtpParameters": audio_params}))["producer_id"]
    produced["video"] = (await request(sio, "produce", {"producerTransportId": answer["id"], "kind": "video",
                                                        "rtpParameters": video_params}))["producer_id"]
    print(json.dumps({"producing": produced, "layers": [l["ssrc"] for l in layers]}), flush=True)

    async def play(streams, payload_type, clock_rate):
        base_ts = random.randint(0, 0xFFFFFFFF)
        start = time.monotonic()
        for stream in streams:
            # what a sender report maps: RTP time now (every stream of the group shares it)
            stream["rtp_now"] = lambda: (base_ts + int((time.monotonic() - start) * clock_rate)) & 0xFFFFFFFF
        deadline = start + options.duration
        # every stream of the group shares the loop timing (same fps): one frame each per step
        indices = [0] * len(streams)
        offsets = [0] * len(streams)
        while time.monotonic() < deadline:
            due = min(offsets[i] + s["loop"].packets[indices[i]].ts for i, s in enumerate(streams))
            wait = start + due / clock_rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            for i, stream in enumerate(streams):
                packets = stream["loop"].packets
                if offsets[i] + packets[indices[i]].ts != due:
                    continue
                ts = packets[indices[i]].ts
                while indices[i] < len(packets) and packets[indices[i]].ts == ts:
                    p = packets[indices[i]]
                    header = struct.pack("!BBHII", 0x80, (0x80 if p.marker else 0) | payload_type, stream["seq"],
                                         (base_ts + offsets[i] + p.ts) & 0xFFFFFFFF, stream["ssrc"])
                    stream["seq"] = (stream["seq"] + 1) & 0xFFFF
                    await dtls._send_rtp(header + p.payload)
                    stream["packets"] += 1
                    stream["frames"] += p.marker or payload_type == opus["preferredPayloadType"]
                    indices[i] += 1
                if indices[i] == len(packets):
                    indices[i] = 0
                    offsets[i] += stream["loop"].duration

    async def sender_reports():
        while True:
            await asyncio.sleep(1)
            now = time.time() + 2208988800
            ntp = (int(now) << 32) | int((now % 1) * (1 << 32))
            for stream in layers + [audio]:
                if "rtp_now" in stream:
                    await dtls._send_rtp(struct.pack("!BBHIQIII", 0x80, 200, 6, stream["ssrc"], ntp, stream["rtp_now"](),
                                                     stream["packets"], 0))

    reports = asyncio.ensure_future(sender_reports())
    tasks = [play(layers, vp8["preferredPayloadType"], 90000)]
    if not options.no_audio:
        tasks.append(play([audio], opus["preferredPayloadType"], 48000))
    await asyncio.gather(*tasks)
    reports.cancel()
    print(json.dumps({"sent": [{"ssrc": l["ssrc"], "packets": l["packets"], "frames": l["frames"],
                                "width": width // l["scale"], "height": height // l["scale"]} for l in layers],
                      "audio_packets": audio["packets"]}), flush=True)
    for kind, producer_id in produced.items():
        await sio.emit("producerClosed", {"producer_id": producer_id})
    await sio.call("exitRoom", {}, timeout=5)
    await sio.disconnect()
    await dtls.stop()
    await ice.stop()


def main():
    p = argparse.ArgumentParser(prog="simulcast_client", description=__doc__)
    p.add_argument("--origin", required=True)
    p.add_argument("--room", default="42")
    p.add_argument("--member", default="1")
    p.add_argument("--duration", type=float, default=15)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--seconds", type=int, default=30, help="loop length")
    p.add_argument("--no-audio", action="store_true")
    p.add_argument("--content", default="pattern", choices=["pattern", "testsrc2"],
                   help="the layers' picture: the barcoded pattern (a few tens of kbit/s), or ffmpeg's busier "
                        "testsrc2 (close to the bitrates asked)")
    p.add_argument("--layer-bitrates", default="300k,300k,300k", help="each layer's encoder target, lowest first (ffmpeg -b:v)")
    options = p.parse_args()
    asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
