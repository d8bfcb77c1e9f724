"""mediasoup's consume-side ORTC rules, enough to answer `consume` like a 3.14 router."""

import json
import os
import random
import uuid

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


ROUTER_VARIANTS = {
    "default": "router-rtp-capabilities.json",            # Opus, VP8
    "h264-vp9": "router-rtp-capabilities-h264-vp9.json",  # Opus, H264 before VP9 and VP8
    "vp9-only": "router-rtp-capabilities-vp9-only.json",  # Opus, VP9 and no VP8
}


def router_rtp_capabilities(variant="default", abs_capture_time=True):
    """A real mediasoup 3.14 router's rtpCapabilities (fixtures/); without abs-capture-time
    when asked (a router, or an older mediasoup, that does not offer it)."""
    with open(os.path.join(FIXTURES, ROUTER_VARIANTS[variant])) as f:
        caps = json.load(f)
    if not abs_capture_time:
        caps["headerExtensions"] = [e for e in caps["headerExtensions"]
                                    if e["uri"] != "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"]
    return caps


def is_rtx(codec):
    return codec.get("mimeType", "").lower().endswith("/rtx")


# H264 profiles from profile-level-id, as libwebrtc/mediasoup's h264-profile-level-id parse them:
# (profile_idc, mask on profile-iop, value) -> profile name.
_H264_PROFILES = [
    (0x42, 0x4F, 0x40, "ConstrainedBaseline"), (0x4D, 0x8F, 0x80, "ConstrainedBaseline"),
    (0x58, 0xCF, 0xC0, "ConstrainedBaseline"), (0x42, 0x4F, 0x00, "Baseline"), (0x58, 0xCF, 0x80, "Baseline"),
    (0x4D, 0xAF, 0x00, "Main"), (0x64, 0xFF, 0x00, "High"), (0x64, 0xFF, 0x0C, "ConstrainedHigh"),
    (0xF4, 0xFF, 0x00, "PredictiveHigh444"),
]


def h264_profile(parameters):
    value = str((parameters or {}).get("profile-level-id", "42e01f"))
    try:
        idc, iop = int(value[0:2], 16), int(value[2:4], 16)
        int(value[4:6], 16)
    except ValueError:
        return None
    if len(value) != 6:
        return None
    for profile_idc, mask, bits, name in _H264_PROFILES:
        if idc == profile_idc and iop & mask == bits:
            return name
    return None


def codecs_match(a, b, strict=True):
    """mediasoup's ortc matchCodecs: MIME type, clock rate, channels; for H264 the
    packetization-mode and (strict) the same profile; for VP9 (strict) the same profile-id."""
    mime = a.get("mimeType", "").lower()
    if mime != b.get("mimeType", "").lower() or a.get("clockRate") != b.get("clockRate"):
        return False
    if mime.startswith("audio/") and a.get("channels", 1) != b.get("channels", 1):
        return False
    pa, pb = a.get("parameters") or {}, b.get("parameters") or {}
    if mime == "video/h264":
        if int(pa.get("packetization-mode", 0)) != int(pb.get("packetization-mode", 0)):
            return False
        if strict and (h264_profile(pa) is None or h264_profile(pa) != h264_profile(pb)):
            return False
    if mime == "video/vp9" and strict:
        if int(pa.get("profile-id", 0)) != int(pb.get("profile-id", 0)):
            return False
    return True


def router_codec_for(router_caps, codec):
    """The router's codec that a producer's codec maps to (None if none)."""
    return next((rc for rc in router_caps["codecs"] if not is_rtx(rc) and rc["kind"] in ("audio", "video")
                 and codecs_match(rc, codec)), None)


def router_codec_named(router_caps, name):
    """The router's first codec with this name (vp8, vp9, h264, opus), for virtual members."""
    return next((rc for rc in router_caps["codecs"] if rc["mimeType"].split("/")[1].lower() == name), None)


class ConsumeError(Exception):
    pass


def consumer_rtp_parameters(router_caps, kind, rtp_capabilities, mid, producer_codec=None, layers=1):
    """What a mediasoup router answers for a consumer: the producer's codec under the router's
    payload type (the client must support it, H264 profile and VP9 profile-id included),
    feedback reduced to what the client supports, header extensions only where the client's
    uri *and* preferredId match the router's, ssrc chosen by the router, RTX ssrc + 1 for video;
    of a simulcast producer one encoding with scalabilityMode L<layers>T1."""
    if not isinstance(rtp_capabilities, dict) or not isinstance(rtp_capabilities.get("codecs"), list):
        raise ConsumeError("invalid rtpCapabilities")
    codecs = []
    for router_codec in router_caps["codecs"]:
        if router_codec["kind"] != kind or is_rtx(router_codec):
            continue
        if producer_codec is not None and router_codec is not producer_codec and \
                not (router_codec["mimeType"] == producer_codec["mimeType"]
                     and router_codec["preferredPayloadType"] == producer_codec["preferredPayloadType"]):
            continue
        client = next((c for c in rtp_capabilities["codecs"] if isinstance(c, dict) and codecs_match(router_codec, c)), None)
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
    if layers > 1:
        encoding["scalabilityMode"] = "L%dT1" % layers
    return {
        "codecs": codecs, "headerExtensions": extensions, "encodings": [encoding],
        "rtcp": {"cname": str(uuid.uuid4()), "reducedSize": True}, "mid": mid,
    }


def check_produce(router_caps, kind, params):
    """mediasoup's produce checks: every codec matches a router codec (H264 packetization-mode
    and profile, VP9 profile-id), RTX only for a router RTX and with an apt among the media
    codecs, a MID when the single encoding has no ssrc/rid, only known header-extension URIs;
    several encodings (simulcast) each with an ssrc or a rid."""
    codecs = params.get("codecs")
    if not isinstance(codecs, list) or not codecs:
        return "missing codecs"
    router_codecs = [c for c in router_caps["codecs"] if c["kind"] == kind]
    for codec in codecs:
        if not isinstance(codec, dict) or not isinstance(codec.get("payloadType"), int):
            return "invalid codec"
        if is_rtx(codec):
            if not any(is_rtx(c) for c in router_codecs):
                return "unsupported RTX codec"
            apt = (codec.get("parameters") or {}).get("apt")
            if not any(c.get("payloadType") == apt for c in codecs if isinstance(c, dict) and not is_rtx(c)):
                return "RTX codec with an apt that is no media codec"
            continue
        if not any(codecs_match(rc, codec) for rc in router_codecs if not is_rtx(rc)):
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
    if len(encodings) > 1 and any(not isinstance(e, dict) or ("ssrc" not in e and "rid" not in e) for e in encodings):
        return "simulcast encodings need an ssrc or a rid each"
    if is_rtx(codecs[0]):
        return "the first codec is RTX"
    return None
