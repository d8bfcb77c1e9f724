"""The signaling half: docs/PROTOCOL.md on python-socketio, one AsyncServer per role."""

import asyncio
import json
import logging
import secrets
import uuid

import socketio
from aiohttp import web

from . import ortc
from .rooms import Consumer, Member, Producer, Rooms, Transport

log = logging.getLogger("roomserver")


class Faults:
    """Misbehaviour injected per request, to test nacho's error paths against a real server.

    error: ack {"error": ...}; noack: the handler fails and no ack is sent; empty: ack with no
    value; garbage: a malformed Socket.IO frame instead of the ack; refuse (event "connect"):
    CONNECT_ERROR.
    """

    MODES = ("error", "noack", "empty", "garbage", "refuse")

    def __init__(self, specs):
        self.by_event = {}
        for spec in specs or []:
            event, _, mode = spec.partition("=")
            if mode not in self.MODES:
                raise SystemExit("unknown fault mode %r (known: %s)" % (mode, ", ".join(self.MODES)))
            self.by_event[event] = mode

    def get(self, event):
        return self.by_event.get(event)


class Names:
    """Renamed events and fields, for deployments that differ from PROTOCOL.md's defaults."""

    def __init__(self, events=None, fields=None):
        self.events = dict(events or {})
        self.fields = dict(fields or {})
        self.fields_back = {v: k for k, v in self.fields.items()}

    def wire_event(self, name):
        return self.events.get(name, name)

    def _rename(self, value, table, depth=2):
        if isinstance(value, dict):
            return {table.get(k, k): (self._rename(v, table, depth - 1) if depth > 0 else v) for k, v in value.items()}
        if isinstance(value, list) and depth > 0:
            return [self._rename(v, table, depth - 1) for v in value]
        return value

    def inbound(self, value):
        return self._rename(value, self.fields_back) if self.fields else value

    def outbound(self, value):
        return self._rename(value, self.fields) if self.fields else value


class RoomServer:
    def __init__(self, options, rooms=None, media=None):
        self.options = options
        self.rooms = rooms or Rooms()
        self.faults = Faults(options.fault)
        self.variants = set(options.variant or [])
        self.names = Names(dict(s.split("=", 1) for s in options.event_name or []),
                           dict(s.split("=", 1) for s in options.field_name or []))
        self.router_caps = ortc.router_rtp_capabilities(getattr(options, "router_codecs", "default"),
                                                        abs_capture_time=not getattr(options, "no_abs_capture_time", False))
        self.member_codecs = dict(s.split("=", 1) for s in getattr(options, "virtual_member_codec", None) or [])
        for member, name in self.member_codecs.items():
            if name not in ("vp8", "vp9", "h264"):
                raise SystemExit("--virtual-member-codec %s=%s: vp8, vp9 or h264" % (member, name))
            if ortc.router_codec_named(self.router_caps, name) is None:
                raise SystemExit("--virtual-member-codec %s=%s: the %s router has no %s" %
                                 (member, name, getattr(options, "router_codecs", "default"), name.upper()))
        self.media = media
        self.servers = {}

    # -- setup ---------------------------------------------------------------------------

    def make_app(self, role):
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", logger=False, engineio_logger=False,
                                   ping_interval=self.options.ping_interval, ping_timeout=self.options.ping_timeout)
        app = web.Application()
        sio.attach(app)
        self.servers[role] = sio
        server = self

        @sio.event
        async def connect(sid, environ, auth=None):
            server.rooms.stats["connects"] += 1
            if server.faults.get("connect") == "refuse":
                raise socketio.exceptions.ConnectionRefusedError("injected refusal")
            if server.options.auth_token and (not isinstance(auth, dict) or auth.get("token") != server.options.auth_token):
                raise socketio.exceptions.ConnectionRefusedError("invalid auth token")
            return True

        @sio.event
        async def disconnect(sid, *args):
            await server.forget(role, sid)

        for event in ("createRoom", "join", "getRouterRtpCapabilities", "createWebRtcTransport", "connectTransport",
                      "produce", "consume", "resume", "exitRoom", "getProducers", "producerClosed"):
            sio.on(self.names.wire_event(event), self._wrap(role, event))
        return app

    def _wrap(self, role, event):
        handler = getattr(self, "on_" + event)

        async def run(sid, data=None):
            stats = self.rooms.stats["requests"]
            stats[event] = stats.get(event, 0) + 1
            fault = self.faults.get(event)
            if event == "consume" and isinstance(data, dict):
                # consume:KIND=MODE hits only consumers of that kind (one producer nacho cannot take).
                producer = self.find_producer(self.names.inbound(data).get("producerId"))
                if producer is not None:
                    fault = self.faults.get("consume:" + producer.kind) or fault
            if fault == "noack":
                # What a crashed server-side handler looks like from the client: no ack at all.
                return self_not_handled(self.servers[role])
            if fault == "error":
                return {"error": "injected failure in %s" % event}
            if fault == "empty":
                return None
            if fault == "garbage":
                sio = self.servers[role]
                eio_sid = sio.manager.eio_sid_from_sid(sid, "/")
                await sio.eio.send(eio_sid, "2[\"newProducers\", {{{ not json")
                return self_not_handled(sio)
            payload = self.names.inbound(data if data is not None else {})
            try:
                answer = await handler(role, sid, payload)
            except RequestError as error:
                return {"error": str(error)}
            return self.names.outbound(answer) if answer is not None else None

        return run

    async def emit(self, role, event, data, to):
        await self.servers[role].emit(self.names.wire_event(event), self.names.outbound(data), to=to)

    # -- requests ------------------------------------------------------------------------

    async def on_createRoom(self, role, sid, data):
        room_id = ident(data.get("room_id"))
        if room_id is None:
            raise RequestError("room_id required")
        if room_id in self.rooms.rooms:
            return "already exists"
        self.rooms.room(room_id)
        return room_id

    async def on_join(self, role, sid, data):
        room_id, member_no, kind = ident(data.get("room_id")), ident(data.get("member_no")), data.get("type")
        if room_id is None or member_no is None or kind not in ("consumer", "producer"):
            raise RequestError("join needs room_id, member_no and type consumer|producer")
        self.rooms.members[sid] = Member(sid=sid, member_no=member_no, type=kind, room_id=room_id, role=role)
        self.rooms.room(room_id)
        self.rooms.stats["joins"] += 1
        peers = self.rooms.peers(room_id)
        if "peers-string" in self.variants:
            peers = json.dumps(peers)
        return {"room_id": room_id, "peers": peers}

    async def on_getRouterRtpCapabilities(self, role, sid, data):
        self.member(sid)
        return self.router_caps

    async def on_createWebRtcTransport(self, role, sid, data):
        self.member(sid)
        transport_id = str(uuid.uuid4())
        if self.media is not None:
            answer = await self.media.create_transport(transport_id, role, bool(data.get("forceTcp")))
        else:
            answer = shaped_transport_answer(transport_id)
        self.rooms.transports[transport_id] = Transport(id=transport_id, sid=sid, answer=answer)
        return answer

    async def on_connectTransport(self, role, sid, data):
        transport = self.transport(sid, data.get("transport_id"))
        dtls = data.get("dtlsParameters")
        if not isinstance(dtls, dict) or not dtls.get("fingerprints") or dtls.get("role") not in ("client", "server", "auto"):
            raise RequestError("invalid dtlsParameters")
        if transport.connected_dtls is not None:
            raise RequestError("connect() already called")
        transport.connected_dtls = dtls
        if self.media is not None:
            await self.media.connect_transport(transport.id, dtls)
        return "success"

    async def on_produce(self, role, sid, data):
        member = self.member(sid)
        transport = self.transport(sid, data.get("producerTransportId"))
        kind = data.get("kind")
        params = data.get("rtpParameters")
        if kind not in ("audio", "video") or not isinstance(params, dict):
            raise RequestError("produce needs kind and rtpParameters")
        problem = ortc.check_produce(self.router_caps, kind, params)
        if problem:
            raise RequestError(problem)
        media_codec = next(c for c in params["codecs"] if not ortc.is_rtx(c))
        producer = Producer(id=str(uuid.uuid4()), member_no=member.member_no, kind=kind, rtp_parameters=params,
                            socket_id=sid, codec=ortc.router_codec_for(self.router_caps, media_codec),
                            layers=len(params.get("encodings") or [1]))
        self.rooms.room(member.room_id)["producers"][producer.id] = producer
        if self.media is not None:
            await self.media.add_producer(transport.id, producer)
        await self.announce(member.room_id, [producer], exclude_member=member.member_no)
        return {"producer_id": producer.id}

    async def on_consume(self, role, sid, data):
        member = self.member(sid)
        transport = self.transport(sid, data.get("consumerTransportId"))
        producer = self.rooms.room(member.room_id)["producers"].get(data.get("producerId"))
        if producer is None:
            raise RequestError("producer not found")
        try:
            params = ortc.consumer_rtp_parameters(self.router_caps, producer.kind, data.get("rtpCapabilities"),
                                                  str(transport.next_mid), producer_codec=producer.codec,
                                                  layers=producer.layers)
        except ortc.ConsumeError:
            return None  # the widely copied servers answer nothing when the router cannot consume
        transport.next_mid += 1
        consumer = Consumer(id=str(uuid.uuid4()), producer_id=producer.id, transport_id=transport.id, sid=sid,
                            kind=producer.kind, rtp_parameters=params)
        self.rooms.consumers[consumer.id] = consumer
        if self.media is not None:
            await self.media.add_consumer(consumer, producer)
        return {"id": consumer.id, "producerId": producer.id, "kind": producer.kind, "rtpParameters": params,
                "type": "simulcast" if producer.layers > 1 else "simple", "producerPaused": producer.paused}

    async def on_resume(self, role, sid, data):
        consumer = self.rooms.consumers.get(data.get("consumer_id"))
        if consumer is None or consumer.sid != sid:
            raise RequestError("consumer not found")
        consumer.resumed = True
        if self.media is not None:
            await self.media.resume_consumer(consumer)
        return "success"

    async def on_exitRoom(self, role, sid, data):
        await self.forget(role, sid)
        return "successfully exited room"

    async def on_getProducers(self, role, sid, data):
        member = self.member(sid)
        producers = self.rooms.producers(member.room_id)
        if "all-producers" not in self.variants:
            producers = [p for p in producers if p.member_no != member.member_no]
        await self.emit(role, "newProducers", [self.describe(p) for p in producers], to=sid)
        if "announce-twice" in self.variants:
            # As when a broadcast and the getProducers answer cross: the same producers again.
            await self.emit(role, "newProducers", [self.describe(p) for p in producers], to=sid)

    async def on_producerClosed(self, role, sid, data):
        member = self.member(sid)
        producer = self.rooms.room(member.room_id)["producers"].get(data.get("producer_id"))
        if producer is not None and producer.socket_id == sid:
            await self.close_producer(member.room_id, producer)

    # -- helpers -------------------------------------------------------------------------

    def find_producer(self, producer_id):
        for room in self.rooms.rooms.values():
            if producer_id in room["producers"]:
                return room["producers"][producer_id]
        return None

    def describe(self, producer):
        if "minimal-producers" in self.variants:
            return {"producer_id": producer.id, "producer_socket_id": producer.socket_id}
        return {"producer_id": producer.id, "member_no": producer.member_no, "kind": producer.kind}

    async def announce(self, room_id, producers, exclude_member=None):
        for member in list(self.rooms.members.values()):
            if member.room_id == room_id and member.role == "edge" and member.member_no != exclude_member:
                await self.emit("edge", "newProducers", [self.describe(p) for p in producers], to=member.sid)

    async def close_producer(self, room_id, producer):
        self.rooms.room(room_id)["producers"].pop(producer.id, None)
        if self.media is not None:
            await self.media.remove_producer(producer)
        for consumer in [c for c in self.rooms.consumers.values() if c.producer_id == producer.id]:
            self.rooms.consumers.pop(consumer.id, None)
            if self.media is not None:
                await self.media.remove_consumer(consumer)
            await self.emit("edge", "consumerClosed", {"consumer_id": consumer.id}, to=consumer.sid)

    async def forget(self, role, sid):
        member = self.rooms.members.pop(sid, None)
        if member is not None:
            for producer in [p for p in self.rooms.producers(member.room_id) if p.socket_id == sid]:
                await self.close_producer(member.room_id, producer)
        for consumer in [c for c in self.rooms.consumers.values() if c.sid == sid]:
            self.rooms.consumers.pop(consumer.id, None)
            if self.media is not None:
                await self.media.remove_consumer(consumer)
        for transport in [t for t in self.rooms.transports.values() if t.sid == sid]:
            self.rooms.transports.pop(transport.id, None)
            if self.media is not None:
                await self.media.close_transport(transport.id)

    def member(self, sid):
        member = self.rooms.members.get(sid)
        if member is None:
            raise RequestError("not joined")
        return member

    def transport(self, sid, transport_id):
        transport = self.rooms.transports.get(transport_id)
        if transport is None or transport.sid != sid:
            raise RequestError("transport not found")
        return transport

    def state(self):
        return {
            "stats": self.rooms.stats,
            "members": [vars(m) for m in self.rooms.members.values()],
            "router_codecs": getattr(self.options, "router_codecs", "default"),
            "producers": {rid: [{"id": p.id, "member_no": p.member_no, "kind": p.kind, "virtual": p.virtual,
                                 "codec": p.codec["mimeType"] if p.codec else None, "layers": p.layers,
                                 "source": p.source}
                                for p in room["producers"].values()] for rid, room in self.rooms.rooms.items()},
            "consumers": [{"id": c.id, "producer_id": c.producer_id, "kind": c.kind, "resumed": c.resumed}
                          for c in self.rooms.consumers.values()],
            "media": self.media.report() if self.media is not None else {},
        }

    async def virtual_leave(self, room_id, member_no):
        """A virtual member stops producing (its consumers get consumerClosed)."""
        for producer in [p for p in self.rooms.producers(room_id) if p.virtual and p.member_no == member_no]:
            await self.close_producer(room_id, producer)

    async def virtual_pause(self, room_id, member_no, kind, paused):
        """A virtual member pauses or resumes a producer (camera off/on): its consumers are told
        with consumerPaused / consumerResumed {consumer_id}, as mediasoup-based servers do."""
        changed = 0
        for producer in [p for p in self.rooms.producers(room_id) if p.virtual and p.member_no == member_no and p.kind == kind]:
            producer.paused = paused
            if self.media is not None:
                self.media.set_paused(producer, paused)
            for consumer in [c for c in self.rooms.consumers.values() if c.producer_id == producer.id]:
                await self.emit("edge", "consumerPaused" if paused else "consumerResumed", {"consumer_id": consumer.id},
                                to=consumer.sid)
            changed += 1
        return changed

    def add_virtual_member(self, room_id, member_no, paused_kinds=()):
        """A virtual member's producers, with the codec --virtual-member-codec gives it (VP8 by
        default; VP8 on a router without it: the router's first video codec)."""
        made = self.rooms.add_virtual_member(room_id, member_no, paused_kinds=paused_kinds)
        name = self.member_codecs.get(member_no, "vp8")
        if ortc.router_codec_named(self.router_caps, name) is None:
            name = next(c["mimeType"].split("/")[1].lower() for c in self.router_caps["codecs"]
                        if c["kind"] == "video" and not ortc.is_rtx(c))
        replay = getattr(self.options, "virtual_media", "encode") == "replay"
        for producer in made:
            producer.codec = ortc.router_codec_named(self.router_caps, "opus" if producer.kind == "audio" else name)
            if name == "vp9" or (replay and name == "vp8"):
                producer.source = "replay"   # pre-encoded RTP (ffmpeg), audio too
            else:
                producer.source = "encode"   # aiortc encodes per consumer (VP8, H264; Opus)
        return made

    async def virtual_join(self, room_id, member_no):
        """A virtual member (back) in the room: new producers, announced on the edge."""
        made = self.add_virtual_member(room_id, member_no)
        await self.announce(room_id, made)

    async def drop_all(self):
        for sio in self.servers.values():
            for sid in list(self.rooms.members):
                await sio.disconnect(sid)


class RequestError(Exception):
    pass


def self_not_handled(sio):
    # Returning the server's "not handled" marker suppresses the ack.
    return sio.not_handled


def ident(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, str)) and str(value):
        return str(value)
    return None


def shaped_transport_answer(transport_id):
    """A transport answer with the shape of create-webrtc-transport-answer-*.json, for runs
    without the media half (no ICE or DTLS answers behind it)."""
    fingerprint = ":".join("%02X" % b for b in secrets.token_bytes(32))
    return {
        "id": transport_id,
        "iceParameters": {"usernameFragment": secrets.token_hex(16), "password": secrets.token_hex(16), "iceLite": True},
        "iceCandidates": [{"foundation": "udpcandidate", "priority": 1076302079, "ip": "127.0.0.1",
                           "address": "127.0.0.1", "protocol": "udp", "port": 9, "type": "host"}],
        "dtlsParameters": {"fingerprints": [{"algorithm": "sha-256", "value": fingerprint}], "role": "auto"},
    }
