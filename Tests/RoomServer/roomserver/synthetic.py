"""Virtual members' media: a moving test pattern whose frame counter is drawn as a barcode,
and a tone. The barcode lets a recording be checked frame by frame: row of 24 blocks at the
top, white = 1, most significant bit first."""

import fractions
import math
import time

import numpy as np
from aiortc import AudioStreamTrack, VideoStreamTrack
from av import AudioFrame, VideoFrame

BARCODE_BITS = 24


def draw_frame(counter, width, height):
    y = np.full((height, width), 16, dtype=np.uint8)
    # a moving gradient bar, so that inter frames differ
    x = (counter * 4) % width
    y[height // 3: 2 * height // 3, :] = ((np.arange(width) + x) % 256).astype(np.uint8)
    block = max(width // BARCODE_BITS, 4)
    for bit in range(BARCODE_BITS):
        value = 235 if (counter >> (BARCODE_BITS - 1 - bit)) & 1 else 16
        y[0:block, bit * block:(bit + 1) * block] = value
    u = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    v = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(height * 3 // 2, width)


def read_barcode(luma, width):
    """The counter drawn by draw_frame, from a decoded luma plane."""
    block = max(width // BARCODE_BITS, 4)
    value = 0
    for bit in range(BARCODE_BITS):
        patch = luma[block // 4: 3 * block // 4, bit * block + block // 4:(bit + 1) * block - block // 4]
        value = (value << 1) | (1 if patch.mean() > 128 else 0)
    return value


class PatternTrack(VideoStreamTrack):
    def __init__(self, width=320, height=240, fps=15, gate=None):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.counter = 0
        self.frames_sent = 0
        self._start = None
        # A paused producer (camera off): no frames while the gate is closed.
        self.gate = gate

    async def recv(self):
        import asyncio
        if self.gate is not None and not self.gate.is_set():
            await self.gate.wait()
            self._start = time.time() - self.counter / self.fps  # resume at the frame rate, no burst
        if self._start is None:
            self._start = time.time()
        target = self._start + self.counter / self.fps
        wait = target - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = VideoFrame.from_ndarray(draw_frame(self.counter, self.width, self.height), format="yuv420p")
        frame.pts = int(self.counter * 90000 / self.fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self.counter += 1
        self.frames_sent += 1
        return frame


class ToneTrack(AudioStreamTrack):
    def __init__(self, frequency=440.0, amplitude=0.3):
        super().__init__()
        self.frequency, self.amplitude = frequency, amplitude
        self.samples = 0
        self._start = None

    async def recv(self):
        import asyncio
        rate, count = 48000, 960
        if self._start is None:
            self._start = time.time()
        wait = self._start + self.samples / rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(count) + self.samples) / rate
        samples = (np.sin(2 * math.pi * self.frequency * t) * self.amplitude * 32767).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, rate)
        self.samples += count
        return frame
