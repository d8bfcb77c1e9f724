"""An aiortc participant for Scripts/bench: the room sequence nacho runs, on python-socketio and
aiortc's ORTC objects (RTCIceGatherer, RTCIceTransport, RTCDtlsTransport, RTCRtpSender,
RTCRtpReceiver), the way the test room server's media half (Tests/RoomServer) uses them.

Edge (receive): createRoom, join (consumer), getRouterRtpCapabilities, createWebRtcTransport,
connectTransport, getProducers, then consume + resume every announced producer and read its
frames from the receiver's track. aiortc decodes every received frame (libvpx, libopus through
PyAV) in a thread per receiver: that is what an aiortc participant does. --no-decode swaps
the decoder for one that drops the frame, to see aiortc's packet path alone.

Origin (send, unless --no-send): join (producer), createWebRtcTransport, connectTransport,
produce audio and video from aiortc tracks (VideoStreamTrack / AudioStreamTrack pacing) that
draw a moving pattern like nacho's synthetic source and a 440 Hz tone; aiortc encodes them
(VP8 via PyAV's libvpx, target from --video-bitrate and at most that, as nacho's
video.bitrate; Opus 96 kb/s stereo as aiortc always does).

--count N runs N such participants on one asyncio loop in this one process (members
--member, --member + 1, ...; they share one DTLS certificate, as nacho bots' do), joining one
after the other. --receive-own makes each participant's edge join as member + 100000, so the
server (which hides a member's own producers from it) hands it its own audio and video too:
every participant then receives every producer of the room, as a `nacho bots` subscriber (a
member of its own) does.

ICE gathers on 127.0.0.1 only (no STUN server, no other interface) and every datagram goes to
127.0.0.1. At the end one JSON object per line per stream, like `nacho join --json` (with
`member`: the participant's member number). --ticks adds a line every second while it runs:
{"tick": UNIX TIME, "received_packets": N}, the RTP packets all its receivers counted so far.

    bench_participant.py --edge URL --origin URL [--room 42] [--member 8] [--duration S]
                         [--count N] [--receive-own] [--ticks]
                         [--no-send] [--no-decode] [--video-size 640x480] [--video-fps 30]
                         [--video-bitrate 800000]
"""

import argparse
import asyncio
import fractions
import json
import math
import random
import signal
import sys
import time
import uuid

import aioice
import numpy as np
import socketio
from aiortc import (RTCCertificate, RTCDtlsFingerprint, RTCDtlsParameters, RTCDtlsTransport, RTCIceCandidate,
                    RTCIceGatherer, RTCIceParameters, RTCIceTransport, RTCRtpReceiver, RTCRtpSender)
from aiortc.codecs import vpx
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtcrtpparameters import (RTCRtcpParameters, RTCRtpCodecParameters, RTCRtpDecodingParameters,
                                     RTCRtpEncodingParameters, RTCRtpHeaderExtensionParameters,
                                     RTCRtpReceiveParameters, RTCRtpRtxParameters, RTCRtpSendParameters)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from av import AudioFrame, VideoFrame

# Header extensions aiortc reads and writes (aiortc.rtp.HeaderExtensionsMap).
AIORTC_EXTENSIONS = {
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
}
AIORTC_FEEDBACK = {("nack", ""), ("nack", "pli"), ("ccm", "fir"), ("goog-remb", "")}


class LoopbackConnection(aioice.Connection):
    """aioice, host candidates on 127.0.0.1 only (by default it skips loopback and uses every
    other interface), as Tests/RoomServer/roomserver/lite_ice.py does for the server."""

    async def gather_candidates(self):
        if not self._local_candidates_start:
            self._local_candidates_start = True
            for component in self._components:
                self._local_candidates += await self.get_component_candidates(component=component, addresses=["127.0.0.1"])
            self._local_candidates_end = True


class PatternTrack(VideoStreamTrack):
    """aiortc's VideoStreamTrack pacing, with a picture like nacho's synthetic source: a
    diagonal gradient moving 4 pixels a frame, a slow chroma cycle, a 24-bit frame counter."""

    def __init__(self, width, height, fps):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        rows, columns = np.indices((height, width))
        self.base = (columns + rows // 2).astype(np.int32)
        self.counter = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.counter / self.fps - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        n = self.counter
        self.counter += 1
        luma = (((self.base + n * 4) & 0xFF) // 2 + 40).astype(np.uint8)
        block = max(self.width // 24, 4)
        for bit in range(24):
            luma[:block, bit * block:(bit + 1) * block] = 235 if (n >> (23 - bit)) & 1 else 16
        quarter = (self.height // 2) * (self.width // 2)
        u = np.full(quarter, 128 + int(60 * math.sin(n / 30)), np.uint8)
        v = np.full(quarter, 128 + int(60 * math.cos(n / 30)), np.uint8)
        planes = np.concatenate([luma.reshape(-1), u, v]).reshape(self.height * 3 // 2, self.width)
        frame = VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = int(n * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


class ToneTrack(AudioStreamTrack):
    """A 440 Hz tone at -10 dBFS, 20 ms mono frames at 48 kHz, paced like aiortc's AudioStreamTrack."""

    def __init__(self):
        super().__init__()
        self.samples = 0
        self.start = None

    async def recv(self):
        rate, count = 48000, 960
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.samples / rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(count) + self.samples) / rate
        samples = (np.sin(2 * math.pi * 440 * t) * 0.316 * 32767).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, rate)
        self.samples += count
        return frame


class NullDecoder:
    def decode(self, encoded_frame):
        return []


class Transport:
    """One WebRtcTransport from the client's side: ICE (controlling, towards an ICE-lite
    server), DTLS client."""

    def __init__(self, certificate):
        self.gatherer = RTCIceGatherer(iceServers=[])
        self.gatherer._connection = LoopbackConnection(ice_controlling=True)
        self.ice = RTCIceTransport(self.gatherer)
        self.dtls = RTCDtlsTransport(self.ice, [certificate])
        self.dtls._set_role("client")
        self.certificate = certificate

    async def connect(self, sio, answer):
        await self.gatherer.gather()
        for c in answer["iceCandidates"]:
            if c.get("protocol", "udp") != "udp" or c.get("ip", c.get("address")) != "127.0.0.1":
                continue
            await self.ice.addRemoteCandidate(RTCIceCandidate(
                component=1, foundation=c["foundation"], ip="127.0.0.1", port=c["port"], priority=c["priority"],
                protocol="udp", type=c.get("type", "host")))
        await self.ice.addRemoteCandidate(None)
        local = [{"algorithm": f.algorithm, "value": f.value} for f in self.certificate.getFingerprints()
                 if f.algorithm == "sha-256"]
        await request(sio, "connectTransport", {"transport_id": answer["id"],
                                                "dtlsParameters": {"role": "client", "fingerprints": local}})
        params = answer["iceParameters"]
        await self.ice.start(RTCIceParameters(usernameFragment=params["usernameFragment"], password=params["password"],
                                              iceLite=params.get("iceLite", True)))
        if self.ice.state != "completed":
            raise RuntimeError("ICE failed")
        remote = [RTCDtlsFingerprint(algorithm=f["algorithm"], value=f["value"])
                  for f in answer["dtlsParameters"]["fingerprints"] if f["algorithm"] == "sha-256"]
        await self.dtls.start(RTCDtlsParameters(fingerprints=remote, role="server"))
        if self.dtls.state != "connected":
            raise RuntimeError("DTLS failed")

    async def close(self):
        try:
            await self.dtls.stop()
            await self.ice.stop()
        except Exception:
            pass


async def request(sio, event, data, timeout=10):
    answer = await sio.call(event, data, timeout=timeout)
    if isinstance(answer, dict) and "error" in answer:
        raise RuntimeError("%s refused: %s" % (event, answer["error"]))
    return answer


def codec_parameters(codec):
    return RTCRtpCodecParameters(mimeType=codec["mimeType"], clockRate=codec["clockRate"], channels=codec.get("channels"),
                                 payloadType=codec["payloadType"], parameters=dict(codec.get("parameters", {})),
                                 rtcpFeedback=[])


def device_capabilities(router):
    """What an aiortc client can take of the router's capabilities: Opus, VP8 + RTX, the
    feedback and header extensions aiortc implements."""
    codecs = []
    for c in router["codecs"]:
        if c["mimeType"].lower() not in ("audio/opus", "video/vp8", "video/rtx"):
            continue
        codec = dict(c)
        codec["rtcpFeedback"] = [fb for fb in c.get("rtcpFeedback", [])
                                 if (fb["type"], fb.get("parameter", "")) in AIORTC_FEEDBACK]
        codecs.append(codec)
    extensions = [e for e in router["headerExtensions"] if e["uri"] in AIORTC_EXTENSIONS]
    return {"codecs": codecs, "headerExtensions": extensions}


class Participant:
    def __init__(self, options, member, edge_member, certificate):
        self.options = options
        self.member, self.edge_member = member, edge_member
        self.certificate = certificate
        self.receivers = {}   # consumer id -> {"kind", "receiver", "frames", "packets", "bytes", "task"}
        self.senders = []     # {"kind", "sender"}
        self.transports = []
        self.clients = []

    async def open(self, url, join_type):
        # handle_sigint=False: python-socketio's own SIGINT handler would cancel every task
        # (no report at the end) instead of letting main() stop and report.
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        await sio.connect(url, transports=["websocket"])
        self.clients.append(sio)
        o = self.options
        await request(sio, "createRoom", {"room_id": o.room})
        member = self.edge_member if join_type == "consumer" else self.member
        await request(sio, "join", {"type": join_type, "room_id": o.room, "member_no": member})
        router = await request(sio, "getRouterRtpCapabilities", {})
        answer = await request(sio, "createWebRtcTransport",
                               {"producing": join_type == "producer", "consuming": join_type == "consumer", "forceTcp": False})
        transport = Transport(self.certificate)
        self.transports.append(transport)
        await transport.connect(sio, answer)
        return sio, router, answer["id"], transport

    async def run_edge(self):
        sio, router, transport_id, transport = await self.open(self.options.edge, "consumer")
        capabilities = device_capabilities(router)
        known = set()

        async def consume(producer_id):
            answer = await request(sio, "consume", {"consumerTransportId": transport_id, "producerId": producer_id,
                                                    "rtpCapabilities": capabilities})
            if not answer:
                return
            kind, params = answer["kind"], answer["rtpParameters"]
            receiver = RTCRtpReceiver(kind, transport.dtls)
            receiver._track = RemoteStreamTrack(kind=kind)
            receiver._set_rtcp_ssrc(random.randint(1, 2**32 - 1))
            codecs = [codec_parameters(c) for c in params["codecs"]]
            encoding = params["encodings"][0]
            await receiver.receive(RTCRtpReceiveParameters(
                codecs=codecs,
                headerExtensions=[RTCRtpHeaderExtensionParameters(id=e["id"], uri=e["uri"]) for e in params["headerExtensions"]],
                encodings=[RTCRtpDecodingParameters(ssrc=encoding["ssrc"], payloadType=codecs[0].payloadType,
                                                    rtx=RTCRtpRtxParameters(ssrc=encoding["rtx"]["ssrc"]) if "rtx" in encoding else None)],
                muxId=params.get("mid", ""),
                rtcp=RTCRtcpParameters(cname=params["rtcp"]["cname"], mux=True)))
            entry = {"kind": kind, "receiver": receiver, "frames": 0, "producer_id": producer_id}
            self.receivers[answer["id"]] = entry
            await request(sio, "resume", {"consumer_id": answer["id"]})
            if kind == "video":
                await receiver._send_rtcp_pli(encoding["ssrc"])

            async def read():
                while True:
                    await receiver.track.recv()
                    entry["frames"] += 1
            entry["task"] = asyncio.ensure_future(read())

        @sio.on("newProducers")
        async def new_producers(producers):
            for p in producers:
                if p["producer_id"] not in known:
                    known.add(p["producer_id"])
                    asyncio.ensure_future(consume(p["producer_id"]))

        await sio.emit("getProducers", {})

    async def run_origin(self):
        o = self.options
        sio, router, transport_id, transport = await self.open(o.origin, "producer")
        width, height = (int(v) for v in o.video_size.split("x"))
        caps = device_capabilities(router)
        for mid, (kind, track) in enumerate([("audio", ToneTrack()), ("video", PatternTrack(width, height, o.video_fps))]):
            sender = RTCRtpSender(track, transport.dtls)
            codecs = [c for c in caps["codecs"] if c["kind"] == kind]
            main = codecs[0]
            rtx = next((c for c in codecs if c["mimeType"].lower() == "video/rtx"), None)
            wire_codecs = [{"mimeType": main["mimeType"], "payloadType": main["preferredPayloadType"], "clockRate": main["clockRate"],
                            **({"channels": main["channels"]} if kind == "audio" else {}), "parameters": main.get("parameters", {}),
                            "rtcpFeedback": main["rtcpFeedback"]}]
            encoding = {"ssrc": sender._ssrc}
            if rtx is not None:
                wire_codecs.append({"mimeType": rtx["mimeType"], "payloadType": rtx["preferredPayloadType"], "clockRate": rtx["clockRate"],
                                    "parameters": rtx["parameters"], "rtcpFeedback": []})
                encoding["rtx"] = {"ssrc": sender._rtx_ssrc}
            extensions = [{"uri": e["uri"], "id": e["preferredId"], "encrypt": False, "parameters": {}}
                          for e in caps["headerExtensions"] if e["kind"] == kind]
            cname = str(uuid.uuid4())
            rtp_parameters = {"codecs": wire_codecs, "headerExtensions": extensions, "encodings": [encoding],
                              "rtcp": {"cname": cname, "reducedSize": True}, "mid": str(mid)}
            await request(sio, "produce", {"producerTransportId": transport_id, "kind": kind, "rtpParameters": rtp_parameters,
                                           "appData": {}})
            await sender.send(RTCRtpSendParameters(
                codecs=[codec_parameters(c) for c in wire_codecs],
                headerExtensions=[RTCRtpHeaderExtensionParameters(id=e["id"], uri=e["uri"]) for e in extensions],
                encodings=[RTCRtpEncodingParameters(ssrc=sender._ssrc, payloadType=wire_codecs[0]["payloadType"],
                                                    rtx=RTCRtpRtxParameters(ssrc=sender._rtx_ssrc) if rtx else None)],
                muxId=str(mid),
                rtcp=RTCRtcpParameters(cname=cname, mux=True, ssrc=sender._ssrc)))
            self.senders.append({"kind": kind, "sender": sender})

    def received_packets(self):
        return sum(s.packets_received for entry in self.receivers.values()
                   for s in getattr(entry["receiver"], "_RTCRtpReceiver__remote_streams", {}).values())

    async def report(self):
        lines = []
        for entry in self.senders:
            stats = await entry["sender"].getStats()
            out = next((s for s in stats.values() if s.type == "outbound-rtp"), None)
            lines.append({"member": self.member, "direction": "send", "kind": entry["kind"], "packets": out.packetsSent if out else 0,
                          "bytes": out.bytesSent if out else 0})
        for consumer_id, entry in self.receivers.items():
            # Every SSRC's count (RTX included): getStats() reports one inbound-rtp per receiver,
            # and the RTX stream's overwrites the media stream's once a retransmission arrived.
            streams = getattr(entry["receiver"], "_RTCRtpReceiver__remote_streams", {})
            lines.append({"member": self.member, "direction": "receive", "kind": entry["kind"], "consumer_id": consumer_id,
                          "producer_id": entry["producer_id"], "packets": sum(s.packets_received for s in streams.values()),
                          "frames_decoded": entry["frames"]})
        for line in lines:
            print(json.dumps(line), flush=True)

    async def close(self):
        for entry in self.receivers.values():
            if "task" in entry:
                entry["task"].cancel()
            await entry["receiver"].stop()
        for entry in self.senders:
            await entry["sender"].stop()
        for sio in self.clients:
            try:
                await request(sio, "exitRoom", {}, timeout=2)
            except Exception:
                pass
            await sio.disconnect()
        for transport in self.transports:
            await transport.close()


async def main(options):
    if options.no_decode:
        import aiortc.rtcrtpreceiver
        aiortc.rtcrtpreceiver.get_decoder = lambda codec: NullDecoder()
    # The video encoder starts at nacho's video.bitrate (aiortc: 500 kb/s) and, like nacho,
    # follows the server's REMB below it but not above (aiortc alone would go up to 1.5 Mb/s).
    vpx.DEFAULT_BITRATE = options.video_bitrate
    vpx.MAX_BITRATE = max(options.video_bitrate, vpx.MIN_BITRATE)
    certificate = RTCCertificate.generateCertificate()
    participants = []
    for i in range(options.count):
        member = str(int(options.member) + i) if options.count > 1 else options.member
        edge_member = str(int(member) + 100000) if options.receive_own else member
        participants.append(Participant(options, member, edge_member, certificate))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    def tick():
        print(json.dumps({"tick": time.time(), "received_packets": sum(p.received_packets() for p in participants)}),
              flush=True)

    async def ticks():
        while True:
            tick()
            await asyncio.sleep(1)
    ticking = asyncio.ensure_future(ticks()) if options.ticks else None
    try:
        for participant in participants:
            if stop.is_set():
                break
            await participant.run_edge()
            if not options.no_send:
                await participant.run_origin()
        try:
            await asyncio.wait_for(stop.wait(), options.duration)
        except asyncio.TimeoutError:
            pass
        if ticking:
            ticking.cancel()
            tick()  # the count when told to stop, for a window that ends between two ticks
        for participant in participants:
            await participant.report()
    finally:
        if ticking:
            ticking.cancel()
        for participant in participants:
            await participant.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edge", required=True)
    parser.add_argument("--origin")
    parser.add_argument("--room", default="42")
    parser.add_argument("--member", default="8")
    parser.add_argument("--duration", type=float, default=3600)
    parser.add_argument("--count", type=int, default=1, help="participants in this process (members --member onwards)")
    parser.add_argument("--receive-own", action="store_true",
                        help="edges join as member + 100000: each participant also receives its own producers")
    parser.add_argument("--ticks", action="store_true", help="every second, the packets received so far (one JSON line)")
    parser.add_argument("--no-send", action="store_true", help="receive only")
    parser.add_argument("--no-decode", action="store_true", help="drop received frames instead of decoding them")
    parser.add_argument("--video-size", default="640x480")
    parser.add_argument("--video-fps", type=int, default=30)
    parser.add_argument("--video-bitrate", type=int, default=800_000, help="start and ceiling of the VP8 target (b/s)")
    options = parser.parse_args()
    options.origin = options.origin or options.edge
    if options.count < 1:
        sys.exit("bench_participant: --count must be at least 1")
    if (options.count > 1 or options.receive_own) and not options.member.isdigit():
        sys.exit("bench_participant: --count and --receive-own need a numeric --member")
    for url in (options.edge, options.origin):
        if not url.startswith(("ws://127.0.0.1:", "http://127.0.0.1:")):
            sys.exit("bench_participant: only servers on 127.0.0.1")
    asyncio.run(main(options))
