"""Transport-wide congestion-control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
§3.1, RTCP RTPFB FMT 15), written the way a mediasoup 3.14 worker writes it and read the way any
standard writer (libwebrtc, Pion, mediasoup) may have written it.

`Feedback` is one packet: `Feedback.parse(data)` raises ValueError on anything malformed, and
`serialize()` chooses the status chunks as mediasoup's FeedbackRtpTransportPacket does (so a
mediasoup capture parsed and serialized again gives the same bytes). `FeedbackServer` is
mediasoup's TransportCongestionControlServer in transport-cc mode: it records the transport-wide
sequence number and arrival time (in whole milliseconds, as mediasoup) of every RTP packet and
sends a feedback every 100 ms, or at once when the next packet would not fit in 1500 bytes."""

import struct

URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
NOT_RECEIVED, SMALL_DELTA, LARGE_DELTA = 0, 1, 2
FORMAT = 15
PACKET_TYPE = 205
SEND_INTERVAL = 0.1         # mediasoup's TransportCcFeedbackSendInterval
MAX_PACKET_LENGTH = 1500    # mediasoup passes RTC::MtuSize as maxRtcpPacketLen
MAX_MISSING = (1 << 13) - 1
MAX_DELTA = 0x7FFF          # in 250 us units


class Feedback:
    """One transport-cc feedback. `deltas` (one per received status, in 250 us units) are each
    relative to the previous received packet, the first to `reference_time` (64 ms units)."""

    def __init__(self, sender_ssrc, media_ssrc, base_seq, reference_time, feedback_count, statuses, deltas):
        self.sender_ssrc = sender_ssrc
        self.media_ssrc = media_ssrc
        self.base_seq = base_seq
        self.reference_time = reference_time
        self.feedback_count = feedback_count
        self.statuses = list(statuses)
        self.deltas = list(deltas)

    def __eq__(self, other):
        return isinstance(other, Feedback) and vars(self) == vars(other)

    def __repr__(self):
        return "Feedback(base=%d, count=%d, ref=%d, fb=%d, received=%d)" % (
            self.base_seq, len(self.statuses), self.reference_time, self.feedback_count, len(self.deltas))

    @classmethod
    def parse(cls, data):
        """One RTCP packet (the first of `data`); ValueError when it is not a well-formed
        transport-cc feedback."""
        if len(data) < 20:
            raise ValueError("transport-cc: shorter than its fixed part")
        if data[0] >> 6 != 2 or data[0] & 0x1F != FORMAT or data[1] != PACKET_TYPE:
            raise ValueError("transport-cc: not RTPFB FMT 15")
        length = (struct.unpack_from("!H", data, 2)[0] + 1) * 4
        if length > len(data) or length < 20:
            raise ValueError("transport-cc: announced length %d, %d bytes there" % (length, len(data)))
        end = length
        if data[0] & 0x20:
            padding = data[length - 1]
            if padding == 0 or padding > length - 20:
                raise ValueError("transport-cc: bad padding")
            end -= padding
        sender, media, base, count = struct.unpack_from("!IIHH", data, 4)
        reference = int.from_bytes(data[16:19], "big")
        if reference & 0x800000:
            reference -= 1 << 24
        feedback_count = data[19]
        offset = 20
        statuses = []
        while len(statuses) < count:
            if offset + 2 > end:
                raise ValueError("transport-cc: status chunks end early")
            chunk = struct.unpack_from("!H", data, offset)[0]
            offset += 2
            left = count - len(statuses)
            if chunk & 0x8000 == 0:
                symbol = (chunk >> 13) & 3
                if symbol == 3:
                    raise ValueError("transport-cc: reserved status symbol")
                statuses.extend([symbol] * min(chunk & 0x1FFF, left))
            elif chunk & 0x4000 == 0:
                statuses.extend((chunk >> (13 - i)) & 1 for i in range(min(14, left)))
            else:
                symbols = [(chunk >> (12 - 2 * i)) & 3 for i in range(min(7, left))]
                if 3 in symbols:
                    raise ValueError("transport-cc: reserved status symbol")
                statuses.extend(symbols)
        deltas = []
        for status in statuses:
            if status == SMALL_DELTA:
                if offset + 1 > end:
                    raise ValueError("transport-cc: receive deltas end early")
                deltas.append(data[offset])
                offset += 1
            elif status == LARGE_DELTA:
                if offset + 2 > end:
                    raise ValueError("transport-cc: receive deltas end early")
                deltas.append(struct.unpack_from("!h", data, offset)[0])
                offset += 2
        return cls(sender, media, base, reference, feedback_count, statuses, deltas)

    def results(self):
        """(transport-wide seq, arrival time in microseconds or None) per status, on the
        receiver's clock (reference time x 64 ms plus the deltas)."""
        time_us = self.reference_time * 64000
        deltas = iter(self.deltas)
        out = []
        for index, status in enumerate(self.statuses):
            seq = (self.base_seq + index) & 0xFFFF
            if status == NOT_RECEIVED:
                out.append((seq, None))
            else:
                time_us += next(deltas) * 250
                out.append((seq, time_us))
        return out

    def serialize(self):
        chunks = encode_chunks(self.statuses)
        body = b"".join(struct.pack("!H", c) for c in chunks)
        deltas = iter(self.deltas)
        for status in self.statuses:
            if status == SMALL_DELTA:
                body += bytes([next(deltas) & 0xFF])
            elif status == LARGE_DELTA:
                body += struct.pack("!h", next(deltas))
        body += b"\x00" * (-len(body) % 4)
        length = (20 + len(body)) // 4 - 1
        return struct.pack("!BBHIIHH", 0x80 | FORMAT, PACKET_TYPE, length, self.sender_ssrc, self.media_ssrc,
                           self.base_seq, len(self.statuses)) + \
            (self.reference_time & 0xFFFFFF).to_bytes(3, "big") + bytes([self.feedback_count & 0xFF]) + body


def run_length(status, count):
    return (status << 13) | (count & 0x1FFF)


def two_bit_vector(statuses):
    chunk = 0xC000
    for i, status in enumerate(statuses):
        chunk |= status << (12 - 2 * i)
    return chunk


class ChunkWriter:
    """mediasoup's chunk choice, packet by packet: statuses gather in a context of up to 7; 7
    mixed ones make a two-bit vector, a longer run of one status a run-length chunk (written
    when the status changes, a loss comes, or the packet ends). mediasoup writes no one-bit
    vectors. Its quirks are kept (a run cut by a new status leaves the context marked mixed,
    so the next 7 go out as a vector even when alike): the captures are the reference."""

    def __init__(self):
        self.chunks = []
        self.context = []
        self.current = None     # None: no status yet since the context was reset
        self.all_same = True

    def missing(self, count):
        if count <= 0:
            return
        if len(self.context) >= 7 and self.all_same:
            self.chunks.append(run_length(self.current, len(self.context)))
            self.context = []
            self.current = None
        self.current = NOT_RECEIVED
        taken = min(count, 7 - len(self.context)) if len(self.context) < 7 else 0
        self.context.extend([NOT_RECEIVED] * taken)
        if len(self.context) == 7:
            self.chunks.append(two_bit_vector(self.context))
            self.context = []
            self.current = None
        count -= taken
        if count:
            self.chunks.append(run_length(NOT_RECEIVED, count))
            self.context = []
            self.current = None

    def received(self, status):
        if len(self.context) >= 7 and self.all_same and status != self.current:
            self.chunks.append(run_length(self.current, len(self.context)))
            self.context = []
        self.context.append(status)
        self.all_same = self.current is None or (self.all_same and self.current == status)
        self.current = status
        if len(self.context) == 7 and not self.all_same:
            self.current = None
            self.chunks.append(two_bit_vector(self.context))
            self.context = []

    def finish(self):
        if self.context:
            if self.all_same:
                self.chunks.append(run_length(self.current, len(self.context)))
            else:
                self.chunks.append(two_bit_vector(self.context))
            self.context = []
        return self.chunks


def encode_chunks(statuses):
    writer = ChunkWriter()
    gap = 0
    for status in statuses:
        if status == NOT_RECEIVED:
            gap += 1
            continue
        writer.missing(gap)
        gap = 0
        writer.received(status)
    chunks = writer.finish()
    # mediasoup never ends on a loss; another writer may: the trailing run as its own chunks.
    while gap > 0:
        chunks.append(run_length(NOT_RECEIVED, min(gap, 0x1FFF)))
        gap -= min(gap, 0x1FFF)
    return chunks


class FeedbackBuilder:
    """One feedback packet being filled, as mediasoup's AddPacket does: the first packet given
    is the "pre-base" (its time, truncated to 64 ms, is the reference time; the feedback starts
    at the next sequence number); later packets at or below the highest seen are ignored."""

    SUCCESS, MAX_SIZE_EXCEEDED, FATAL = "success", "max-size", "fatal"

    def __init__(self, media_ssrc, feedback_count):
        self.media_ssrc = media_ssrc
        self.feedback_count = feedback_count & 0xFF
        self.base_seq = 0
        self.reference_time = 0
        self.highest_seq = None
        self.highest_ms = 0
        self.statuses = []
        self.deltas = []
        self.writer = ChunkWriter()
        self.size = 0            # bytes of written chunks and deltas (pending statuses not counted)

    def add(self, seq, arrival_ms, max_length=MAX_PACKET_LENGTH):
        if self.highest_seq is None:
            self.base_seq = (seq + 1) & 0xFFFF
            self.reference_time = (arrival_ms & 0x1FFFFFC0) // 64
            self.highest_seq = seq
            self.highest_ms = (arrival_ms >> 6) * 64
            return self.SUCCESS
        ahead = (seq - self.highest_seq) & 0xFFFF
        if ahead == 0 or ahead >= 0x8000:
            return self.SUCCESS
        missing = ahead - 1
        if missing > MAX_MISSING:
            return self.FATAL
        delta = (arrival_ms - self.highest_ms) * 4
        if delta > MAX_DELTA or delta < -MAX_DELTA:
            return self.FATAL
        size = 12 + 8 + self.size + len(self.writer.chunks) * 2 + 2 + 2
        if size + (-size % 4) > max_length:
            return self.MAX_SIZE_EXCEEDED
        status = SMALL_DELTA if 0 <= delta <= 255 else LARGE_DELTA
        self.writer.missing(missing)
        self.writer.received(status)
        self.statuses.extend([NOT_RECEIVED] * missing + [status])
        self.deltas.append(delta)
        self.size += 1 if status == SMALL_DELTA else 2
        self.highest_seq = seq
        self.highest_ms = max(self.highest_ms, arrival_ms)
        return self.SUCCESS

    @property
    def serializable(self):
        return bool(self.deltas)

    def feedback(self):
        return Feedback(0, self.media_ssrc, self.base_seq, self.reference_time, self.feedback_count,
                        self.statuses, self.deltas)


class FeedbackServer:
    """Per producer transport: mediasoup 3.14's TransportCongestionControlServer (transport-cc).

    `packet(seq, ssrc, now_ms)` for every RTP packet carrying the extension (RTX and probes
    too); `tick(now_ms)` every 100 ms sends what is pending. Times are whole milliseconds of
    a monotonic clock. `send(bytes)` puts one RTCP packet
    on the wire. The media SSRC written is that of the last packet received before the feedback
    packet was started (0 for the very first, as a real 3.14 worker writes it)."""

    def __init__(self, send):
        self.send = send
        self.count = 0
        self.last_ssrc = 0
        self.builder = FeedbackBuilder(0, 0)
        self.sent = 0
        self.packets = 0
        self.lost_reported = 0
        self.last = None         # the last Feedback sent, for /state

    def packet(self, seq, ssrc, now_ms):
        self.packets += 1
        self.last_ssrc = ssrc
        result = self.builder.add(seq, now_ms)
        if result == FeedbackBuilder.MAX_SIZE_EXCEEDED:
            self._send(now_ms)
            self.builder.add(seq, now_ms)
        elif result == FeedbackBuilder.FATAL:
            # start over; the count is kept since nothing was sent
            self.builder = FeedbackBuilder(self.last_ssrc, self.count)

    def tick(self, now_ms):
        self._send(now_ms)

    def _send(self, now_ms):
        builder = self.builder
        if not builder.serializable:
            return
        feedback = builder.feedback()
        self.send(feedback.serialize())
        self.sent += 1
        self.lost_reported += feedback.statuses.count(NOT_RECEIVED)
        self.last = feedback
        self.count = (self.count + 1) & 0xFF
        self.builder = FeedbackBuilder(self.last_ssrc, self.count)
        # The last sequence number reported is the next feedback's pre-base, stamped with the
        # time of sending: the reference times of the captures follow the send times, not the
        # arrival of that packet.
        self.builder.add(builder.highest_seq, now_ms)

    def report(self):
        return {"feedback_sent": self.sent, "packets_recorded": self.packets, "lost_reported": self.lost_reported,
                "feedback_count": self.count}


def read_extension(data, ext_id):
    """The transport-wide sequence number in an RTP packet's one-byte or two-byte header
    extension block (None when absent)."""
    if ext_id is None or len(data) < 12 or not data[0] & 0x10:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if offset + 4 > len(data):
        return None
    profile, words = struct.unpack_from("!HH", data, offset)
    start = offset + 4
    end = min(start + 4 * words, len(data))
    i = start
    if profile == 0xBEDE:
        while i < end:
            byte = data[i]
            if byte == 0:
                i += 1
                continue
            element_id, size = byte >> 4, (byte & 0x0F) + 1
            if element_id == 15:
                return None
            if element_id == ext_id and size == 2 and i + 3 <= end:
                return struct.unpack_from("!H", data, i + 1)[0]
            i += 1 + size
    elif profile & 0xFFF0 == 0x1000:
        while i + 2 <= end:
            element_id, size = data[i], data[i + 1]
            if element_id == 0:
                i += 1
                continue
            if element_id == ext_id and size == 2 and i + 4 <= end:
                return struct.unpack_from("!H", data, i + 2)[0]
            i += 2 + size
    return None
