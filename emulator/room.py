"""What happens to a clip between the bench's loudspeaker and a machine's store.

Each function takes mono samples on the 16-bit scale (any float dtype) and a rate
and returns samples and a rate, so they chain: ``reverb(*band_pass(samples, rate))``.
Random parts (noise, the room's echo) come from a seeded generator, so a test
or a benchmark gets the same room every time. Firmware profiles that keep a
degraded clip (emulator/voice.py) and ``benchmarks/spoken_recall.py`` use them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from math import gcd

import numpy as np

__all__ = ["PATHS", "Audio", "band_pass", "chain", "clip_hard", "codec", "mix", "noise",
           "resample", "reverb", "room"]

Audio = tuple[np.ndarray, int]


def resample(samples: np.ndarray, rate: int, to: int) -> Audio:
    """Filtered resampling (no aliasing), as a recorder at ``to`` Hz would hear it."""
    from scipy.signal import resample_poly

    if rate == to:
        return np.asarray(samples, dtype=np.float64), rate
    common = gcd(rate, to)
    return resample_poly(np.asarray(samples, dtype=np.float64), to // common, rate // common), to


def band_pass(samples: np.ndarray, rate: int, low: float = 300.0, high: float = 3400.0) -> Audio:
    """The telephone band: what a cheap microphone and speaker leave of a voice."""
    from scipy.signal import butter, sosfilt

    sos = butter(4, [low, min(high, rate / 2 * 0.95)], btype="bandpass", fs=rate, output="sos")
    return sosfilt(sos, np.asarray(samples, dtype=np.float64)), rate


def reverb(samples: np.ndarray, rate: int, rt60: float = 0.4, seed: int = 7) -> Audio:
    """A room's echo: exponentially decaying noise as the impulse response (``rt60`` s to -60 dB)."""
    from scipy.signal import fftconvolve

    length = int(rate * rt60)
    t = np.arange(length) / rate
    response = np.random.default_rng(seed).standard_normal(length) * np.exp(-6.9 * t / rt60)
    response[0] = 1.0  # the direct sound
    response /= np.sqrt((response ** 2).sum())
    return fftconvolve(np.asarray(samples, dtype=np.float64), response)[:len(samples)], rate


def noise(samples: np.ndarray, rate: int, snr_db: float = 10.0, seed: int = 11) -> Audio:
    """White noise at ``snr_db`` below the clip's speech (its loudness where it is not silent)."""
    values = np.asarray(samples, dtype=np.float64)
    power = _speech_power(values, rate)
    hiss = np.random.default_rng(seed).standard_normal(values.size)
    return values + hiss * np.sqrt(power / 10 ** (snr_db / 10)), rate


def mix(samples: np.ndarray, rate: int, other: np.ndarray, other_rate: int,
        snr_db: float = 10.0) -> Audio:
    """``other`` speech (looped to length) under the clip at ``snr_db``: a second talker."""
    values = np.asarray(samples, dtype=np.float64)
    talker, _ = resample(other, other_rate, rate)
    talker = np.resize(talker, values.size)
    scale = np.sqrt(_speech_power(values, rate) / max(_speech_power(talker, rate), 1e-9)
                    / 10 ** (snr_db / 10))
    return values + talker * scale, rate


def clip_hard(samples: np.ndarray, rate: int, ceiling: float = 0.1) -> Audio:
    """A pre-amplifier driven too hard: everything beyond ``ceiling`` of the peak is cut flat."""
    values = np.asarray(samples, dtype=np.float64)
    limit = np.abs(values).max() * ceiling
    return np.clip(values, -limit, limit) / max(ceiling, 1e-6), rate


def codec(samples: np.ndarray, rate: int, kind: str = "opus", kbps: int = 16) -> Audio:
    """Through a lossy or lossless file and back: ``opus`` (Ogg/Opus at ``kbps``) or ``flac``."""
    import soundfile

    if kind == "opus" and rate not in (8000, 12000, 16000, 24000, 48000):
        samples, rate = resample(samples, rate, 16000)
    pcm = np.clip(np.asarray(samples, dtype=np.float64), -32768, 32767).astype("<i2")
    out = io.BytesIO()
    if kind == "flac":
        soundfile.write(out, pcm, rate, format="FLAC", subtype="PCM_16")
    else:
        soundfile.write(out, pcm, rate, format="OGG", subtype="OPUS",
                        compression_level=_opus_level(kbps))
    out.seek(0)
    back, back_rate = soundfile.read(out, dtype="float64")
    return back * 32767, int(back_rate)


def room(samples: np.ndarray, rate: int, snr_db: float = 10.0) -> Audio:
    """Speaker, room and microphone: the telephone band, a room's echo, then noise."""
    return noise(*reverb(*band_pass(samples, rate)), snr_db=snr_db)


def chain(samples: np.ndarray, rate: int) -> Audio:
    """The hardest path a clip takes here: a room, then Opus at 16 kbit/s."""
    return codec(*room(samples, rate), kind="opus", kbps=16)


def _opus_level(kbps: int) -> float:
    """libsndfile sets Opus's bit rate through a compression level (0: best, 1: smallest);
    it maps 0..1 onto 256..6 kbit/s per channel, roughly linearly."""
    return float(np.clip((256 - kbps) / 250, 0.0, 1.0))


def _speech_power(values: np.ndarray, rate: int) -> float:
    """Mean power of the 20 ms frames louder than a tenth of the loudest: pauses don't count."""
    frame = max(1, rate // 50)
    count = values.size // frame
    if count == 0:
        return float((values ** 2).mean()) if values.size else 0.0
    power = (values[:count * frame].reshape(count, frame) ** 2).mean(axis=1)
    loud = power[power >= power.max() * 0.01]
    return float(loud.mean()) if loud.size else 0.0


def _as_played(samples: np.ndarray, rate: int) -> Audio:
    return np.asarray(samples, dtype=np.float64), rate


#: The paths a clip may take that need nothing but the clip, by name (tests and
#: ``benchmarks/spoken_recall.py`` run each; mixing and cutting need more than the clip).
PATHS: dict[str, Callable[[np.ndarray, int], Audio]] = {
    "as played": _as_played,
    "8 kHz": lambda s, r: resample(s, r, 8000),
    "opus 16k": lambda s, r: codec(s, r, "opus", 16),
    "flac": lambda s, r: codec(s, r, "flac"),
    "300-3400 Hz": band_pass,
    "reverb": reverb,
    "10 dB noise": lambda s, r: noise(s, r, 10),
    "5 dB noise": lambda s, r: noise(s, r, 5),
    "room": room,
    "room+opus": chain,
    "clipped": clip_hard,
}
