"""A passive ICE-TCP candidate (RFC 6544) in front of the aioice UDP candidate: RFC 4571
frames from a TCP client become datagrams to the UDP candidate, and datagrams back become
frames. aioice and aiortc stay UDP-only; the client's TCP path is real."""

import asyncio
import socket


class _Back(asyncio.DatagramProtocol):
    def __init__(self, writer):
        self.writer = writer

    def datagram_received(self, data, addr):
        if not self.writer.is_closing():
            self.writer.write(len(data).to_bytes(2, "big") + data)


class TcpRelay:
    def __init__(self, udp_target):
        self.udp_target = udp_target
        self.server = None
        self.port = None
        self.connections = 0
        self.frames = 0

    async def start(self):
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer):
        self.connections += 1
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Back(writer), local_addr=("127.0.0.1", 0),
                                                           remote_addr=self.udp_target)
        try:
            while True:
                length = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(length)
                self.frames += 1
                transport.sendto(data)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            transport.close()
            writer.close()

    def close(self):
        if self.server is not None:
            self.server.close()


def dead_udp_port():
    """A UDP port nothing listens on (bound, then closed)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
