"""Packet-level media, the way an SFU forwards: a Source hands RTP packets (already decrypted) to
its PacketConsumers, each of which rewrites SSRC, payload type, sequence number and timestamp
into its own continuous space and protects the packet with its transport's SRTP.

Sources are a client's producer (unprotected once by the producer transport's DTLS, see
TapDtlsTransport in media.py) or a ReplaySource looping pre-encoded packets (replay.py).
A consumer starts, and switches simulcast layers, only at a key frame; its PLI/FIR go back to
the source (throttled); its NACKs are answered from its own history (RTX when negotiated) as
mediasoup's RtpStreamSend answers them (a packet at most once per round trip, none too old);
it sends a sender report and SDES every second."""

import asyncio
import logging
import random
import struct
import time

from aiortc.rtp import RtcpPsfbPacket, RtcpRrPacket, RtcpRtpfbPacket, RtcpSrPacket

from .simulcast_switch import SimulcastSwitch

log = logging.getLogger("roomserver.forwarding")

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
# Forwarded untouched, as mediasoup does (only its id is the consumer's): the capture time
# the producer stamped, from which receivers measure end-to-end delay.
ABS_CAPTURE_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
# Stamped at send time with the transport's own counter when the transport estimates bandwidth
# (bandwidth.py), as mediasoup does.
WIDE_SEQ_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
HISTORY = 1024
NTP_EPOCH = 2208988800
# mediasoup's RtpStreamSend: a packet already resent within the last round trip is not resent
# again (the RTT from the receiver's reports, 100 ms until one gives it), and the retransmission
# buffer keeps no packet older than 2 s (video) or 1 s (audio) behind the newest timestamp.
DEFAULT_RTT_MS = 100.0
MAX_RETRANSMISSION_DELAY_MS = {"video": 2000, "audio": 1000}


def now_ms():
    return time.monotonic() * 1000.0


def ntp_now():
    now = time.time() + NTP_EPOCH
    return (int(now) << 32) | int((now % 1) * (1 << 32))


class PacketConsumer:
    """One consumer: the receiving side of an SFU's rewrite."""

    def __init__(self, dtls, params, kind, clock_rate, counters, layer=None):
        self.dtls = dtls
        self.kind = kind
        self.clock_rate = clock_rate
        self.counters = counters
        codecs = params["codecs"]
        self.payload_type = codecs[0]["payloadType"]
        rtx = next((c for c in codecs[1:] if c["mimeType"].lower().endswith("/rtx")), None)
        self.rtx_payload_type = rtx["payloadType"] if rtx else None
        encoding = params["encodings"][0]
        self.ssrc = encoding["ssrc"]
        self.rtx_ssrc = encoding.get("rtx", {}).get("ssrc")
        self.cname = params.get("rtcp", {}).get("cname", "roomserver")
        ext = {e["uri"]: e["id"] for e in params.get("headerExtensions", [])}
        self.extension = b""
        mid = params.get("mid")
        self.abs_id = ext.get(ABS_SEND_TIME_URI)
        self.capture_id = ext.get(ABS_CAPTURE_TIME_URI)
        self.wide_id = ext.get(WIDE_SEQ_URI)
        if MID_URI in ext and mid is not None:
            m = str(mid).encode()
            self.extension += bytes([(ext[MID_URI] << 4) | (len(m) - 1)]) + m
        self.target_layer = layer   # simulcast: the layer wanted
        self.layer = None           # the layer being forwarded (None until the first key frame)
        self.switch = None          # simulcast: how layers are switched (made when the source is known)
        self.seq_offset = None
        self.ts_offset = None
        self.last_out_ts = None
        self.last_out_seq = None
        self.last_send = None
        self.history = {}           # out seq % HISTORY -> [seq, ts, marker, payload, capture time, resent at ms]
        self.rtt_ms = None          # from the receiver's reports (LSR/DLSR), None until one gives it
        self.rtx_seq = random.randint(0, 0xFFFF)
        self.started = False        # the transport is connected
        self.paused = False
        self.packets = 0
        self.octets = 0
        self.source = None
        self.closed = False

    # -- RTP ------------------------------------------------------------------------------

    def _header(self, payload_type, marker, seq, ts, ssrc, capture_time=None):
        ext = self.extension
        if self.abs_id is not None:
            ext = ext + bytes([(self.abs_id << 4) | 2]) + ((ntp_now() >> 14) & 0xFFFFFF).to_bytes(3, "big")
        if self.capture_id is not None and capture_time is not None and 1 <= len(capture_time) <= 16:
            ext = ext + bytes([(self.capture_id << 4) | (len(capture_time) - 1)]) + capture_time
        if ext:
            padded = ext + b"\x00" * (-len(ext) % 4)
            return struct.pack("!BBHIIHH", 0x90, (0x80 if marker else 0) | payload_type, seq, ts, ssrc,
                               0xBEDE, len(padded) // 4) + padded
        return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type, seq, ts, ssrc)

    def forward(self, layer, seq, ts, marker, payload, keyframe, frame_start, capture_time=None):
        """A source packet (layer, its seq/ts); returns the coroutine that sends it, or None."""
        if not self.started or self.paused or self.closed or self.target_layer == -1:
            return None
        if self.switch is not None:
            result = self.switch.process(layer, seq, ts, marker, payload, keyframe)
            if result is None:
                return None
            out_seq, out_ts, payload = result
            self.layer = self.switch.current
            return self._emit(out_seq, out_ts, marker, payload, capture_time)
        if self.layer != layer:
            # start, or switch to the target layer, at a key frame only
            if not keyframe or (self.target_layer is not None and layer != self.target_layer):
                return None
            # (Re)start here: new offsets so that the consumer's sequence and timestamps go on.
            if self.last_out_seq is None:
                out_seq, out_ts = random.randint(0, 0xFFFF), random.randint(0, 0xFFFFFFFF)
            else:
                out_seq = (self.last_out_seq + 1) & 0xFFFF
                elapsed = time.monotonic() - self.last_send
                out_ts = (self.last_out_ts + max(1, int(elapsed * self.clock_rate))) & 0xFFFFFFFF
            self.seq_offset = (out_seq - seq) & 0xFFFF
            self.ts_offset = (out_ts - ts) & 0xFFFFFFFF
            self.layer = layer
            if self.target_layer is not None:
                self.counters["layer"] = layer
            self.counters["layer_switches"] = self.counters.get("layer_switches", 0) + 1
        return self._emit((seq + self.seq_offset) & 0xFFFF, (ts + self.ts_offset) & 0xFFFFFFFF, marker, payload,
                          capture_time)

    def want_layer(self, layer):
        """Simulcast: switch to this layer (at its next key frame, asked for now), even when it
        is the target already (a fixed layer set again asks for a key frame again)."""
        self.target_layer = layer
        if self.switch is not None:
            self.switch.want(layer)
        elif self.source is not None:
            self.source.request_keyframe(layer)

    def _emit(self, out_seq, out_ts, marker, payload, capture_time):
        data = self._header(self.payload_type, marker, out_seq, out_ts, self.ssrc, capture_time) + payload
        self.history[out_seq % HISTORY] = [out_seq, out_ts, marker, payload, capture_time, None]
        if self.last_out_seq is None or ((out_seq - self.last_out_seq) & 0xFFFF) < 0x8000:
            self.last_out_seq = out_seq
            self.last_out_ts = out_ts
            self.last_send = time.monotonic()
        self.packets += 1
        self.octets += len(payload)
        self.counters["packets_sent"] += 1
        self.counters["bytes_sent"] += len(payload)
        if self.kind == "audio" or marker:
            self.counters["frames_sent"] += 1
        return self._send(data)

    def set_target_layer(self, layer):
        """The estimate's choice (bandwidth.Distributor): the simulcast layer this consumer should
        move to, made by the switch (simulcast_switch.py); -1: none (nothing is forwarded; a
        later layer starts at a key frame)."""
        if layer == self.target_layer:
            return
        if layer == -1:
            self.target_layer = layer
            self.layer = None
            if self.switch is not None:
                self.switch.stop()
        else:
            self.want_layer(layer)

    async def _send(self, data):
        bandwidth = getattr(self.dtls, "bandwidth", None)
        if bandwidth is not None:
            data = bandwidth.stamp(data, self.wide_id)
        try:
            await self.dtls._send_rtp(data)
        except ConnectionError:
            pass
        except Exception:
            log.exception("consumer %s: send failed", self.ssrc)

    async def retransmit(self, seq):
        entry = self.history.get(seq % HISTORY)
        if entry is None or entry[0] != seq:
            return
        out_seq, out_ts, marker, payload, capture_time, resent_at = entry
        at = now_ms()
        if resent_at is not None and at - resent_at <= (self.rtt_ms or DEFAULT_RTT_MS):
            # already on its way again: a NACK repeated before the resend could arrive
            self.counters["retransmissions_skipped"] = self.counters.get("retransmissions_skipped", 0) + 1
            return
        behind = (self.last_out_ts - out_ts) & 0xFFFFFFFF if self.last_out_ts is not None else 0
        if behind < 0x80000000 and behind * 1000 // self.clock_rate > MAX_RETRANSMISSION_DELAY_MS.get(self.kind, 2000):
            self.counters["retransmissions_too_old"] = self.counters.get("retransmissions_too_old", 0) + 1
            return
        entry[5] = at
        if self.rtx_payload_type is not None and self.rtx_ssrc is not None:
            data = self._header(self.rtx_payload_type, marker, self.rtx_seq, out_ts, self.rtx_ssrc, capture_time) + \
                struct.pack("!H", out_seq) + payload
            self.rtx_seq = (self.rtx_seq + 1) & 0xFFFF
        else:
            data = self._header(self.payload_type, marker, out_seq, out_ts, self.ssrc, capture_time) + payload
        self.counters["retransmitted"] = self.counters.get("retransmitted", 0) + 1
        await self._send(data)

    # -- RTCP -----------------------------------------------------------------------------

    def sender_report(self):
        """SR + SDES for this consumer (the RTP time of now, from the last packet sent)."""
        if self.last_send is None:
            return None
        rtp = (self.last_out_ts + int((time.monotonic() - self.last_send) * self.clock_rate)) & 0xFFFFFFFF
        sr = struct.pack("!BBHIQIII", 0x80, 200, 6, self.ssrc, ntp_now(), rtp, self.packets & 0xFFFFFFFF,
                         self.octets & 0xFFFFFFFF)
        cname = self.cname.encode()[:255]
        chunk = struct.pack("!IBB", self.ssrc, 1, len(cname)) + cname + b"\x00"
        chunk += b"\x00" * (-len(chunk) % 4)
        sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
        return sr + sdes

    async def _handle_rtcp_packet(self, packet):
        """RTCP routed to this consumer's SSRC by the transport (aiortc's RtpRouter)."""
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == self.ssrc:
                    self.counters["rr_received"] += 1
                    self.counters["rr_highest_seq"] = report.highest_sequence
                    self.counters["rr_fraction_lost"] = report.fraction_lost
                    self._round_trip(report.lsr, report.dlsr)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (1, 4):
            self.counters["pli_received" if packet.fmt == 1 else "fir_received"] = \
                self.counters.get("pli_received" if packet.fmt == 1 else "fir_received", 0) + 1
            if self.source is not None:
                self.source.request_keyframe(self.layer if self.layer is not None else self.target_layer)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == 15 and len(packet.fci) >= 8 and packet.fci[:4] == b"REMB":
            fci = packet.fci
            bitrate = (((fci[5] & 0x03) << 16) | (fci[6] << 8) | fci[7]) << (fci[5] >> 2)
            self.counters["remb_received"] = self.counters.get("remb_received", 0) + 1
            self.counters["remb_bitrate"] = bitrate
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == 1:
            self.counters["nack_received"] += 1
            for seq in packet.lost:
                await self.retransmit(seq)

    def _round_trip(self, lsr, dlsr):
        """The RTT a report gives (mediasoup's way: compact NTP now - DLSR - LSR, in 1/65536 s),
        when it echoes one of this consumer's sender reports."""
        if not lsr or not dlsr:
            return
        compact_now = (ntp_now() >> 16) & 0xFFFFFFFF
        rtt = (compact_now - dlsr - lsr) & 0xFFFFFFFF
        if rtt >= 0x80000000:
            return                  # the clocks disagree: no figure
        self.rtt_ms = rtt * 1000.0 / 65536
        self.counters["rtt_ms"] = round(self.rtt_ms, 1)

    def _handle_disconnect(self):
        pass


class Source:
    """What a producer hands to its consumers, one layer per consumer."""

    def __init__(self, kind, codec, clock_rate):
        self.kind = kind
        self.codec = codec
        self.clock_rate = clock_rate
        self.consumers = []
        self.keyframe_requester = None   # callable(layer) for client producers
        self.last_request = {}
        self.layer_ssrcs = []
        self.temporal_layers = 1         # of each encoding (its scalabilityMode), as the producer said
        self.reports = {}                # layer -> (NTP ms, RTP timestamp) of its last SR

    def add(self, consumer):
        consumer.source = self
        self.consumers.append(consumer)
        if consumer.target_layer is not None and self.kind == "video":
            # simulcast: switched as mediasoup's SimulcastConsumer does (simulcast_switch.py)
            consumer.switch = SimulcastSwitch(self, self.clock_rate, self.codec, self.temporal_layers,
                                              random.randint(1000, 0x7FFF), consumer.counters)
            consumer.switch.want(consumer.target_layer)
        self.request_keyframe(consumer.target_layer)

    def sender_report_received(self, ssrc, ntp, rtp):
        """A producer's SR: its NTP <-> RTP pair per layer, which simulcast switches map through."""
        if ssrc not in self.layer_ssrcs:
            return
        layer = self.layer_ssrcs.index(ssrc)
        first = layer not in self.reports
        self.reports[layer] = ((ntp >> 32) * 1000 + ((ntp & 0xFFFFFFFF) * 1000 >> 32), rtp)
        if first:
            for consumer in self.consumers:
                if consumer.switch is not None:
                    consumer.switch.reconsider()

    def sender_report(self, layer):
        return self.reports.get(layer)

    def remove(self, consumer):
        consumer.closed = True
        if consumer in self.consumers:
            self.consumers.remove(consumer)

    def request_keyframe(self, layer=None):
        if self.keyframe_requester is None:
            return
        now = time.monotonic()
        if now - self.last_request.get(layer, 0) < 0.3:
            return
        self.last_request[layer] = now
        self.keyframe_requester(layer)

    def fan_out(self, layer, seq, ts, marker, payload, keyframe, frame_start=True, capture_time=None):
        sends = []
        for consumer in self.consumers:
            send = consumer.forward(layer, seq, ts, marker, payload, keyframe, frame_start, capture_time)
            if send is not None:
                sends.append(send)
        return sends


class ReplaySource(Source):
    """A loop of pre-encoded packets played out in real time (one task per source, whatever the
    number of consumers). Replay cannot make a key frame when asked: a PLI is counted and
    answered by the next key frame of the loop (every 2 s)."""

    def __init__(self, loop, gate=None):
        super().__init__("audio" if loop.codec == "opus" else "video", loop.codec, loop.clock_rate)
        self.loop = loop
        self.gate = gate
        self.keyframe_requests = 0
        self.task = None
        self.loops = 0
        self.frames_played = 0  # frames (video) or packets (audio) handed to the consumers

    def request_keyframe(self, layer=None):
        self.keyframe_requests += 1

    def start(self):
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())

    def stop(self):
        if self.task is not None:
            self.task.cancel()

    async def _run(self):
        loop = self.loop
        packets = loop.packets
        seq = random.randint(0, 0xFFFF)
        base_ts = random.randint(0, 0xFFFFFFFF)
        start = time.monotonic()
        offset = 0          # RTP ticks played before this pass of the loop
        index = 0
        paused_at = None
        try:
            while True:
                if self.gate is not None and not self.gate.is_set():
                    paused_at = time.monotonic()
                    await self.gate.wait()
                    # go on from where it stopped, without a burst; consumers wait for a key frame
                    start += time.monotonic() - paused_at
                    for consumer in self.consumers:
                        consumer.layer = None
                        if consumer.switch is not None:
                            consumer.switch.resync()
                packet = packets[index]
                due = start + (offset + packet.ts) / loop.clock_rate
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                # every packet of this frame (same timestamp) at once
                ts = packet.ts
                sends = []
                while index < len(packets) and packets[index].ts == ts:
                    p = packets[index]
                    sends += self.fan_out(0, seq, (base_ts + offset + p.ts) & 0xFFFFFFFF, p.marker, p.payload, p.keyframe)
                    seq = (seq + 1) & 0xFFFF
                    index += 1
                self.frames_played += 1
                for send in sends:
                    await send
                if index == len(packets):
                    index = 0
                    offset += loop.duration
                    self.loops += 1
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("replay %s failed", loop.codec)


class RtcpTicker:
    """One task sends every packet-level consumer's SR + SDES once a second."""

    def __init__(self):
        self.consumers = set()
        self.task = None

    def add(self, consumer):
        self.consumers.add(consumer)
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())

    def discard(self, consumer):
        self.consumers.discard(consumer)

    async def _run(self):
        while True:
            await asyncio.sleep(1.0)
            for consumer in list(self.consumers):
                if consumer.closed or not consumer.started:
                    continue
                report = consumer.sender_report()
                if report is not None:
                    try:
                        await consumer.dtls._send_rtp(report)
                    except Exception:
                        pass
