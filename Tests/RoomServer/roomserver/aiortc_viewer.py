"""An independent viewer for tests: `python -m roomserver.aiortc_viewer --edge URL ...`.

Joins a room as a consumer over Socket.IO (PROTOCOL.md's edge sequence), connects one ICE
(controlling, 127.0.0.1 only) + DTLS transport with aiortc's ORTC objects, and consumes every
video producer with aiortc's own RTCRtpReceiver: its jitter buffer, VP8 depacketizer, libvpx
decoder, NACKs, PLIs and REMB, as pymediasoup's aiortc handler receives. It offers what aiortc
supports (VP8 + RTX, nack, nack pli, goog-remb; mid and abs-send-time), so the SFU treats it
as a REMB receiver. Prints one JSON line when consuming and one at the end with, per producer,
the frames decoded and the last size."""

import argparse
import asyncio
import json
import random
import sys
import threading
import time

import socketio
import aiortc.rtcrtpreceiver as aiortc_receiver
from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import (RTCRtcpParameters, RTCRtpCodecParameters, RTCRtpDecodingParameters,
                                     RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters, RTCRtpRtxParameters)
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpreceiver import RemoteStreamTrack

from .simulcast_client import connect_transport, request

DECODE_ERRORS = {}   # decoder thread -> frames libvpx refused


def counting_get_decoder(get_decoder):
    """aiortc's decoder, counting the frames it fails to decode on each receiver's thread (aiortc
    logs them and asks for a key frame; older releases lost the decoder thread to the first)."""
    def make(codec):
        decoder = get_decoder(codec)
        original = decoder.decode

        def decode(encoded_frame):
            try:
                return original(encoded_frame)
            except Exception:
                thread = threading.current_thread()
                DECODE_ERRORS[thread] = DECODE_ERRORS.get(thread, 0) + 1
                raise
        decoder.decode = decode
        return decoder
    return make


aiortc_receiver.get_decoder = counting_get_decoder(aiortc_receiver.get_decoder)

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def receive_capabilities(router_caps):
    """What aiortc can receive, in the router's terms (payload types and ids are the router's)."""
    codecs = []
    for codec in router_caps["codecs"]:
        mime = codec["mimeType"].lower()
        if mime == "video/vp8":
            codecs.append(dict(codec, rtcpFeedback=[{"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"},
                                                    {"type": "goog-remb", "parameter": ""}]))
    vp8_types = {c["preferredPayloadType"] for c in codecs}
    codecs += [dict(c, rtcpFeedback=[]) for c in router_caps["codecs"]
               if c["mimeType"].lower() == "video/rtx" and c.get("parameters", {}).get("apt") in vp8_types]
    extensions = [e for e in router_caps["headerExtensions"]
                  if e["kind"] == "video" and e["uri"] in (MID_URI, ABS_SEND_TIME_URI)]
    return {"codecs": codecs, "headerExtensions": extensions}


class Viewed:
    """One consumed producer: aiortc's receiver and what it decoded."""

    def __init__(self, producer_id, member_no):
        self.producer_id = producer_id
        self.member_no = member_no
        self.frames = 0
        self.width = self.height = 0
        self.first_frame_at = self.last_frame_at = None
        self.longest_gap = 0.0
        self.receiver = None
        self.task = None
        self.rembs = []          # (seconds since consuming, bits per second) of each REMB its receiver sent
        self.started = time.monotonic()

    async def run(self, track):
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                if self.last_frame_at is not None:
                    self.longest_gap = max(self.longest_gap, now - self.last_frame_at)
                if self.first_frame_at is None:
                    self.first_frame_at = now
                self.last_frame_at = now
                self.frames += 1
                self.width, self.height = frame.width, frame.height
        except (MediaStreamError, asyncio.CancelledError):
            pass

    def report(self, end):
        gap = self.longest_gap
        if self.last_frame_at is not None:
            gap = max(gap, end - self.last_frame_at)
        thread = getattr(self.receiver, "_RTCRtpReceiver__decoder_thread", None) if self.receiver else None
        return {"member_no": self.member_no, "frames_decoded": self.frames, "width": self.width, "height": self.height,
                "decode_errors": DECODE_ERRORS.get(thread, 0), "rembs": self.rembs[:40],
                "longest_gap_s": round(gap, 3) if self.first_frame_at is not None else None}


async def run(options):
    sio = socketio.AsyncClient(reconnection=False)
    announced = asyncio.Queue()

    @sio.on("newProducers")
    async def new_producers(data):
        for entry in data if isinstance(data, list) else []:
            await announced.put(entry)

    await sio.connect(options.edge, transports=["websocket"])
    await request(sio, "createRoom", {"room_id": options.room})
    await request(sio, "join", {"room_id": options.room, "member_no": options.member, "type": "consumer"})
    router_caps = await request(sio, "getRouterRtpCapabilities", {})
    answer = await request(sio, "createWebRtcTransport", {"producing": False, "consuming": True, "forceTcp": False})

    ice, dtls = await connect_transport(sio, answer)

    caps = receive_capabilities(router_caps)
    shared_estimator = RemoteBitrateEstimator() if options.shared_remb else None
    viewed = {}
    deadline = time.monotonic() + options.duration
    await sio.emit("getProducers", {})

    async def consume(entry):
        producer_id = entry.get("producer_id")
        if producer_id in viewed or entry.get("kind", "video") != "video":
            return
        viewed[producer_id] = view = Viewed(producer_id, entry.get("member_no"))
        consumer = await request(sio, "consume", {"consumerTransportId": answer["id"], "producerId": producer_id,
                                                  "rtpCapabilities": caps})
        if not consumer or consumer.get("kind") != "video":
            viewed.pop(producer_id, None)
            return
        rtp = consumer["rtpParameters"]
        encoding = rtp["encodings"][0]
        receiver = RTCRtpReceiver("video", dtls)
        # ORTC use: the track and the receiver's RTCP SSRC are ours to set (else no RR/NACK/PLI/REMB).
        receiver._track = RemoteStreamTrack(kind="video")
        receiver._set_rtcp_ssrc(random.randint(1, 2**32 - 1))
        if shared_estimator is not None:
            # --shared-remb: one estimate for the whole transport, listing every SSRC (libwebrtc's way)
            receiver._RTCRtpReceiver__remote_bitrate_estimator = shared_estimator
        send_rtcp = receiver._send_rtcp

        async def watched_rtcp(packet):
            # REMB (PSFB, fmt 15): aiortc's estimate of this one stream, sent for its SSRC only
            if getattr(packet, "fmt", None) == 15 and len(getattr(packet, "fci", b"")) >= 8:
                fci = packet.fci
                exponent, mantissa = fci[5] >> 2, ((fci[5] & 0x03) << 16) | (fci[6] << 8) | fci[7]
                view.rembs.append((round(time.monotonic() - view.started, 2), mantissa << exponent))
            await send_rtcp(packet)
        receiver._send_rtcp = watched_rtcp
        await receiver.receive(RTCRtpReceiveParameters(
            codecs=[RTCRtpCodecParameters(mimeType=c["mimeType"], clockRate=c["clockRate"], payloadType=c["payloadType"],
                                          parameters=dict(c.get("parameters", {}))) for c in rtp["codecs"]],
            headerExtensions=[RTCRtpHeaderExtensionParameters(id=e["id"], uri=e["uri"]) for e in rtp["headerExtensions"]],
            encodings=[RTCRtpDecodingParameters(ssrc=encoding["ssrc"], payloadType=rtp["codecs"][0]["payloadType"],
                                                rtx=RTCRtpRtxParameters(ssrc=encoding["rtx"]["ssrc"]) if "rtx" in encoding else None)],
            muxId=rtp.get("mid", ""),
            rtcp=RTCRtcpParameters(cname=rtp.get("rtcp", {}).get("cname"), mux=True)))
        view.receiver = receiver
        view.consumer_id = consumer["id"]
        view.task = asyncio.ensure_future(view.run(receiver.track))
        await request(sio, "resume", {"consumer_id": consumer["id"]})
        print(json.dumps({"consuming": producer_id, "consumer_id": consumer["id"], "type": consumer.get("type")}), flush=True)

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            entry = await asyncio.wait_for(announced.get(), timeout=left)
        except asyncio.TimeoutError:
            break
        await consume(entry)
    end = time.monotonic()
    print(json.dumps({"viewed": {pid: dict(v.report(end), consumer_id=getattr(v, "consumer_id", None))
                                 for pid, v in viewed.items()}}), flush=True)
    for view in viewed.values():
        if view.receiver is not None:
            await view.receiver.stop()
        if view.task is not None:
            view.task.cancel()
    try:
        await sio.call("exitRoom", {}, timeout=5)
    except Exception:
        pass
    await sio.disconnect()
    await dtls.stop()
    await ice.stop()


def main():
    p = argparse.ArgumentParser(prog="aiortc_viewer", description=__doc__)
    p.add_argument("--edge", required=True)
    p.add_argument("--room", default="42")
    p.add_argument("--member", default="9001")
    p.add_argument("--duration", type=float, default=15, help="seconds to watch, from joining")
    p.add_argument("--shared-remb", action="store_true",
                   help="one bandwidth estimator for every receiver, so each REMB covers the transport (as libwebrtc "
                        "sends it) instead of aiortc's one estimate per receiver")
    options = p.parse_args()
    asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
