"""ICE-lite on aioice, the way mediasoup does it: the server never sends checks, it answers
the client's and takes the first valid one as the selected pair; consent expires when no
valid check arrives for `consent_timeout` seconds. Candidates are gathered on 127.0.0.1 only
(aioice skips loopback by default)."""

import asyncio
import time

# Test control shared by every transport: until this monotonic time the media half is "out"
# (a network outage): checks go unanswered and no datagram passes either way.
OUTAGE = {"until": 0.0}


def in_outage():
    return time.monotonic() < OUTAGE["until"]

import aioice
from aioice.candidate import Candidate
from aioice.ice import CandidatePair


class LiteConnection(aioice.Connection):
    def __init__(self, *args, consent_timeout=30.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_timeout = consent_timeout
        self.checks_received = 0
        self.silent = False  # test control: stop answering checks, like a server that went away
        self._selected = asyncio.Event()
        self._last_check = time.monotonic()

    async def gather_candidates(self):
        if not self._local_candidates_start:
            self._local_candidates_start = True
            for component in self._components:
                self._local_candidates += await self.get_component_candidates(component=component, addresses=["127.0.0.1"])
            self._local_candidates_end = True

    def request_received(self, message, addr, protocol):
        if self.silent or in_outage():
            return
        return super().request_received(message, addr, protocol)

    def data_received(self, data, component):
        if in_outage():
            return
        return super().data_received(data, component)

    async def sendto(self, data, component):
        if in_outage():
            return
        return await super().sendto(data, component)

    async def connect(self):
        # No checks of our own: wait for the client's.
        self._early_checks_done = True
        for early in self._early_checks:
            self.check_incoming(*early)
        self._early_checks.clear()
        await self._selected.wait()
        self._query_consent_task = asyncio.ensure_future(self._watch_consent())

    def check_incoming(self, message, addr, protocol):
        # Authentication already happened in request_received (USERNAME, MESSAGE-INTEGRITY).
        self.checks_received += 1
        self._last_check = time.monotonic()
        if self._nominated:
            return
        remote = Candidate(foundation="prflx", component=protocol.local_candidate.component, transport="udp",
                           priority=message.attributes.get("PRIORITY", 0), host=addr[0], port=addr[1], type="prflx")
        self._remote_candidates.append(remote)
        pair = CandidatePair(protocol, remote)
        pair.state = CandidatePair.State.SUCCEEDED
        pair.nominated = True
        self._check_list.append(pair)
        self._nominated[remote.component] = pair
        self._selected.set()

    async def _watch_consent(self):
        while True:
            await asyncio.sleep(0.5)
            if time.monotonic() - self._last_check > self.consent_timeout:
                self._query_consent_task = None
                await self.close()
                return
