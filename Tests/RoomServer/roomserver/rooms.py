"""Room state shared by the edge and origin servers."""

import dataclasses
import uuid


@dataclasses.dataclass
class Producer:
    id: str
    member_no: str
    kind: str
    rtp_parameters: dict = None
    virtual: bool = False
    socket_id: str = ""
    paused: bool = False
    codec: dict = None       # the router codec it maps to (consumers get this one)
    layers: int = 1          # simulcast encodings
    source: str = ""         # virtual members: "encode" (aiortc per consumer) or "replay"


@dataclasses.dataclass
class Transport:
    id: str
    sid: str
    answer: dict
    connected_dtls: dict = None
    next_mid: int = 0


@dataclasses.dataclass
class Consumer:
    id: str
    producer_id: str
    transport_id: str
    sid: str
    kind: str
    rtp_parameters: dict
    resumed: bool = False


@dataclasses.dataclass
class Member:
    sid: str
    member_no: str
    type: str
    room_id: str
    role: str


class Rooms:
    def __init__(self):
        self.rooms = {}          # room_id -> {"members": {sid: Member}, "producers": {id: Producer}}
        self.transports = {}     # id -> Transport
        self.consumers = {}      # id -> Consumer
        self.members = {}        # sid -> Member
        self.stats = {"connects": 0, "joins": 0, "requests": {}}

    def room(self, room_id):
        return self.rooms.setdefault(room_id, {"producers": {}})

    def add_virtual_member(self, room_id, member_no, kinds=("audio", "video"), paused_kinds=()):
        room = self.room(room_id)
        made = []
        for kind in kinds:
            producer = Producer(id=str(uuid.uuid4()), member_no=member_no, kind=kind, virtual=True,
                                socket_id="virtual-%s" % member_no, paused=kind in paused_kinds)
            room["producers"][producer.id] = producer
            made.append(producer)
        return made

    def peers(self, room_id):
        peers = [{"member_no": m.member_no, "type": m.type} for m in self.members.values() if m.room_id == room_id]
        virtual = sorted({p.member_no for p in self.room(room_id)["producers"].values() if p.virtual})
        peers += [{"member_no": v, "type": "producer"} for v in virtual]
        return peers

    def producers(self, room_id):
        return list(self.room(room_id)["producers"].values())
