"""A browser as an independent viewer: `POST /view?producer=ID` on the control port takes a
browser's SDP offer (one receive-only video m-line) and answers it with a transport of the same
kind consumers get (ICE-lite on 127.0.0.1, DTLS-SRTP: media.ServerTransport) and a packet
consumer of that producer (forwarding.PacketConsumer: SSRC, sequence numbers and timestamps
rewritten, NACKs answered from its history, PLIs passed to the producer, its own sender
reports), as mediasoup would give it to mediasoup-client. Only 127.0.0.1 candidates of the offer
are kept. The consumer shows in /state like the others (id `browser-N`)."""

import itertools
import random
import types

from . import forwarding

_ids = itertools.count(1)
EXTENSIONS = (forwarding.MID_URI, forwarding.ABS_SEND_TIME_URI, forwarding.ABS_CAPTURE_TIME_URI, forwarding.WIDE_SEQ_URI)
CODECS = {"vp8": "VP8", "vp9": "VP9"}


class OfferError(ValueError):
    pass


def parse_offer(sdp):
    """The offer's one video m-line: mid, payload types by codec, RTX types, extensions,
    ICE credentials, fingerprints, loopback candidates."""
    session, media = {"fingerprints": []}, None
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            if media is not None:
                break   # only the first m-line is viewed
            parts = line[2:].split()
            if parts[0] != "video":
                raise OfferError("the first m-line is %s, not video" % parts[0])
            media = {"rtpmap": {}, "apt": {}, "extmap": {}, "candidates": [], "fingerprints": [], "mid": None}
            continue
        target = media if media is not None else session
        if line.startswith("a=fingerprint:"):
            algorithm, value = line[len("a=fingerprint:"):].split(" ", 1)
            target["fingerprints"].append({"algorithm": algorithm.lower(), "value": value.strip()})
        elif line.startswith("a=ice-ufrag:"):
            target["ufrag"] = line.split(":", 1)[1].strip()
        elif line.startswith("a=ice-pwd:"):
            target["pwd"] = line.split(":", 1)[1].strip()
        elif media is None:
            continue
        elif line.startswith("a=mid:"):
            media["mid"] = line.split(":", 1)[1].strip()
        elif line.startswith("a=rtpmap:"):
            pt, name = line[len("a=rtpmap:"):].split(" ", 1)
            media["rtpmap"][int(pt)] = name.split("/")[0].lower()
        elif line.startswith("a=fmtp:") and "apt=" in line:
            pt, params = line[len("a=fmtp:"):].split(" ", 1)
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key == "apt":
                    media["apt"][int(value)] = int(pt)
        elif line.startswith("a=extmap:"):
            ident, uri = line[len("a=extmap:"):].split(" ", 1)
            media["extmap"][uri.strip()] = int(ident.split("/")[0])
        elif line.startswith("a=candidate:"):
            fields = line[len("a=candidate:"):].split()
            if len(fields) >= 8 and fields[2].lower() == "udp" and fields[4] == "127.0.0.1":
                media["candidates"].append(line[2:])
    if media is None:
        raise OfferError("the offer has no m-line")
    for key in ("ufrag", "pwd"):
        media.setdefault(key, session.get(key))
    media["fingerprints"] = media["fingerprints"] or session["fingerprints"]
    if media["mid"] is None or not media["fingerprints"]:
        raise OfferError("the offer has no mid or no DTLS fingerprint")
    return media


def answer_sdp(offer, transport_answer, codec, payload_type, rtx_payload_type, ssrc, rtx_ssrc, extensions, cname):
    ice, dtls = transport_answer["iceParameters"], transport_answer["dtlsParameters"]
    udp = next(c for c in transport_answer["iceCandidates"] if c["protocol"] == "udp")
    types_ = [str(payload_type)] + ([str(rtx_payload_type)] if rtx_payload_type is not None else [])
    mid = offer["mid"]
    lines = ["v=0", "o=- %d 2 IN IP4 127.0.0.1" % random.randint(1, 2**62), "s=-", "t=0 0", "a=group:BUNDLE %s" % mid,
             "a=ice-lite", "a=msid-semantic: WMS roomserver",
             "m=video %d UDP/TLS/RTP/SAVPF %s" % (udp["port"], " ".join(types_)), "c=IN IP4 127.0.0.1",
             "a=candidate:%s 1 udp %d 127.0.0.1 %d typ host" % (udp["foundation"], udp["priority"], udp["port"]),
             "a=end-of-candidates", "a=ice-ufrag:%s" % ice["usernameFragment"], "a=ice-pwd:%s" % ice["password"]]
    sha256 = next(f for f in dtls["fingerprints"] if f["algorithm"] == "sha-256")
    lines += ["a=fingerprint:sha-256 %s" % sha256["value"], "a=setup:passive", "a=mid:%s" % mid]
    lines += ["a=extmap:%d %s" % (ident, uri) for uri, ident in extensions.items()]
    lines += ["a=sendonly", "a=msid:roomserver view", "a=rtcp-mux", "a=rtcp-rsize",
              "a=rtpmap:%d %s/90000" % (payload_type, CODECS[codec]),
              "a=rtcp-fb:%d nack" % payload_type, "a=rtcp-fb:%d nack pli" % payload_type, "a=rtcp-fb:%d ccm fir" % payload_type]
    lines += ["a=rtcp-fb:%d %s" % (payload_type, feedback) for feedback in congestion_feedback(extensions)]
    if rtx_payload_type is not None:
        lines += ["a=rtpmap:%d rtx/90000" % rtx_payload_type, "a=fmtp:%d apt=%d" % (rtx_payload_type, payload_type),
                  "a=ssrc-group:FID %d %d" % (ssrc, rtx_ssrc)]
    for s in [ssrc] + ([rtx_ssrc] if rtx_payload_type is not None else []):
        lines += ["a=ssrc:%d cname:%s" % (s, cname), "a=ssrc:%d msid:roomserver view" % s]
    return "\r\n".join(lines) + "\r\n"


def congestion_feedback(extensions):
    """What the browser reports for the server's estimate of its downlink (bandwidth.py), as
    mediasoup's ortc reduces a consumer's feedback: transport-cc when the transport-wide sequence
    extension is negotiated (the consumer stamps it on every packet), else REMB with
    abs-send-time, else nothing."""
    if forwarding.WIDE_SEQ_URI in extensions:
        return ["transport-cc"]
    if forwarding.ABS_SEND_TIME_URI in extensions:
        return ["goog-remb"]
    return []


async def view(media, producer, offer_sdp):
    """Answers a browser's offer with a consumer of `producer` (a client's, forwarded at the
    packet level); returns the answer SDP."""
    entry = media.producers.get(producer.id)
    source = entry.get("source") if entry else None
    if source is None or producer.kind != "video":
        raise OfferError("producer %s is not a forwarded video producer (run with --relay packet)" % producer.id)
    if entry["codec"] not in CODECS:
        raise OfferError("a browser view of %s is not supported" % entry["codec"])
    offer = parse_offer(offer_sdp)
    if not offer["candidates"]:
        raise OfferError("the offer has no 127.0.0.1 UDP candidate")
    payload_type = next((pt for pt, name in offer["rtpmap"].items() if name == entry["codec"]), None)
    if payload_type is None:
        raise OfferError("the offer has no %s" % entry["codec"])
    rtx_payload_type = offer["apt"].get(payload_type)
    extensions = {uri: ident for uri, ident in offer["extmap"].items() if uri in EXTENSIONS}

    view_id = "browser-%d" % next(_ids)
    transport_answer = await media.create_transport(view_id, "consumer", False)
    transport = media.transports[view_id]
    ssrc, rtx_ssrc = random.randint(1, 2**32 - 1), random.randint(1, 2**32 - 1)
    cname = "roomserver-view"
    feedback = [{"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"}, {"type": "ccm", "parameter": "fir"}] + \
        [{"type": f, "parameter": ""} for f in congestion_feedback(extensions)]
    params = {"mid": offer["mid"], "rtcp": {"cname": cname},
              "codecs": [{"mimeType": "video/" + CODECS[entry["codec"]], "payloadType": payload_type, "clockRate": 90000,
                          "rtcpFeedback": feedback}]
              + ([{"mimeType": "video/rtx", "payloadType": rtx_payload_type, "clockRate": 90000}] if rtx_payload_type else []),
              "encodings": [dict({"ssrc": ssrc}, **({"rtx": {"ssrc": rtx_ssrc}} if rtx_payload_type else {}))],
              "headerExtensions": [{"uri": uri, "id": ident} for uri, ident in extensions.items()]}
    consumer = types.SimpleNamespace(id=view_id, transport_id=view_id, rtp_parameters=params)
    await media.add_packet_consumer(consumer, producer, transport, source)
    if transport.dtls.bandwidth is not None:
        # the browser has no probator m-line: SSRC 1234 would be dropped unreported (read as loss)
        transport.dtls.bandwidth.probe_on_rtx = True
    # the browser is the DTLS client (a=setup:passive here); ICE-lite waits for its checks
    await media.connect_transport(view_id, {"role": "client", "fingerprints": offer["fingerprints"]})
    return answer_sdp(offer, transport_answer, entry["codec"], payload_type, rtx_payload_type, ssrc, rtx_ssrc, extensions, cname)
