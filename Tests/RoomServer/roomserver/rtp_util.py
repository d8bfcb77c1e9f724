"""RTP at the byte level: header fields, payload offsets, key-frame starts (VP8, VP9, H264), and a
VP9 depacketizer (RFC 9628) that reassembles frames for PyAV's decoder."""

import struct


def parse_header(data):
    """(payload_type, marker, seq, ts, ssrc, payload_offset, payload_end) of an RTP packet."""
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
    offset = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
    end = len(data)
    if b0 & 0x20:
        end -= data[-1]
    return b1 & 0x7F, bool(b1 & 0x80), seq, ts, ssrc, offset, end


def header_extension_element(data, element_id):
    """The data of header-extension element `element_id` (RFC 8285, one-byte or two-byte
    form) of an RTP packet, or None."""
    b0 = data[0]
    if not b0 & 0x10:
        return None
    start = 12 + 4 * (b0 & 0x0F)
    if len(data) < start + 4:
        return None
    profile = int.from_bytes(data[start:start + 2], "big")
    end = min(len(data), start + 4 + 4 * int.from_bytes(data[start + 2:start + 4], "big"))
    i = start + 4
    one_byte = profile == 0xBEDE
    if not one_byte and profile & 0xFFF0 != 0x1000:
        return None
    while i < end:
        if data[i] == 0:
            i += 1  # padding
            continue
        if one_byte:
            found, length, i = data[i] >> 4, (data[i] & 0x0F) + 1, i + 1
            if found == 15:
                return None
        else:
            if i + 1 >= end:
                return None
            found, length, i = data[i], data[i + 1], i + 2
        if i + length > end:
            return None
        if found == element_id:
            return bytes(data[i:i + length])
        i += length
    return None


def vp8_descriptor_length(payload):
    """Length of the VP8 payload descriptor (RFC 7741)."""
    if not payload:
        return 0
    n = 1
    if payload[0] & 0x80:
        x = payload[1]
        n = 2
        if x & 0x80:  # I
            n += 2 if payload[n] & 0x80 else 1
        if x & 0x40:  # L
            n += 1
        if x & 0x30:  # T or K
            n += 1
    return n


def vp9_descriptor_length(payload):
    """Length of the VP9 payload descriptor (RFC 9628), scalability structure included."""
    b = payload[0]
    n = 1
    if b & 0x80:  # I: picture ID
        n += 2 if payload[n] & 0x80 else 1
    if b & 0x20:  # L: layer indices
        n += 1
        if not b & 0x10:  # non-flexible: TL0PICIDX
            n += 1
    if b & 0x10 and b & 0x40:  # F and P: reference indices
        while True:
            r = payload[n]
            n += 1
            if not r & 0x01:
                break
    if b & 0x02:  # V: scalability structure
        ss = payload[n]
        n += 1
        spatial = (ss >> 5) + 1
        if ss & 0x10:
            n += 4 * spatial
        if ss & 0x08:
            groups = payload[n]
            n += 1
            for _ in range(groups):
                refs = (payload[n] >> 2) & 0x03
                n += 1 + refs
    return n


def keyframe_start(codec, payload):
    """True when this payload is the first packet of a key frame."""
    try:
        if codec == "vp8":
            if not payload or not payload[0] & 0x10 or payload[0] & 0x07:  # S and partition 0
                return False
            n = vp8_descriptor_length(payload)
            return not payload[n] & 0x01
        if codec == "vp9":
            if not payload or not payload[0] & 0x08:  # B
                return False
            if payload[0] & 0x20:
                at = 1 + ((2 if payload[1] & 0x80 else 1) if payload[0] & 0x80 else 0)
                if (payload[at] >> 1) & 0x07:  # a spatial layer above 0
                    return False
            return vp9_frame_is_key(payload[vp9_descriptor_length(payload):])
        if codec == "h264":
            return h264_has_keyframe(payload)
    except IndexError:
        return False
    return True


def vp9_frame_is_key(frame):
    """From the uncompressed header: frame_marker, profile, show_existing_frame, frame_type."""
    if not frame:
        return False
    b = frame[0]
    if b >> 6 != 2:
        return False
    profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1)
    bit = 3 if profile < 3 else 2  # profile 3 has a reserved zero bit
    show_existing = (b >> bit) & 1
    if show_existing:
        return False
    return not (b >> (bit - 1)) & 1


def h264_has_keyframe(payload):
    nal = payload[0] & 0x1F
    if nal in (5, 7):
        return True
    if nal == 24:  # STAP-A
        n = 1
        while n + 2 < len(payload):
            size = int.from_bytes(payload[n:n + 2], "big")
            if payload[n + 2] & 0x1F in (5, 7):
                return True
            n += 2 + size
        return False
    if nal == 28:  # FU-A, start fragment
        return bool(payload[1] & 0x80) and payload[1] & 0x1F in (5, 7)
    return False


class FrameAssembler:
    """Collects the packets of one frame (same timestamp, contiguous sequence numbers, ends at
    the marker bit) and hands out the frame's payloads; frames with holes are dropped."""

    def __init__(self):
        self.ts = None
        self.parts = []
        self.expected = None
        self.broken = False
        self.dropped = 0

    def add(self, seq, ts, marker, payload):
        if ts != self.ts:
            if self.parts:
                self.dropped += 1
            self.ts, self.parts, self.broken = ts, [], False
        elif self.expected is not None and seq != self.expected:
            self.broken = True
        self.expected = (seq + 1) & 0xFFFF
        self.parts.append(payload)
        if marker:
            parts, broken = self.parts, self.broken
            self.parts = []
            self.ts = None
            if broken:
                self.dropped += 1
                return None
            return parts
        return None


def vp9_depacketize(parts):
    """The VP9 frame carried by these payloads (descriptors stripped); None if it does not start
    with B or end with E."""
    if not parts[0] or not parts[0][0] & 0x08 or not parts[-1][0] & 0x04:
        return None
    return b"".join(p[vp9_descriptor_length(p):] for p in parts)


def vp8_depacketize(parts):
    if not parts[0] or not parts[0][0] & 0x10:
        return None
    return b"".join(p[vp8_descriptor_length(p):] for p in parts)
