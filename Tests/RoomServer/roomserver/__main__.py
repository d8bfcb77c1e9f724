"""Run the test room server: `python -m roomserver [options]`.

Prints one JSON line on stdout once listening: {"edge": URL, "origin": URL, "control": URL}.
Binds 127.0.0.1 only; ports are free ones unless given.
"""

import argparse
import asyncio
import json
import logging
import signal
import sys

from aiohttp import web

from .rooms import Rooms
from .server import RoomServer


def parse_args(argv):
    p = argparse.ArgumentParser(prog="roomserver", description=__doc__)
    p.add_argument("--edge-port", type=int, default=0)
    p.add_argument("--origin-port", type=int, default=0)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--room", default="42", help="room the virtual members are in")
    p.add_argument("--virtual-members", type=int, default=0, help="members producing audio+video from the start")
    p.add_argument("--fault", action="append",
                   help="EVENT=error|noack|empty|garbage (consume:KIND=... for one kind), connect=refuse, fingerprint=wrong (DTLS fingerprints that do not match), "
                        "udp=blocked (the UDP candidate leads nowhere; TCP works)")
    p.add_argument("--variant", action="append",
                   help="peers-string | minimal-producers | all-producers | announce-twice (server behaviours seen in the wild)")
    p.add_argument("--event-name", action="append", help="CANONICAL=WIRE event rename")
    p.add_argument("--field-name", action="append", help="CANONICAL=WIRE field rename")
    p.add_argument("--auth-token", help="require this token in the CONNECT auth payload")
    p.add_argument("--ping-interval", type=float, default=25)
    p.add_argument("--ping-timeout", type=float, default=20)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--tls", action="store_true", help="serve wss:// with a fresh self-signed certificate (for 127.0.0.1)")
    p.add_argument("--no-media", action="store_true", help="signaling only: transport answers are shaped, nothing behind them")
    p.add_argument("--no-abs-capture-time", action="store_true",
                   help="the router does not offer the abs-capture-time header extension (no end-to-end delay)")
    p.add_argument("--consent-timeout", type=float, default=30.0, help="ICE consent timeout (mediasoup: 30 s)")
    p.add_argument("--loss", type=float, default=0.0, help="drop this share of UDP datagrams both ways (seeded relay)")
    p.add_argument("--reorder", type=float, default=0.0, help="swap this share of UDP datagrams with the next one")
    p.add_argument("--paused-video", action="append", default=[],
                   help="virtual MEMBER whose video producer starts paused (camera off; resume with /members/M/resume-video)")
    p.add_argument("--video-size", default="320x240")
    p.add_argument("--video-fps", type=int, default=15)
    p.add_argument("--router-codecs", default="default", choices=["default", "h264-vp9", "vp9-only"],
                   help="the router's rtpCapabilities: default (Opus, VP8), h264-vp9 (H264 before VP9 and VP8), "
                        "vp9-only (VP9 and no VP8); real mediasoup 3.14 answers (fixtures/)")
    p.add_argument("--virtual-member-codec", action="append", default=[],
                   help="MEMBER=vp8|vp9|h264: the video codec of a virtual member (default vp8). H264 is encoded by "
                        "aiortc per consumer; VP9 is pre-encoded RTP replayed (ffmpeg's packetizer), with Opus likewise")
    p.add_argument("--virtual-media", default="encode", choices=["encode", "replay"],
                   help="VP8 virtual members: aiortc encodes per consumer (encode), or pre-encoded VP8 + Opus RTP "
                        "are replayed to every consumer at the packet level (replay; for many consumers)")
    p.add_argument("--replay-seconds", type=int, default=30, help="length of a replayed loop")
    p.add_argument("--replay-content", default="pattern", choices=["pattern", "testsrc2"],
                   help="replayed video: the barcoded pattern (frame order checkable) or ffmpeg's busier testsrc2")
    p.add_argument("--relay", default="packet", choices=["packet", "decode"],
                   help="a client's producer reaches consumers as forwarded packets (packet, as an SFU) or decoded "
                        "and re-encoded by aiortc (decode, the old behaviour)")
    p.add_argument("--simulcast-layer", type=int, default=None,
                   help="the layer of a simulcast producer that consumers get (0 = lowest; default the highest)")
    p.add_argument("--simulcast-ramp", type=float, default=None, metavar="SECONDS",
                   help="simulcast consumers start on layer 0 and go up one layer every SECONDS (a key frame "
                        "of the new layer asked for each time), as mediasoup moves a receiver whose estimate grows; the "
                        "transports' estimates do not choose layers meanwhile")
    p.add_argument("--churn", type=float, default=0.0, metavar="SECONDS",
                   help="every SECONDS each virtual member leaves (its consumers get consumerClosed) and joins again "
                        "with new producers (newProducers): a soak of the consumer lifecycle; counted in /state stats")
    return p.parse_args(argv)


async def serve(options):
    rooms = Rooms()
    media_faults = {"fingerprint=wrong", "udp=blocked"}
    options.wrong_fingerprint = "fingerprint=wrong" in (options.fault or [])
    options.udp_blocked = "udp=blocked" in (options.fault or [])
    options.fault = [f for f in (options.fault or []) if f not in media_faults]
    options.video_width, options.video_height = (int(v) for v in options.video_size.split("x"))
    media = None
    if not options.no_media:
        from .media import MediaServer
        media = MediaServer(options)
    server = RoomServer(options, rooms=rooms, media=media)
    for n in range(options.virtual_members):
        member = str(1001 + n)
        server.add_virtual_member(options.room, member, paused_kinds=("video",) if member in options.paused_video else ())

    if media is not None:
        # the replayed loops are made (or read from the cache) before the server says it listens
        media.prepare_replay([p for room in rooms.rooms.values() for p in room["producers"].values()])

    runners = []
    tls = make_tls_context() if options.tls else None

    async def start(app, port, secure=True):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls if secure else None)
        await site.start()
        runners.append(runner)
        return site._server.sockets[0].getsockname()[1]

    edge_port = await start(server.make_app("edge"), options.edge_port)
    origin_port = await start(server.make_app("origin"), options.origin_port)

    control = web.Application()

    async def state(request):
        try:
            if media is not None:
                await media.collect_stats()
            return web.json_response(server.state())
        except Exception:
            logging.getLogger("roomserver").exception("/state failed")
            raise

    async def drop(request):
        await server.drop_all()
        return web.json_response({"dropped": True})

    async def silence(request):
        # Every transport stops answering ICE checks (media keeps flowing until consent expires).
        for transport in (media.transports.values() if media is not None else []):
            transport.gatherer._connection.silent = True
        return web.json_response({"silent": True})

    async def key_frame(request):
        sent = await media.request_key_frames() if media is not None else 0
        return web.json_response({"pli_sent": sent})

    async def member_leave(request):
        await server.virtual_leave(options.room, request.match_info["member"])
        return web.json_response({"left": request.match_info["member"]})

    async def member_join(request):
        await server.virtual_join(options.room, request.match_info["member"])
        return web.json_response({"joined": request.match_info["member"]})

    async def member_video(request):
        paused = request.match_info["action"] == "pause-video"
        changed = await server.virtual_pause(options.room, request.match_info["member"], "video", paused)
        return web.json_response({"changed": changed})

    async def outage(request):
        # The media half goes dark for N seconds (no ICE answers, no datagrams either way);
        # signaling stays up, as in a network outage on the media path.
        from .lite_ice import OUTAGE
        import time
        seconds = float(request.query.get("seconds", "40"))
        OUTAGE["until"] = time.monotonic() + seconds
        return web.json_response({"outage": seconds})

    async def simulcast_layer(request):
        # Consumers of simulcast producers move to this layer at its next key frame (asked for).
        layer = int(request.query.get("layer", "0"))
        changed = media.set_simulcast_layer(layer) if media is not None else 0
        return web.json_response({"layer": layer, "consumers": changed})

    async def browser_view(request):
        # A browser's SDP offer, answered with a consumer of a client's video producer (browser_view.py).
        from . import browser_view as views
        wanted = request.query.get("producer")
        producer = next((p for room in rooms.rooms.values() for p in room["producers"].values() if p.id == wanted), None)
        if media is None or producer is None:
            return web.json_response({"error": "no producer %s" % wanted}, status=404)
        try:
            sdp = await views.view(media, producer, (await request.json())["sdp"])
        except (views.OfferError, KeyError, ValueError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"type": "answer", "sdp": sdp})

    control.router.add_post("/view", browser_view)
    control.router.add_post("/simulcast-layer", simulcast_layer)
    control.router.add_post("/members/{member}/{action:pause-video|resume-video}", member_video)
    control.router.add_post("/outage", outage)
    control.router.add_post("/members/{member}/leave", member_leave)
    control.router.add_post("/members/{member}/join", member_join)
    control.router.add_post("/silence", silence)
    control.router.add_post("/keyframe", key_frame)
    control.router.add_get("/state", state)
    control.router.add_post("/drop", drop)
    control_port = await start(control, options.control_port, secure=False)

    churn_task = None
    if options.churn > 0:
        async def churn():
            members = [str(1001 + n) for n in range(options.virtual_members)]
            while True:
                await asyncio.sleep(options.churn)
                for member in members:
                    await server.virtual_leave(options.room, member)
                    await server.virtual_join(options.room, member)
                    if media is not None:
                        # new replayed producers need their loops (cached after the first time)
                        media.prepare_replay([p for room in rooms.rooms.values() for p in room["producers"].values()])
                rooms.stats["churns"] = rooms.stats.get("churns", 0) + 1
        churn_task = asyncio.get_running_loop().create_task(churn())

    scheme = "wss" if tls else "ws"
    print(json.dumps({"edge": "%s://127.0.0.1:%d" % (scheme, edge_port), "origin": "%s://127.0.0.1:%d" % (scheme, origin_port),
                      "control": "http://127.0.0.1:%d" % control_port, "room": options.room}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if churn_task is not None:
        churn_task.cancel()
    for runner in runners:
        await runner.cleanup()


def make_tls_context():
    """A TLS context with a self-signed certificate for 127.0.0.1 (not trusted by anyone)."""
    import datetime
    import ipaddress
    import ssl
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nacho test room server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    directory = tempfile.mkdtemp(prefix="roomserver-tls-")
    cert_path, key_path = directory + "/cert.pem", directory + "/key.pem"
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def main(argv=None):
    options = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=options.log_level.upper(), stream=sys.stderr,
                        format="roomserver %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(options))


if __name__ == "__main__":
    main()
