"""A UDP relay in front of a transport's aioice candidate that drops a share of the
datagrams in each direction (seeded), to test recovery (NACK/RTX, PLI, DTLS and STUN
retransmission) against loss on the path."""

import asyncio
import random


class _ToServer(asyncio.DatagramProtocol):
    def __init__(self, relay):
        self.relay = relay

    def datagram_received(self, data, addr):
        self.relay.from_server(data)


class _FromClient(asyncio.DatagramProtocol):
    def __init__(self, relay):
        self.relay = relay

    def datagram_received(self, data, addr):
        self.relay.from_client(data, addr)


class LossyRelay:
    def __init__(self, target, loss, seed=1, reorder=0.0):
        self.target = target
        self.loss = loss
        self.reorder = reorder
        self.held = {}  # direction -> datagram waiting to go out after the next one
        self.reordered = 0
        self.random = random.Random(seed)
        self.client = None
        self.front = None
        self.back = None
        self.dropped = 0
        self.forwarded = 0

    async def start(self):
        loop = asyncio.get_running_loop()
        self.front, _ = await loop.create_datagram_endpoint(lambda: _FromClient(self), local_addr=("127.0.0.1", 0))
        self.back, _ = await loop.create_datagram_endpoint(lambda: _ToServer(self), local_addr=("127.0.0.1", 0),
                                                           remote_addr=self.target)
        self.port = self.front.get_extra_info("sockname")[1]

    def _drop(self):
        if self.random.random() < self.loss:
            self.dropped += 1
            return True
        self.forwarded += 1
        return False

    def _pass(self, direction, data, send):
        """Sends data, or holds it to send after the next datagram (reordering)."""
        if self._drop():
            return
        if direction in self.held:
            send(data)
            send(self.held.pop(direction))
            self.reordered += 1
        elif self.random.random() < self.reorder:
            self.held[direction] = data
        else:
            send(data)

    def from_client(self, data, addr):
        self.client = addr
        self._pass("up", data, self.back.sendto)

    def from_server(self, data):
        if self.client is not None:
            self._pass("down", data, lambda d: self.front.sendto(d, self.client))

    def close(self):
        for transport in (self.front, self.back):
            if transport is not None:
                transport.close()
