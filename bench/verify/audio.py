"""Audio detection: recognise a recording in any emitted bytes.

Containers are known by their headers (WAV/RIFF, Ogg, FLAC, AMR, MP3 with ID3
or two chained MPEG frames). Headerless 16-bit little-endian PCM, as a chunk
of a clip split across frames, is known by its statistics: near-zero mean,
real energy, and neighbouring samples that follow each other (sound is
smooth; random bytes, text and ordinary CBOR are not).

Bytes that pass for PCM but read as float16 numbers without a single NaN or
infinity, all of them small, are frames of features (log-mel or MFCC values
stored as float16), not samples: 16-bit speech always swings through the small
negative values that read as NaN in float16 (about 18 % of a clip). They are
``FEATURES`` ("possible voice features"), labelled voice but never decoded.

Where the samples can be read (WAV, PCM) ``speech`` says whether the loudness
comes and goes the way syllables and pauses make it: a steady tone is audio
but not speech. Everything is cheap: a value shorter than ``MIN_BYTES`` is
never audio and at most ``_MAX_SAMPLES`` samples are examined.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["FEATURES", "MIN_BYTES", "AudioInfo", "sniff_audio", "sounds_like_speech"]

MIN_BYTES = 1024  # shorter values are never called audio: too little to tell, or to hear
FEATURES = "float16 features"  # the format of possible voice features: not samples
_FEATURE_MAX = 1e3  # log-mel, MFCC and embedding values are small numbers
_MAX_SAMPLES = 1 << 16
_PCM_RATE_GUESS = 16000  # headerless PCM carries no rate; durations assume a common one
_MPEG_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG_RATES = (44100, 48000, 32000)


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the bytes are: a format, and what is known of rate, length and content."""

    format: str
    sample_rate: int | None = None
    duration_s: float | None = None
    speech: bool | None = None  # None: compressed, the bench cannot tell

    @property
    def samples(self) -> bool:
        """Whether these bytes are sound to decode (not features computed from it)."""
        return self.format != FEATURES

    def describe(self) -> str:
        """``wav 22050 Hz 2.4 s speech``: the detail a voice label carries."""
        if not self.samples:
            return "possible voice features (float16 frames)"
        parts = [self.format]
        if self.sample_rate:
            parts.append(f"{self.sample_rate} Hz")
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:.1f} s")
        if self.speech is not None:
            parts.append("speech" if self.speech else "no speech")
        return " ".join(parts)


def sniff_audio(value: object) -> AudioInfo | None:
    """The audio ``value`` holds, or None (also for anything that is not bytes)."""
    if not isinstance(value, bytes | bytearray) or len(value) < MIN_BYTES:
        return None
    data = bytes(value)
    try:
        return _by_header(data) or _by_statistics(data)
    except (struct.error, ValueError):  # a header that lies about itself is not audio
        return None


def _by_header(data: bytes) -> AudioInfo | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav(data)
    if data[:4] == b"OggS":
        codec = next((n for n in ("Opus", "vorbis", "FLAC", "Speex") if n.encode() in data[:96]),
                     "ogg")
        return AudioInfo(f"ogg/{codec.lower()}" if codec != "ogg" else "ogg")
    if data[:4] == b"fLaC":
        return _flac(data)
    if data.startswith(b"#!AMR-WB\n"):
        return AudioInfo("amr-wb", 16000)
    if data.startswith(b"#!AMR\n"):
        return AudioInfo("amr", 8000)
    if data[:3] == b"ID3" or _mpeg_chain(data):
        return AudioInfo("mp3")
    return None


def _wav(data: bytes) -> AudioInfo:
    """Walk the RIFF chunks for ``fmt `` and ``data``; a clip cut short keeps its claimed length."""
    rate = channels = width = 0
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = offset + 8
        if chunk == b"fmt ":
            _tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", data, body)
            width = bits // 8
        elif chunk == b"data":
            frames = size // max(1, channels * width)
            samples = data[body:body + size] if width == 2 and channels == 1 else b""
            return AudioInfo("wav", rate or None, frames / rate if rate else None,
                             _speech(samples, rate) if samples else None)
        offset = body + size + (size & 1)
    return AudioInfo("wav", rate or None)


def _flac(data: bytes) -> AudioInfo:
    """STREAMINFO: 20 bits of sample rate, then 36 bits of total samples."""
    info = int.from_bytes(data[18:26], "big")
    rate = info >> 44
    total = info & ((1 << 36) - 1)
    return AudioInfo("flac", rate or None, total / rate if rate and total else None)


def _mpeg_chain(data: bytes) -> bool:
    """Two MPEG-1 layer III frame headers where the first one's length says."""
    start = data.find(b"\xff")
    while 0 <= start < min(len(data), 4096) - 4:
        length = _mpeg_frame_length(data[start:start + 4])
        if length and _mpeg_frame_length(data[start + length:start + length + 4]):
            return True
        start = data.find(b"\xff", start + 1)
    return False


def _mpeg_frame_length(header: bytes) -> int:
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xFE != 0xFA:  # MPEG-1 layer III
        return 0
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if not 0 < bitrate_index < 15 or rate_index == 3:
        return 0
    padding = (header[2] >> 1) & 1
    return 144000 * _MPEG_BITRATES[bitrate_index] // _MPEG_RATES[rate_index] + padding


def _by_statistics(data: bytes) -> AudioInfo | None:
    samples = _samples(data)
    if samples.size < MIN_BYTES // 2:
        return None
    if _float16_features(data, samples.size):
        return AudioInfo(FEATURES)
    if not _sounds_like_pcm(samples):
        return None
    return AudioInfo("pcm16", None, len(data) / 2 / _PCM_RATE_GUESS,
                     _speech(data, _PCM_RATE_GUESS))


def _float16_features(data: bytes, count: int) -> bool:
    """Small, finite, varying float16 numbers that are not text (ASCII letters and
    digits read as float16 are finite too, but text is mostly printable bytes)."""
    values = np.frombuffer(data, dtype="<f2", count=count).astype(np.float64)
    if not np.isfinite(values).all() or np.abs(values).max() >= _FEATURE_MAX:
        return False
    printable = np.frombuffer(data, dtype=np.uint8, count=count * 2)
    text_like = ((printable >= 0x20) & (printable < 0x7F)).mean() > 0.9
    return bool(values.std() > 1e-3 and not text_like)


def _samples(data: bytes) -> np.ndarray:
    usable = min(len(data) // 2, _MAX_SAMPLES)
    return np.frombuffer(data, dtype="<i2", count=usable).astype(np.float64)


def _sounds_like_pcm(samples: np.ndarray) -> bool:
    """Sound swings around zero and changes little from one sample to the next."""
    spread = samples.std()
    if spread < 64:  # silence or a constant: nothing to hear
        return False
    if abs(samples.mean()) > spread / 2:  # text and counters sit far from zero
        return False
    steps = np.abs(np.diff(samples)).mean()
    return bool(steps < 0.6 * spread)  # random samples step about 1.1 spreads


def _speech(data: bytes, rate: int) -> bool | None:
    return sounds_like_speech(_samples(data), rate)


def sounds_like_speech(samples: np.ndarray, rate: int) -> bool | None:
    """Syllables and pauses: the loudness of 20 ms frames varies a lot, and some are quiet.

    ``samples`` on the 16-bit scale; None when the clip is too short to tell (a
    chunk of a longer one)."""
    frame = max(1, rate // 50)
    count = samples.size // frame
    if count < 10:
        return None
    loudness = np.sqrt((samples[:count * frame].reshape(count, frame) ** 2).mean(axis=1))
    peak = loudness.max()
    if peak <= 0:
        return False
    quiet = (loudness < 0.1 * peak).mean()
    return bool(loudness.std() / loudness.mean() > 0.5 and quiet > 0.05)
