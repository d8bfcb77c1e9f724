"""A viewer that sends REMB or transport-cc feedback, for the server's downlink bandwidth tests:
`python -m roomserver.feedback_viewer --edge URL ...`.

Joins a room as a consumer over Socket.IO (PROTOCOL.md's edge sequence), connects an ICE
(controlling, 127.0.0.1 only) + DTLS transport with aiortc's ORTC objects and consumes every
video producer with aiortc's RTCRtpReceiver, offering VP8 with nack, pli and goog-remb and the
abs-send-time extension: aiortc's receiver then estimates the incoming bandwidth itself and sends
REMB, as a browser without transport-cc would. `--remb-cap T:BPS,...` caps the REMB it sends from
second T on (a link that narrows, without shaping one): the value sent is the lower of aiortc's
estimate and the cap. With `--transport-cc` it also offers transport-cc and the transport-wide
sequence extension and answers with feedback written by roomserver.twcc (mediasoup's writer),
every 100 ms, so the server's transport-cc estimator has a real peer. Prints one JSON line when
consuming and one with what it received."""

import argparse
import asyncio
import json
import random
import sys
import time

import socketio
from aiortc import RTCDtlsTransport, RTCRtpReceiver
from aiortc.rtcrtpparameters import (RTCRtcpFeedback, RTCRtcpParameters, RTCRtpCodecParameters,
                                     RTCRtpDecodingParameters, RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters,
                                     RTCRtpRtxParameters)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RtcpPsfbPacket, pack_remb_fci, unpack_remb_fci

from . import twcc
from .simulcast_client import connect_transport, request

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def parse_caps(text):
    """"0:2000000,10:150000" -> [(0.0, 2000000), (10.0, 150000)] (seconds from the start)."""
    steps = []
    for part in (text or "").split(","):
        if part.strip():
            at, bps = part.split(":")
            steps.append((float(at), int(bps)))
    return sorted(steps)


class FeedbackDtlsTransport(RTCDtlsTransport):
    """aiortc's DTLS transport that also records each RTP packet's transport-wide sequence."""

    feedback = None
    ext_id = None

    async def _handle_rtp_data(self, data, arrival_time_ms):
        if self.feedback is not None:
            seq = twcc.read_extension(data, self.ext_id)
            if seq is not None:
                self.feedback.packet(seq, int.from_bytes(data[8:12], "big"), int(time.monotonic() * 1000))
        await super()._handle_rtp_data(data, arrival_time_ms)


class CappedRembReceiver(RTCRtpReceiver):
    """aiortc's receiver, whose REMB is capped by the schedule; counts what it estimated and sent."""

    def __init__(self, kind, transport, caps, start, log):
        super().__init__(kind, transport)
        self.caps = caps
        self.start = start
        self.log = log

    def cap(self):
        elapsed = time.monotonic() - self.start
        current = None
        for at, bps in self.caps:
            if elapsed >= at:
                current = bps
        return current

    async def _send_rtcp(self, packet):
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == 15:
            estimated, ssrcs = unpack_remb_fci(packet.fci)
            cap = self.cap()
            sent = estimated if cap is None else min(estimated, cap)
            self.log.append({"t": round(time.monotonic() - self.start, 2), "estimated": estimated, "sent": sent})
            packet = RtcpPsfbPacket(fmt=15, ssrc=packet.ssrc, media_ssrc=0, fci=pack_remb_fci(sent, ssrcs))
        await super()._send_rtcp(packet)


async def run(options):
    start = time.monotonic()
    caps = parse_caps(options.remb_cap)
    sio = socketio.AsyncClient(reconnection=False)
    announced = asyncio.Queue()
    sio.on("newProducers", lambda data: announced.put_nowait(data))
    await sio.connect(options.edge, transports=["websocket"])
    await request(sio, "join", {"room_id": options.room, "member_no": options.member, "type": "consumer"})
    router = await request(sio, "getRouterRtpCapabilities", {})
    answer = await request(sio, "createWebRtcTransport", {"producing": False, "consuming": True, "forceTcp": False})

    ice, dtls = await connect_transport(sio, answer, FeedbackDtlsTransport)

    vp8 = next(c for c in router["codecs"] if c["mimeType"].lower() == "video/vp8")
    rtx = next(c for c in router["codecs"] if c["mimeType"].lower() == "video/rtx" and c["parameters"].get("apt") == vp8["preferredPayloadType"])
    ext_ids = {(e["kind"], e["uri"]): e["preferredId"] for e in router["headerExtensions"]}
    uris = (MID_URI, ABS_SEND_TIME_URI) + ((twcc.URI,) if options.transport_cc else ())
    feedback_types = [{"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"},
                      {"type": "goog-remb", "parameter": ""}] + \
        ([{"type": "transport-cc", "parameter": ""}] if options.transport_cc else [])
    rtp_capabilities = {
        "codecs": [
            {"kind": "video", "mimeType": "video/VP8", "clockRate": 90000, "preferredPayloadType": vp8["preferredPayloadType"],
             "parameters": {}, "rtcpFeedback": feedback_types},
            {"kind": "video", "mimeType": "video/rtx", "clockRate": 90000, "preferredPayloadType": rtx["preferredPayloadType"],
             "parameters": {"apt": vp8["preferredPayloadType"]}, "rtcpFeedback": []},
        ],
        "headerExtensions": [{"kind": "video", "uri": uri, "preferredId": ext_ids[("video", uri)], "preferredEncrypt": False,
                              "direction": "sendrecv"} for uri in uris if ("video", uri) in ext_ids],
    }
    ticker = None
    if options.transport_cc and ("video", twcc.URI) in ext_ids:
        def send(data):
            asyncio.ensure_future(dtls._send_rtp(data))
        dtls.feedback = twcc.FeedbackServer(send)
        dtls.ext_id = ext_ids[("video", twcc.URI)]

        async def tick():
            while True:
                await asyncio.sleep(twcc.SEND_INTERVAL)
                dtls.feedback.tick(int(time.monotonic() * 1000))
        ticker = asyncio.ensure_future(tick())

    remb_log = []
    streams = []
    await sio.emit("getProducers", {})

    async def consume(producer):
        answer_consume = await sio.call("consume", {"consumerTransportId": answer["id"], "producerId": producer["producer_id"],
                                                    "rtpCapabilities": rtp_capabilities}, timeout=10)
        if not isinstance(answer_consume, dict) or "rtpParameters" not in answer_consume:
            return
        rtp = answer_consume["rtpParameters"]
        encoding = rtp["encodings"][0]
        receiver = CappedRembReceiver("video", dtls, caps, start, remb_log)
        receiver._track = RemoteStreamTrack(kind="video")
        receiver._set_rtcp_ssrc(random.randint(1, 2**32 - 1))
        codecs = [RTCRtpCodecParameters(mimeType=c["mimeType"], clockRate=c["clockRate"], payloadType=c["payloadType"],
                                        parameters=dict(c.get("parameters", {})), rtcpFeedback=[])
                  for c in rtp["codecs"]]
        codecs[0].rtcpFeedback = [RTCRtcpFeedback(type=fb["type"], parameter=fb.get("parameter") or None)
                                  for fb in rtp["codecs"][0].get("rtcpFeedback", [])]
        await receiver.receive(RTCRtpReceiveParameters(
            codecs=codecs,
            headerExtensions=[RTCRtpHeaderExtensionParameters(id=e["id"], uri=e["uri"]) for e in rtp["headerExtensions"]],
            encodings=[RTCRtpDecodingParameters(ssrc=encoding["ssrc"], payloadType=codecs[0].payloadType,
                                                rtx=RTCRtpRtxParameters(ssrc=encoding["rtx"]["ssrc"]) if "rtx" in encoding else None)],
            muxId=rtp.get("mid", ""),
            rtcp=RTCRtcpParameters(cname=rtp.get("rtcp", {}).get("cname"), mux=True)))
        await request(sio, "resume", {"consumer_id": answer_consume["id"]})
        stream = {"consumer_id": answer_consume["id"], "frames": 0, "sizes": {}}
        streams.append(stream)
        print(json.dumps({"consuming": answer_consume["id"], "type": answer_consume.get("type")}), flush=True)
        try:
            while True:
                frame = await receiver.track.recv()
                stream["frames"] += 1
                size = "%dx%d" % (frame.width, frame.height)
                stream["sizes"][size] = stream["sizes"].get(size, 0) + 1
        except Exception:
            pass
        finally:
            await receiver.stop()

    tasks = []
    known = set()

    async def take_announcements():
        while True:
            for producer in await announced.get():
                if producer.get("kind") == "video" and producer["producer_id"] not in known:
                    known.add(producer["producer_id"])
                    tasks.append(asyncio.ensure_future(consume(producer)))

    announcer = asyncio.ensure_future(take_announcements())
    await asyncio.sleep(max(0.0, options.duration - (time.monotonic() - start)))
    announcer.cancel()
    if ticker is not None:
        ticker.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"streams": streams, "remb": remb_log,
                      "transport_cc": dtls.feedback.report() if dtls.feedback is not None else None}), flush=True)
    await sio.call("exitRoom", {}, timeout=5)
    await sio.disconnect()
    await dtls.stop()
    await ice.stop()


def main():
    p = argparse.ArgumentParser(prog="feedback_viewer", description=__doc__)
    p.add_argument("--edge", required=True)
    p.add_argument("--room", default="42")
    p.add_argument("--member", default="9")
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--transport-cc", action="store_true",
                   help="offer transport-cc too and send transport-cc feedback (the server then estimates from it)")
    p.add_argument("--remb-cap", default="", metavar="T:BPS,...",
                   help="from second T on, the REMB sent is at most BPS (aiortc's own estimate below it goes as it is)")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
