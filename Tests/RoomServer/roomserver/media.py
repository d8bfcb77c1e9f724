"""The media half: each WebRtcTransport is aiortc's ORTC objects (RTCIceGatherer with an
ICE-lite connection, RTCIceTransport, RTCDtlsTransport).

Consumers are either RTCRtpSenders that encode a virtual member's synthetic media per consumer
(VP8, H264, Opus: --virtual-media encode), or packet-level PacketConsumers (forwarding.py) fed
by a Source: a replayed pre-encoded loop (VP9 members; VP8/Opus with --virtual-media replay) or
a client's producer, whose decrypted RTP is tapped from its transport (TapDtlsTransport) and
forwarded as an SFU does (--relay packet; --relay decode keeps aiortc's decode/re-encode relay).

A client's producer is also decoded once, for what tests assert: by aiortc's RTCRtpReceiver
(VP8, H264, Opus), or by PyAV after depacketizing here (VP9, and every layer of a simulcast
producer)."""

import asyncio
import logging
import random
import struct

import numpy as np
from aiortc import (RTCCertificate, RTCDtlsFingerprint, RTCDtlsParameters, RTCDtlsTransport, RTCIceGatherer,
                    RTCIceParameters, RTCIceTransport, RTCRtpReceiver, RTCRtpSender)
from aiortc.contrib.media import MediaRelay
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtcrtpparameters import (RTCRtcpParameters, RTCRtpCodecParameters, RTCRtpDecodingParameters,
                                     RTCRtpEncodingParameters, RTCRtpHeaderExtensionParameters,
                                     RTCRtpReceiveParameters, RTCRtpRtxParameters, RTCRtpSendParameters)
from aiortc.rtp import RtcpPsfbPacket, RtcpRrPacket, RtcpRtpfbPacket, RtcpSrPacket
from cryptography.hazmat.primitives import hashes

from . import bandwidth, forwarding, replay, rtp_util, synthetic
from .lite_ice import LiteConnection
from .lossy_relay import LossyRelay
from .tcp_relay import TcpRelay, dead_udp_port

log = logging.getLogger("roomserver.media")

EXTRA_DIGESTS = {"sha-1": hashes.SHA1(), "sha-224": hashes.SHA224(), "sha-384": hashes.SHA384(), "sha-512": hashes.SHA512()}


class CountingSender(RTCRtpSender):
    """An RTCRtpSender that also counts the RTCP its client sends about this stream."""

    def __init__(self, track, transport, counters):
        super().__init__(track, transport)
        self.counters = counters

    async def _handle_rtcp_packet(self, packet):
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == self._ssrc:
                    self.counters["rr_received"] += 1
                    self.counters["rr_highest_seq"] = report.highest_sequence
                    self.counters["rr_fraction_lost"] = report.fraction_lost
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == 1:
            self.counters["pli_received"] += 1
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == 1:
            self.counters["nack_received"] += 1
        await super()._handle_rtcp_packet(packet)


class CountingReceiver(RTCRtpReceiver):
    def __init__(self, kind, transport, counters):
        super().__init__(kind, transport)
        self.counters = counters

    async def _handle_rtcp_packet(self, packet):
        if isinstance(packet, RtcpSrPacket):
            self.counters["sr_received"] += 1
        await super()._handle_rtcp_packet(packet)

    async def _handle_rtp_packet(self, packet, arrival_time_ms):
        self.counters["packets"] += 1
        self.counters["bytes"] += len(packet.payload)
        try:
            await super()._handle_rtp_packet(packet, arrival_time_ms)
        except Exception:
            log.exception("receiver: handling an RTP packet failed")
            raise


class TapDtlsTransport(RTCDtlsTransport):
    """An RTCDtlsTransport that hands decrypted RTP of tapped SSRCs to a callable first; the
    callable returns the sends it caused and whether aiortc's own routing should skip it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.taps = {}
        self.rtp_observer = None    # every decrypted RTP packet (transport-cc feedback to producers)
        self.rtcp_observer = None   # every decrypted RTCP compound (the consumers' feedback, REMB)
        self.bandwidth = None       # bandwidth.TransportBandwidth of a consumer transport

    async def _handle_rtcp_data(self, data):
        if self.rtcp_observer is not None:
            try:
                self.rtcp_observer(data)
            except Exception:
                log.exception("observing RTCP failed")
        await super()._handle_rtcp_data(data)

    async def _handle_rtp_data(self, data, arrival_time_ms):
        if self.rtp_observer is not None:
            try:
                self.rtp_observer(data)
            except Exception:
                log.exception("observing RTP failed")
        if len(data) >= 12:
            tap = self.taps.get(int.from_bytes(data[8:12], "big"))
            if tap is not None:
                try:
                    sends, swallow = tap(data)
                except Exception:
                    log.exception("tapping an RTP packet failed")
                    sends, swallow = (), False
                for send in sends:
                    await send
                if swallow:
                    return
        await super()._handle_rtp_data(data, arrival_time_ms)


class ServerTransport:
    def __init__(self, transport_id, certificate, options):
        self.id = transport_id
        self.options = options
        self.gatherer = RTCIceGatherer()
        self.gatherer._connection = LiteConnection(ice_controlling=False, consent_timeout=options.consent_timeout)
        self.ice = RTCIceTransport(self.gatherer)
        self.dtls = TapDtlsTransport(self.ice, [certificate])
        self.certificate = certificate
        self.connected = asyncio.Event()
        self.tasks = []
        self.state = {"ice": "new", "dtls": "new", "checks": 0}
        self.feedback = None        # bandwidth.ProducerFeedback once a producer asks for transport-cc

    async def start(self):
        await self.gatherer.gather()
        self.tasks.append(asyncio.ensure_future(self.ice.start(RTCIceParameters(usernameFragment=None, password=None))))
        udp = self.gatherer.getLocalCandidates()[0]
        self.tcp = TcpRelay((udp.ip, udp.port))
        await self.tcp.start()
        self.lossy = None
        if self.options.loss > 0 or self.options.reorder > 0:
            self.lossy = LossyRelay((udp.ip, udp.port), self.options.loss, reorder=self.options.reorder)
            await self.lossy.start()

    def answer(self, wrong_fingerprint=False, force_tcp=False, udp_blocked=False):
        params = self.gatherer.getLocalParameters()
        # mediasoup's shape: a UDP and a passive TCP host candidate, UDP preferred.
        def udp_port(c):
            if udp_blocked:
                return dead_udp_port()
            return self.lossy.port if self.lossy is not None else c.port
        candidates = [{"foundation": "udpcandidate", "priority": 1076302079, "ip": c.ip, "address": c.ip,
                       "protocol": "udp", "port": udp_port(c), "type": "host"}
                      for c in self.gatherer.getLocalCandidates()]
        tcp = {"foundation": "tcpcandidate", "priority": 1076276479, "ip": "127.0.0.1", "address": "127.0.0.1",
               "protocol": "tcp", "port": self.tcp.port, "type": "host", "tcpType": "passive"}
        candidates = [tcp] if force_tcp else candidates + [tcp]
        fingerprints = [{"algorithm": f.algorithm, "value": f.value} for f in self.certificate.getFingerprints()]
        cert = self.certificate._cert
        for name, digest in EXTRA_DIGESTS.items():
            value = cert.fingerprint(digest).hex().upper()
            fingerprints.append({"algorithm": name, "value": ":".join(value[i:i + 2] for i in range(0, len(value), 2))})
        # mediasoup lists sha-256 in the middle: clients must pick by name.
        fingerprints.sort(key=lambda f: {"sha-224": 0, "sha-256": 1, "sha-1": 2, "sha-512": 3, "sha-384": 4}.get(f["algorithm"], 5))
        if wrong_fingerprint:
            for f in fingerprints:
                f["value"] = ":".join("%02X" % ((int(b, 16) + 1) % 256) for b in f["value"].split(":"))
        return {
            "id": self.id,
            "iceParameters": {"usernameFragment": params.usernameFragment, "password": params.password, "iceLite": True},
            "iceCandidates": candidates,
            "dtlsParameters": {"fingerprints": fingerprints, "role": "auto"},
        }

    async def connect(self, dtls_parameters):
        async def run():
            await self.tasks[0]
            self.state["ice"] = self.ice.state
            if self.ice.state != "completed":
                return
            self.dtls._set_role("server" if dtls_parameters.get("role", "client") == "client" else "client")
            remote = RTCDtlsParameters(fingerprints=[RTCDtlsFingerprint(algorithm=f["algorithm"], value=f["value"])
                                                     for f in dtls_parameters["fingerprints"]])
            await self.dtls.start(remote)
            self.state["dtls"] = self.dtls.state
            if self.dtls.state == "connected":
                self.connected.set()
        self.tasks.append(asyncio.ensure_future(run()))

    def report(self):
        connection = self.gatherer._connection
        self.state["checks"] = connection.checks_received
        self.state["ice"] = self.ice.state
        self.state["dtls"] = self.dtls.state
        self.state["tcp_connections"] = self.tcp.connections
        self.state["tcp_frames"] = self.tcp.frames
        if self.lossy is not None:
            self.state["relay_dropped"] = self.lossy.dropped
            self.state["relay_forwarded"] = self.lossy.forwarded
            self.state["relay_reordered"] = self.lossy.reordered
        if self.feedback is not None:
            self.state["transport_cc"] = self.feedback.report()
        if self.dtls.bandwidth is not None:
            self.state["bandwidth"] = self.dtls.bandwidth.report()
        return dict(self.state)

    async def close(self):
        if self.feedback is not None:
            self.feedback.stop()
        if self.dtls.bandwidth is not None:
            self.dtls.bandwidth.stop()
        self.tcp.close()
        if self.lossy is not None:
            self.lossy.close()
        for task in self.tasks:
            task.cancel()
        try:
            await self.dtls.stop()
            await self.ice.stop()
        except Exception:
            pass


def codec_parameters(codec):
    return RTCRtpCodecParameters(mimeType=codec["mimeType"], clockRate=codec["clockRate"], channels=codec.get("channels"),
                                 payloadType=codec["payloadType"], parameters=dict(codec.get("parameters", {})))


def rtcp_pli(media_ssrc, sender_ssrc=1):
    return struct.pack("!BBHII", 0x81, 206, 2, sender_ssrc, media_ssrc)


def new_consumer_counters():
    return {"rr_received": 0, "rr_highest_seq": 0, "rr_fraction_lost": 0, "pli_received": 0, "nack_received": 0,
            "packets_sent": 0, "bytes_sent": 0, "frames_sent": 0}


class LayerDecoder:
    """One received video stream (a simulcast layer, or a VP9 producer) decoded here: frames
    reassembled from RTP, depacketized, decoded by PyAV (ffmpeg's vp8/vp9/h264 decoders)."""

    def __init__(self, codec, ssrc, counters):
        self.codec = codec
        self.assembler = rtp_util.FrameAssembler()
        self.decoder = None
        self.counters = counters
        self.waiting_for_key = True
        counters.update({"ssrc": ssrc, "packets": 0, "bytes": 0, "frames_decoded": 0, "width": 0, "height": 0, "keyframes": 0,
                         "decode_errors": 0, "frames_dropped": 0})

    def packet(self, seq, ts, marker, payload):
        self.counters["packets"] += 1
        self.counters["bytes"] += len(payload)
        parts = self.assembler.add(seq, ts, marker, payload)
        self.counters["frames_dropped"] = self.assembler.dropped
        if parts is None:
            return
        key = rtp_util.keyframe_start(self.codec, parts[0])
        if key:
            self.counters["keyframes"] += 1
            self.waiting_for_key = False
        if self.waiting_for_key:
            return
        if self.codec == "vp9":
            frame = rtp_util.vp9_depacketize(parts)
        elif self.codec == "vp8":
            frame = rtp_util.vp8_depacketize(parts)
        else:
            from aiortc.codecs.h264 import h264_depayload
            frame = b"".join(h264_depayload(p) for p in parts)
        if not frame:
            return
        import av
        try:
            if self.decoder is None:
                self.decoder = av.CodecContext.create({"vp8": "vp8", "vp9": "vp9", "h264": "h264"}[self.codec], "r")
            for decoded in self.decoder.decode(av.Packet(frame)):
                self.counters["frames_decoded"] += 1
                self.counters["width"], self.counters["height"] = decoded.width, decoded.height
        except Exception:
            self.counters["decode_errors"] += 1
            self.waiting_for_key = True


def temporal_layers(scalability_mode):
    """T of an encoding's scalabilityMode (L1T3 -> 3); 1 when absent, as mediasoup takes it."""
    mode = scalability_mode or ""
    if "T" in mode:
        digits = mode.split("T", 1)[1][:2]
        digits = "".join(c for c in digits if c.isdigit())
        if digits:
            return max(1, min(int(digits), 3))
    return 1


class ProducerSink:
    """Stands in aiortc's RTP router for a producer decoded here: counts its sender reports and
    hands each one (ssrc, NTP, RTP time) to `on_report` (simulcast switches map through them)."""

    def __init__(self, counters, on_report=None):
        self.counters = counters
        self.on_report = on_report

    async def _handle_rtcp_packet(self, packet):
        if isinstance(packet, RtcpSrPacket):
            self.counters["sr_received"] += 1
            if self.on_report is not None:
                self.on_report(packet.ssrc, packet.sender_info.ntp_timestamp, packet.sender_info.rtp_timestamp)

    async def _handle_rtp_packet(self, packet, arrival_time_ms):
        pass

    def _handle_disconnect(self):
        pass


class MediaServer:
    def __init__(self, options):
        self.options = options
        self.certificate = RTCCertificate.generateCertificate()
        self.transports = {}
        self.consumers = {}   # consumer id -> {"sender" | "packet", "counters", "track", ...}
        self.producers = {}   # producer id -> {"receiver", "counters", "task", "source", ...}
        self.relay = MediaRelay()
        self.gates = {}       # producer id -> asyncio.Event, set while the (virtual) producer is not paused
        self.replays = {}     # virtual producer id -> ReplaySource
        self.ticker = forwarding.RtcpTicker()
        # a fixed simulcast layer (--simulcast-layer, POST /simulcast-layer) overrides the
        # bandwidth-driven choice
        self.fixed_layer = options.simulcast_layer

    def prepare_replay(self, producers):
        """Makes (or loads from the cache) the loops the replaying virtual members need."""
        for producer in producers:
            if producer.virtual and producer.source == "replay":
                self.loop_for(producer)

    def loop_for(self, producer):
        name = "opus" if producer.kind == "audio" else producer.codec["mimeType"].split("/")[1].lower()
        return replay.load(name, self.options.video_width, self.options.video_height, self.options.video_fps,
                           self.options.replay_seconds, self.options.replay_content)

    def replay_source(self, producer):
        source = self.replays.get(producer.id)
        if source is None:
            source = self.replays[producer.id] = forwarding.ReplaySource(self.loop_for(producer), gate=self.gate(producer))
            source.start()
        return source

    def gate(self, producer):
        gate = self.gates.get(producer.id)
        if gate is None:
            gate = self.gates[producer.id] = asyncio.Event()
            if not producer.paused:
                gate.set()
        return gate

    def set_paused(self, producer, paused):
        gate = self.gate(producer)
        if paused:
            gate.clear()
        else:
            gate.set()

    async def create_transport(self, transport_id, role, force_tcp):
        transport = ServerTransport(transport_id, self.certificate, self.options)
        await transport.start()
        self.transports[transport_id] = transport
        return transport.answer(wrong_fingerprint=self.options.wrong_fingerprint, force_tcp=force_tcp,
                                udp_blocked=self.options.udp_blocked)

    async def connect_transport(self, transport_id, dtls_parameters):
        await self.transports[transport_id].connect(dtls_parameters)

    # -- consumers ----------------------------------------------------------------------

    async def add_consumer(self, consumer, producer):
        transport = self.transports[consumer.transport_id]
        source = None
        if producer.virtual and producer.source == "replay":
            source = self.replay_source(producer)
        elif not producer.virtual:
            entry = self.producers.get(producer.id)
            if entry is None:
                return
            source = entry.get("source")
        if source is not None:
            await self.add_packet_consumer(consumer, producer, transport, source)
            return
        params = consumer.rtp_parameters
        if producer.virtual:
            track = synthetic.PatternTrack(self.options.video_width, self.options.video_height, self.options.video_fps,
                                           gate=self.gate(producer)) \
                if producer.kind == "video" else synthetic.ToneTrack()
        else:
            track = self.relay.subscribe(self.producers[producer.id]["receiver"].track)
        counters = new_consumer_counters()
        sender = CountingSender(track, transport.dtls, counters)
        encoding = params["encodings"][0]
        sender._ssrc = encoding["ssrc"]
        if "rtx" in encoding:
            sender._rtx_ssrc = encoding["rtx"]["ssrc"]
        entry = {"sender": sender, "counters": counters, "track": track, "kind": producer.kind,
                 "producer_id": producer.id, "started": False, "mode": "encode" if producer.virtual else "decode-relay"}
        self.consumers[consumer.id] = entry

        async def start_when_connected():
            await transport.connected.wait()
            await sender.send(RTCRtpSendParameters(
                codecs=[codec_parameters(c) for c in params["codecs"]],
                headerExtensions=[RTCRtpHeaderExtensionParameters(id=e["id"], uri=e["uri"]) for e in params["headerExtensions"]],
                encodings=[RTCRtpEncodingParameters(ssrc=encoding["ssrc"], payloadType=params["codecs"][0]["payloadType"],
                                                    rtx=RTCRtpRtxParameters(ssrc=encoding["rtx"]["ssrc"]) if "rtx" in encoding else None)],
                muxId=params.get("mid", ""),
                rtcp=RTCRtcpParameters(cname=params["rtcp"]["cname"], mux=True, ssrc=encoding["ssrc"])))
            entry["started"] = True
        entry["task"] = asyncio.ensure_future(start_when_connected())

    async def add_packet_consumer(self, consumer, producer, transport, source):
        counters = new_consumer_counters()
        layer = None
        ramp = getattr(self.options, "simulcast_ramp", None) if producer.layers > 1 and self.fixed_layer is None else None
        if producer.layers > 1:
            layer = self.fixed_layer if self.fixed_layer is not None else producer.layers - 1
            if ramp:
                layer = 0
            layer = max(0, min(producer.layers - 1, layer))
        packet = forwarding.PacketConsumer(transport.dtls, consumer.rtp_parameters, producer.kind, source.clock_rate,
                                           counters, layer=layer)
        router = transport.dtls._rtp_router
        router.register_sender(packet, packet.ssrc)
        if packet.rtx_ssrc is not None:
            router.register_sender(packet, packet.rtx_ssrc)
        entry = {"packet": packet, "counters": counters, "kind": producer.kind, "producer_id": producer.id,
                 "started": False, "source": source, "mode": "replay" if producer.virtual else "forward"}
        self.consumers[consumer.id] = entry
        choice = self.bandwidth_for(transport, consumer.rtp_parameters, packet, source, layer)

        async def start_when_connected():
            await transport.connected.wait()
            if choice is not None:
                transport.dtls.bandwidth.start()
                transport.dtls.bandwidth.distributor.distribute()
            packet.started = True
            entry["started"] = True
            source.add(packet)
            self.ticker.add(packet)
            # --simulcast-ramp: up one layer every so often, as mediasoup moves a consumer whose
            # estimate grows (REMB or transport-cc) from the lowest layer up; the estimate does
            # not choose meanwhile (layer_override), a fixed layer set later ends the ramp
            while ramp and packet.target_layer is not None and packet.target_layer < producer.layers - 1:
                await asyncio.sleep(ramp)
                if packet.closed or self.fixed_layer is not None:
                    break
                packet.want_layer(packet.target_layer + 1)
        entry["task"] = asyncio.ensure_future(start_when_connected())

    def bandwidth_for(self, transport, params, packet, source, layer):
        """The transport's estimator (made by its first consumer that negotiates transport-cc
        or REMB, as mediasoup makes its TransportCongestionControlClient); a simulcast consumer
        joins its distribution. Returns the consumer's place in it, or None."""
        dtls = transport.dtls
        mode = bandwidth.consumer_mode(params)
        if dtls.bandwidth is None and mode is not None:
            dtls.bandwidth = bandwidth.TransportBandwidth(dtls, mode, self.layer_override)
            dtls.rtcp_observer = dtls.bandwidth.estimator.on_rtcp
        bwe = dtls.bandwidth
        if bwe is None:
            return None
        ext = {e["uri"]: e["id"] for e in params.get("headerExtensions", [])}
        if bwe.probe_template is None and packet.wide_id is not None and packet.kind == "video":
            bwe.probe_template = (ext.get(forwarding.MID_URI), b"probator", ext.get(forwarding.ABS_SEND_TIME_URI), packet.wide_id)
        rates = getattr(source, "rates", None)
        if layer is None or rates is None:
            return None
        choice = bandwidth.SimulcastChoice(packet, rates, len(rates.windows))
        bwe.distributor.add(choice)
        return choice

    def layer_override(self):
        """What sets the simulcast layers instead of the transports' estimates: the fixed layer,
        else the --simulcast-ramp schedule (its period); None when the estimates choose."""
        return self.fixed_layer if self.fixed_layer is not None else getattr(self.options, "simulcast_ramp", None)

    def set_simulcast_layer(self, layer):
        self.fixed_layer = layer
        changed = 0
        for entry in list(self.consumers.values()):
            packet = entry.get("packet")
            if packet is not None and packet.target_layer is not None:
                packet.want_layer(max(0, min(layer, len(entry["source"].layer_ssrcs) - 1))
                                  if getattr(entry["source"], "layer_ssrcs", None) else layer)
                changed += 1
        return changed

    async def resume_consumer(self, consumer):
        pass  # consumers start unpaused (the variant PROTOCOL.md says clients must tolerate)

    async def remove_consumer(self, consumer):
        entry = self.consumers.pop(consumer.id, None)
        if entry is None:
            return
        entry["task"].cancel()
        if "packet" in entry:
            packet = entry["packet"]
            entry["source"].remove(packet)
            self.ticker.discard(packet)
            transport = self.transports.get(consumer.transport_id)
            if transport is not None:
                transport.dtls._rtp_router.unregister_sender(packet)
                if transport.dtls.bandwidth is not None:
                    transport.dtls.bandwidth.distributor.remove(packet)
        elif entry["started"]:
            await self.collect_entry_stats(entry)
            await entry["sender"].stop()
        self.consumers[consumer.id + ":closed"] = {"counters": entry["counters"], "kind": entry["kind"],
                                                   "closed": True, "producer_id": entry["producer_id"],
                                                   "mode": entry["mode"]}

    # -- producers ----------------------------------------------------------------------

    async def add_producer(self, transport_id, producer):
        transport = self.transports[transport_id]
        params = producer.rtp_parameters
        counters = {"packets": 0, "bytes": 0, "sr_received": 0, "frames_decoded": 0, "width": 0, "height": 0,
                    "audio_rms_dbfs": None, "barcodes": []}
        codecs = [codec_parameters(c) for c in params["codecs"]]
        media_codec = next(c for c in params["codecs"] if not c["mimeType"].lower().endswith("/rtx"))
        name = media_codec["mimeType"].split("/")[1].lower()
        counters["codec"] = media_codec["mimeType"]
        encodings = params["encodings"]
        entry = {"counters": counters, "kind": producer.kind, "ssrc": encodings[0].get("ssrc"), "codec": name,
                 "transport": transport}
        self.producers[producer.id] = entry
        # Decoded here (VP9, simulcast layers) or by aiortc's receiver (the rest).
        decode_here = producer.kind == "video" and (name == "vp9" or len(encodings) > 1)
        packet_level = self.options.relay == "packet"

        def send_pli(layer=None):
            ssrcs = [e.get("ssrc") for e in encodings] if layer is None else [encodings[layer].get("ssrc")]
            for ssrc in ssrcs:
                if ssrc is not None:
                    asyncio.ensure_future(self._send_rtcp(transport, rtcp_pli(ssrc, entry.get("rtcp_ssrc", 1))))
        entry["pli"] = send_pli

        source = None
        if packet_level or decode_here:
            source = forwarding.Source(producer.kind, name, media_codec["clockRate"])
            source.keyframe_requester = send_pli
            source.layer_ssrcs = [e.get("ssrc") for e in encodings]
            source.rates = bandwidth.LayerRates(len(encodings))
            source.temporal_layers = temporal_layers(encodings[0].get("scalabilityMode"))
            if packet_level:
                entry["source"] = source
        layers = []
        if decode_here:
            counters["layers"] = []
            sink = ProducerSink(counters, on_report=source.sender_report_received)
            transport.dtls._rtp_router.register_receiver(sink, ssrcs=[e["ssrc"] for e in encodings if "ssrc" in e],
                                                         payload_types=[])
            entry["sink"] = sink
            for index, encoding in enumerate(encodings):
                layer_counters = {}
                counters["layers"].append(layer_counters)
                layers.append(LayerDecoder(name, encoding.get("ssrc"), layer_counters))
        rtx_types = {c["payloadType"] for c in params["codecs"] if c["mimeType"].lower().endswith("/rtx")}
        feedback_id = bandwidth.producer_uses_feedback(params)
        if feedback_id is not None and transport.feedback is None:
            # as mediasoup: the first producer with transport-cc makes the transport send feedback
            transport.feedback = bandwidth.ProducerFeedback(transport.dtls, feedback_id, transport.connected)
            transport.dtls.rtp_observer = transport.feedback.observe
        capture_id = next((e["id"] for e in params.get("headerExtensions", []) if e.get("uri") == forwarding.ABS_CAPTURE_TIME_URI), None)

        def make_tap(layer, rtx):
            def tap(data):
                try:
                    payload_type, marker, seq, ts, ssrc, offset, end = rtp_util.parse_header(data)
                except Exception:
                    return (), decode_here
                if offset >= end:
                    return (), True   # padding only (probing)
                if source is not None and not rtx:
                    source.rates.add(layer, len(data))
                payload = data[offset:end]
                if rtx:
                    if payload_type not in rtx_types or len(payload) < 3:
                        return (), decode_here
                    seq = int.from_bytes(payload[0:2], "big")
                    payload = payload[2:]
                if decode_here:
                    counters["packets"] += 1
                    counters["bytes"] += len(payload)
                    layers[layer].packet(seq, ts, marker, payload)
                    top = counters["layers"][-1] if len(layers) > 1 else counters["layers"][0]
                    for key in ("frames_decoded", "width", "height"):
                        counters[key] = top[key]
                if source is None or not source.consumers:
                    return (), decode_here
                keyframe = producer.kind == "audio" or rtp_util.keyframe_start(name, payload)
                capture_time = rtp_util.header_extension_element(data, capture_id) if capture_id else None
                return source.fan_out(layer, seq, ts, marker, payload, keyframe, capture_time=capture_time), decode_here
            return tap

        for index, encoding in enumerate(encodings):
            if "ssrc" in encoding:
                transport.dtls.taps[encoding["ssrc"]] = make_tap(index, False)
            if "rtx" in encoding and encoding["rtx"].get("ssrc") is not None:
                transport.dtls.taps[encoding["rtx"]["ssrc"]] = make_tap(index, True)
        entry["taps"] = [e.get("ssrc") for e in encodings] + [e.get("rtx", {}).get("ssrc") for e in encodings]

        if decode_here:
            entry["rtcp_ssrc"] = random.randint(1, 2**32 - 1)
            return

        receiver = CountingReceiver(producer.kind, transport.dtls, counters)
        # In ORTC use (no RTCPeerConnection) the remote track and the receiver's own RTCP SSRC
        # are ours to set; without the SSRC aiortc sends no RR, NACK or PLI.
        receiver._track = RemoteStreamTrack(kind=producer.kind)
        receiver._set_rtcp_ssrc(random.randint(1, 2**32 - 1))
        entry["receiver"] = receiver
        encoding = encodings[0]

        async def run():
            try:
                await receive()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("producer %s: receiving failed", producer.id)

        async def receive():
            await transport.connected.wait()
            await receiver.receive(RTCRtpReceiveParameters(
                codecs=codecs,
                headerExtensions=[RTCRtpHeaderExtensionParameters(id=e["id"], uri=e["uri"]) for e in params.get("headerExtensions", [])],
                encodings=[RTCRtpDecodingParameters(ssrc=encoding["ssrc"], payloadType=codecs[0].payloadType,
                                                    rtx=RTCRtpRtxParameters(ssrc=encoding["rtx"]["ssrc"]) if "rtx" in encoding else None)],
                muxId=params.get("mid", ""),
                rtcp=RTCRtcpParameters(cname=params.get("rtcp", {}).get("cname"), mux=True)))
            while True:
                frame = await receiver.track.recv()
                counters["frames_decoded"] += 1
                if producer.kind == "video":
                    counters["width"], counters["height"] = frame.width, frame.height
                else:
                    samples = frame.to_ndarray().astype(np.float64) / 32768.0
                    rms = float(np.sqrt(np.mean(samples ** 2))) if samples.size else 0.0
                    counters["audio_rms_dbfs"] = round(20 * np.log10(rms), 1) if rms > 0 else -120.0
        entry["task"] = asyncio.ensure_future(run())

    async def _send_rtcp(self, transport, data):
        try:
            await transport.dtls._send_rtp(data)
        except Exception:
            pass

    async def request_key_frames(self):
        """Sends a PLI for every video producer, as a consumer's resume would upstream."""
        count = 0
        for entry in self.producers.values():
            if entry["kind"] == "video" and not entry.get("closed"):
                if "receiver" in entry:
                    await entry["receiver"]._send_rtcp_pli(entry["ssrc"])
                else:
                    entry["pli"]()
                count += 1
        return count

    async def remove_producer(self, producer):
        entry = self.producers.get(producer.id)
        if entry is None:
            return
        for ssrc in entry.get("taps", []):
            entry["transport"].dtls.taps.pop(ssrc, None)
        if "sink" in entry:
            entry["transport"].dtls._rtp_router.unregister_receiver(entry["sink"])
        if "task" in entry:
            entry["task"].cancel()
            await entry["receiver"].stop()
        entry["closed"] = True
        replay_source = self.replays.pop(producer.id, None)
        if replay_source is not None:
            replay_source.stop()

    async def close_transport(self, transport_id):
        transport = self.transports.get(transport_id)
        if transport is not None:
            transport.closed = True
            await transport.close()

    async def collect_stats(self):
        # A snapshot: consumers come and go while getStats() awaits.
        for entry in list(self.consumers.values()):
            sender = entry.get("sender")
            if sender is None or not entry.get("started"):
                continue
            await self.collect_entry_stats(entry)

    async def collect_entry_stats(self, entry):
        stats = await entry["sender"].getStats()
        for s in stats.values():
            if s.type == "outbound-rtp":
                entry["counters"]["packets_sent"] = s.packetsSent
                entry["counters"]["bytes_sent"] = s.bytesSent
        track = entry["track"]
        if hasattr(track, "frames_sent"):
            entry["counters"]["frames_sent"] = track.frames_sent

    def report(self):
        return {
            "transports": {tid: t.report() for tid, t in list(self.transports.items())},
            "consumers": {cid: dict(e["counters"], kind=e["kind"], producer_id=e["producer_id"], mode=e.get("mode"),
                                    **({"target_layer": e["packet"].target_layer}
                                       if "packet" in e and e["packet"].target_layer is not None else {}))
                          for cid, e in list(self.consumers.items())},
            "producers": {pid: {k: v for k, v in dict(e["counters"], kind=e["kind"],
                                                      **({"layer_bitrates": e["source"].rates.report()}
                                                         if getattr(e.get("source"), "rates", None) else {})).items()
                                if k != "barcodes"}
                          for pid, e in list(self.producers.items())},
            "replays": {pid: {"codec": r.codec, "loops": r.loops, "keyframe_requests": r.keyframe_requests,
                              "frames_played": r.frames_played,
                              "consumers": len(r.consumers), "loop_frames": r.loop.frames,
                              "loop_keyframes": r.loop.keyframes}
                        for pid, r in list(self.replays.items())},
        }
