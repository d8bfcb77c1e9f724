"""mediasoup's consume-side ORTC rules, enough to answer `consume` like a 3.14 router."""

import json
import os
import random
import uuid

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def router_rtp_capabilities():
    with open(os.path.join(FIXTURES, "router-rtp-capabilities.json")) as f:
        return json.load(f)


class ConsumeError(Exception):
    pass


def _matches(router_codec, cap_codec):
    if router_codec["mimeType"].lower() != cap_codec.get("mimeType", "").lower():
        return False
    if router_codec["clockRate"] != cap_codec.get("clockRate"):
        return False
    if router_codec["kind"] == "audio" and router_codec.get("channels", 1) != cap_codec.get("channels", 1):
        return False
    return True


def consumer_rtp_parameters(router_caps, kind, rtp_capabilities, mid):
    """What a mediasoup router answers for a simple consumer: router payload types, feedback
    reduced to what the client supports, header extensions only where the client's uri *and*
    preferredId match the router's, ssrc chosen by the router, RTX ssrc + 1 for video."""
    if not isinstance(rtp_capabilities, dict) or not isinstance(rtp_capabilities.get("codecs"), list):
        raise ConsumeError("invalid rtpCapabilities")
    codecs = []
    for router_codec in router_caps["codecs"]:
        if router_codec["kind"] != kind or router_codec["mimeType"].lower().endswith("/rtx"):
            continue
        client = next((c for c in rtp_capabilities["codecs"] if _matches(router_codec, c)), None)
        if client is None:
            continue
        if client.get("preferredPayloadType") != router_codec["preferredPayloadType"]:
            raise ConsumeError("payload type mismatch for %s" % router_codec["mimeType"])
        feedback = [fb for fb in router_codec.get("rtcpFeedback", [])
                    if {"type": fb["type"], "parameter": fb.get("parameter", "")} in
                    [{"type": c["type"], "parameter": c.get("parameter", "")} for c in client.get("rtcpFeedback", [])]]
        codecs.append({
            "mimeType": router_codec["mimeType"], "payloadType": router_codec["preferredPayloadType"],
            "clockRate": router_codec["clockRate"], **({"channels": router_codec["channels"]} if kind == "audio" else {}),
            "parameters": router_codec.get("parameters", {}), "rtcpFeedback": feedback,
        })
        rtx = next((c for c in router_caps["codecs"] if c["mimeType"].lower().endswith("/rtx")
                    and c["parameters"].get("apt") == router_codec["preferredPayloadType"]), None)
        client_rtx = next((c for c in rtp_capabilities["codecs"] if c.get("mimeType", "").lower().endswith("/rtx")
                           and c.get("parameters", {}).get("apt") == router_codec["preferredPayloadType"]), None)
        if rtx and client_rtx:
            codecs.append({"mimeType": rtx["mimeType"], "payloadType": rtx["preferredPayloadType"],
                           "clockRate": rtx["clockRate"], "parameters": rtx["parameters"], "rtcpFeedback": []})
        break
    if not codecs:
        raise ConsumeError("cannot consume: no matching codec")
    extensions = []
    client_exts = rtp_capabilities.get("headerExtensions", [])
    for ext in router_caps["headerExtensions"]:
        if ext["kind"] != kind or ext["direction"] not in ("sendrecv", "sendonly"):
            continue
        if any(c.get("uri") == ext["uri"] and c.get("preferredId") == ext["preferredId"]
               and c.get("kind", kind) == kind for c in client_exts):
            extensions.append({"uri": ext["uri"], "id": ext["preferredId"], "encrypt": False, "parameters": {}})
    ssrc = random.randint(100_000_000, 900_000_000)
    encoding = {"ssrc": ssrc}
    if len(codecs) > 1:
        encoding["rtx"] = {"ssrc": ssrc + 1}
    return {
        "codecs": codecs, "headerExtensions": extensions, "encodings": [encoding],
        "rtcp": {"cname": str(uuid.uuid4()), "reducedSize": True}, "mid": mid,
    }


def check_produce(router_caps, kind, params):
    """mediasoup's produce checks: every codec matches a router codec, RTX only for a router
    RTX, a MID when the single encoding has no ssrc/rid, and only known header-extension URIs."""
    codecs = params.get("codecs")
    if not isinstance(codecs, list) or not codecs:
        return "missing codecs"
    router_codecs = [c for c in router_caps["codecs"] if c["kind"] == kind]
    for codec in codecs:
        if not isinstance(codec, dict) or not isinstance(codec.get("payloadType"), int):
            return "invalid codec"
        if codec.get("mimeType", "").lower().endswith("/rtx"):
            if not any(c["mimeType"].lower().endswith("/rtx") for c in router_codecs):
                return "unsupported RTX codec"
            continue
        if not any(_matches(rc, codec) for rc in router_codecs if not rc["mimeType"].lower().endswith("/rtx")):
            return "unsupported codec [mimeType:%s, payloadType:%s]" % (codec.get("mimeType"), codec.get("payloadType"))
    known = {e["uri"] for e in router_caps["headerExtensions"]}
    for ext in params.get("headerExtensions", []):
        if ext.get("uri") not in known:
            return "unknown header extension %s" % ext.get("uri")
    encodings = params.get("encodings") or []
    if not encodings:
        return "missing encodings"
    if len(encodings) == 1 and "ssrc" not in encodings[0] and "rid" not in encodings[0] and not params.get("mid"):
        return "mid required"
    return None
