"""How a simulcast consumer moves between a producer's layers, as strictly as mediasoup 3.14's
SimulcastConsumer does it (the decision of *which* layer is made elsewhere):

- a layer becomes the current one only at a key frame of it, after the target was set and a
  key frame of it asked for; until then the current layer goes on;
- a layer other than the first one targeted (the timestamp reference) can be targeted only once
  sender reports of both it and the reference were received: its timestamps are mapped onto the
  reference's from the two NTP <-> RTP pairs; a key frame whose mapped timestamp would not
  advance past the highest one sent gets an extra offset (a 30 fps frame later); when that
  needs more than 75 ms, the key frame is dropped and another asked for (once; then the extra
  offset is given up on);
- sequence numbers go on across a switch, one number skipped when the last packet sent did not
  end a frame; packets the consumer drops on its current layer (padding, temporal layers above
  the target) leave no hole;
- VP8 PictureID and TL0PICIDX (when a packet carries both) are rewritten to go on across a
  switch, and a packet of a temporal layer above the target (or an upgrade without the Y bit)
  is dropped."""

import logging

log = logging.getLogger("roomserver.simulcast")

MAX_SEQUENCE_GAP = 100          # packets of the new layer older than its switch key frame, watched for
EXTRA_OFFSET_FRAME_MS = 33      # the extra offset when a switch would not advance the timestamp
MAX_EXTRA_OFFSET_MS = 75


def seq_higher(a, b, bits=16):
    """a is after b in a wrapping space of 2**bits."""
    half = 1 << (bits - 1)
    diff = (a - b) & ((1 << bits) - 1)
    return diff != 0 and diff < half


class SeqManager:
    """Input numbers (one source stream at a time) to a continuous output space: `sync` makes the
    next input follow the highest output; `drop` takes an input out of the output space."""

    def __init__(self, bits, initial_output):
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.base = 0
        self.max_output = initial_output & self.mask
        self.max_input = None
        self.dropped = set()
        self.started = False

    def sync(self, input_before):
        """The input after `input_before` becomes max output + 1."""
        self.base = (self.max_output - input_before) & self.mask
        self.max_input = input_before
        self.dropped.clear()

    def drop(self, value):
        if self.max_input is None or seq_higher(value, self.max_input, self.bits):
            self.dropped.add(value)

    def input(self, value):
        """The output number, or None for a dropped input."""
        if value in self.dropped:
            return None
        # Forget drops far behind (folded into the base so later outputs do not move).
        if self.max_input is not None:
            for old in [d for d in self.dropped if not seq_higher(d, (self.max_input - (self.mask >> 2)) & self.mask, self.bits)]:
                self.dropped.discard(old)
                self.base = (self.base - 1) & self.mask
        below = sum(1 for d in self.dropped if seq_higher(value, d, self.bits))
        output = (value + self.base - below) & self.mask
        if self.max_input is None or seq_higher(value, self.max_input, self.bits):
            self.max_input = value
        if not self.started or seq_higher(output, self.max_output, self.bits):
            self.max_output = output
        self.started = True
        return output


class VP8Descriptor:
    """Where the rewritable fields of a VP8 payload descriptor (RFC 7741 §4.2) are."""

    def __init__(self, payload):
        self.picture_id = self.tl0 = self.tid = None
        self.picture_id_at = self.tl0_at = None
        self.two_byte_picture_id = False
        self.y = False
        self.valid = False
        if len(payload) < 1 or not payload[0] & 0x80:
            self.valid = len(payload) >= 1
            return
        if len(payload) < 2:
            return
        ext = payload[1]
        pos = 2
        if ext & 0x80:
            if len(payload) < pos + 1:
                return
            self.picture_id_at = pos
            if payload[pos] & 0x80:
                if len(payload) < pos + 2:
                    return
                self.picture_id = ((payload[pos] & 0x7F) << 8) | payload[pos + 1]
                self.two_byte_picture_id = True
                pos += 2
            else:
                self.picture_id = payload[pos] & 0x7F
                pos += 1
        if ext & 0x40:
            if len(payload) < pos + 1:
                return
            self.tl0_at = pos
            self.tl0 = payload[pos]
            pos += 1
        if ext & 0x30:
            if len(payload) < pos + 1:
                return
            if ext & 0x20:
                self.tid = payload[pos] >> 6
                self.y = bool(payload[pos] & 0x20)
        self.valid = True

    def rewrite(self, payload, picture_id, tl0):
        out = bytearray(payload)
        if self.two_byte_picture_id:
            out[self.picture_id_at] = 0x80 | ((picture_id >> 8) & 0x7F)
            out[self.picture_id_at + 1] = picture_id & 0xFF
        else:
            out[self.picture_id_at] = picture_id & 0x7F
        out[self.tl0_at] = tl0 & 0xFF
        return bytes(out)


class VP8Context:
    """mediasoup's VP8 EncodingContext: continuous PictureID / TL0PICIDX, temporal layer filter."""

    def __init__(self, temporal_layers):
        self.target_temporal = max(0, temporal_layers - 1)
        self.current_temporal = -1
        self.picture_ids = SeqManager(15, 0)
        self.tl0s = SeqManager(8, 0)
        self.sync_required = False

    def process(self, payload, keyframe):
        """The payload to send (rewritten), or None to drop it."""
        d = VP8Descriptor(payload)
        if not d.valid or d.picture_id is None or d.tl0 is None:
            return payload
        if self.sync_required:
            self.picture_ids.sync((d.picture_id - 1) & 0x7FFF)
            self.tl0s.sync((d.tl0 - 1) & 0xFF)
            self.sync_required = False
        if keyframe:
            self.current_temporal = 0xFF
        if d.tid is not None and (self.picture_ids.max_input is None or
                                  seq_higher(d.picture_id, self.picture_ids.max_input, 15)):
            if d.tid > self.target_temporal or (d.tid > self.current_temporal and not d.y):
                self.picture_ids.drop(d.picture_id)
                self.tl0s.drop(d.tl0)
                return None
        picture_id = self.picture_ids.input(d.picture_id)
        tl0 = self.tl0s.input(d.tl0)
        if picture_id is None or tl0 is None:
            return None
        tid = d.tid or 0
        if tid > self.current_temporal:
            self.current_temporal = tid
        elif self.current_temporal > self.target_temporal:
            self.current_temporal = self.target_temporal
        return d.rewrite(payload, picture_id, tl0)


class SimulcastSwitch:
    """One consumer's view of a simulcast producer: which layer is sent and how its packets are
    renumbered. `process` takes a source packet and returns (seq, ts, payload) to send, or None.
    `source` gives the producer's sender reports (`sender_report(layer)` -> (ntp_ms, rtp) or
    None) and asks it for key frames (`request_keyframe(layer)`)."""

    def __init__(self, source, clock_rate, codec, temporal_layers, initial_seq, counters):
        self.source = source
        self.clock_rate = clock_rate
        self.counters = counters
        self.seq = SeqManager(16, initial_seq)
        self.vp8 = VP8Context(temporal_layers) if codec == "vp8" else None
        self.wanted = None            # what the layer decision asked for
        self.target = None            # what is being switched to (None: nothing yet)
        self.current = None           # what is being sent
        self.ts_reference = None      # the layer whose timestamps are the consumer's
        self.ts_offset = 0            # output = input - offset
        self.sync_required = True
        self.keyframe_for_offset_requested = False
        self.last_marker = True
        self.max_seq_out = None
        self.max_ts_out = None
        self.sn_reference = None      # the new layer's switch key frame, for old packets after it
        for key in ("layer_switches", "switch_keyframe_requests", "ts_extra_offsets", "switch_keyframes_dropped",
                    "dropped_waiting_for_keyframe"):
            counters.setdefault(key, 0)

    # -- the decision's side -------------------------------------------------------------

    def want(self, layer):
        """Ask for a layer; it is targeted as soon as it can be (see `can_target`)."""
        self.wanted = layer
        self.reconsider()

    def can_target(self, layer):
        return (self.ts_reference is None or layer == self.ts_reference or
                (self.source.sender_report(layer) is not None and self.source.sender_report(self.ts_reference) is not None))

    def reconsider(self):
        """A sender report came, or the wanted layer changed: target it if it now can be."""
        if self.wanted is None or self.wanted == self.target or not self.can_target(self.wanted):
            return
        if self.ts_reference is None:
            self.ts_reference = self.wanted
        self.target = self.wanted
        self.counters["target_layer"] = self.target
        if self.target != self.current:
            self.counters["switch_keyframe_requests"] += 1
            self.source.request_keyframe(self.target)

    def stop(self):
        """No layer at all (mediasoup's target -1): nothing is sent until a layer is wanted again."""
        self.wanted = None
        self.counters["target_layer"] = None
        if self.target is not None:
            self.target = None
            self.current = None
            self.sync_required = True

    def resync(self):
        """The consumer starts again (transport reconnected, resumed): wait for a key frame."""
        self.sync_required = True
        self.current = None
        self.keyframe_for_offset_requested = False

    # -- the packets ---------------------------------------------------------------------

    def process(self, layer, seq, ts, marker, payload, keyframe):
        if self.target is None:
            return None
        switching = False
        if self.current != self.target and layer == self.target:
            if not keyframe:
                self.counters["dropped_waiting_for_keyframe"] += 1
                return None
            switching = True
            self.sync_required = True
        elif layer != self.current:
            return None
        if self.sync_required and not keyframe:
            return None
        if not payload:
            self.seq.drop(seq)
            return None
        if self.sync_required:
            if layer == self.ts_reference:
                offset = 0
            else:
                ntp1, ts1 = self.source.sender_report(self.ts_reference)
                ntp2, ts2 = self.source.sender_report(layer)
                diff = (ntp2 - ntp1) * self.clock_rate // 1000
                offset = ((ts2 - diff) - ts1) & 0xFFFFFFFF
            if switching and self.max_ts_out is not None:
                mapped = (ts - offset) & 0xFFFFFFFF
                if not seq_higher(mapped, self.max_ts_out, 32):
                    extra = ((self.max_ts_out - mapped) & 0xFFFFFFFF) + EXTRA_OFFSET_FRAME_MS * self.clock_rate // 1000
                    if extra > MAX_EXTRA_OFFSET_MS * self.clock_rate // 1000:
                        if self.keyframe_for_offset_requested:
                            extra = 1   # given up: the theoretical offset, one tick on
                        else:
                            # this key frame is too early for the timestamps sent: another one
                            log.info("switch to layer %s: key frame ts %d maps to %d, %d ticks behind the highest sent "
                                     "(reference %s SR %s, layer SR %s, offset %d); another key frame asked for",
                                     layer, ts, mapped, (self.max_ts_out - mapped) & 0xFFFFFFFF, self.ts_reference,
                                     self.source.sender_report(self.ts_reference), self.source.sender_report(layer), offset)
                            self.counters["switch_keyframes_dropped"] += 1
                            self.counters["switch_keyframe_requests"] += 1
                            self.source.request_keyframe(self.target)
                            self.keyframe_for_offset_requested = True
                            self.sync_required = False
                            return None
                    self.counters["ts_extra_offsets"] += 1
                    offset = (offset - extra) & 0xFFFFFFFF
            self.ts_offset = offset
            # a frame cut short on the old layer: a skipped number tells the receiver so
            self.seq.sync((seq - (1 if self.last_marker else 2)) & 0xFFFF)
            if self.vp8 is not None:
                self.vp8.sync_required = True
            self.sync_required = False
            self.keyframe_for_offset_requested = False
        elif self.sn_reference is not None:
            if seq_higher(self.sn_reference, seq):
                self.seq.drop(seq)
                return None
            if seq_higher(seq, (self.sn_reference + MAX_SEQUENCE_GAP) & 0xFFFF):
                self.sn_reference = None
        if switching:
            self.current = layer
            self.sn_reference = seq
            self.counters["layer"] = layer
            self.counters["layer_switches"] += 1
        if self.vp8 is not None:
            payload = self.vp8.process(payload, keyframe)
            if payload is None:
                self.seq.drop(seq)
                return None
        out_seq = self.seq.input(seq)
        if out_seq is None:
            return None
        out_ts = (ts - self.ts_offset) & 0xFFFFFFFF
        if self.max_seq_out is None or seq_higher(out_seq, self.max_seq_out):
            self.max_seq_out = out_seq
            self.last_marker = marker
        if self.max_ts_out is None or seq_higher(out_ts, self.max_ts_out, 32):
            self.max_ts_out = out_ts
        return out_seq, out_ts, payload
