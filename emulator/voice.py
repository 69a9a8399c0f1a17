"""What a listening firmware keeps of a spoken order (``FirmwareProfile.voice``).

- ``wav``: the clip as it was heard, a WAV file cut into record pages for its cloud;
- ``pcm``: the bare 16-bit samples without any header, streamed in events;
- ``transcript``: only the text its recogniser made of the clip, in the order record;
- ``flac``: the clip compressed to FLAC, in record pages (and sent to its cloud);
- ``opus``: the clip as Ogg/Opus at 16 kHz, streamed in small events (one BLE
  notification each), only the first of which starts with a header;
- ``room``: the clip as a cheap microphone across a room hears it (emulator/room.py:
  the telephone band, a room's echo, noise 10 dB below the voice), kept as bare
  8 kHz samples in events;
- ``opus-low``: the clip as Ogg/Opus at about 10 kbit/s, in record pages;
- ``features``: no audio, only what a voice front end computes from it: 40 bands
  of log power every 10 ms, stored as float16, in ``voice.features`` events.

Compression uses libsndfile through ``soundfile``.

The emulator has no speech recogniser of its own: ``Recogniser`` is whatever turns a
clip into text for it (a bench that plays a known sentence passes that sentence's text).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from typing import Any

__all__ = ["CHUNK", "OPUS_CHUNK", "Recogniser", "clip_events", "clip_records", "compressed",
           "feature_events", "hears_nothing", "low_rate_opus", "opus_events", "room_events",
           "samples_of"]

CHUNK = 4096  # bytes of audio per record or event: well inside one frame
OPUS_CHUNK = 512  # Ogg/Opus bytes per event: what fits a BLE notification
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
Recogniser = Callable[[bytes], str]


def hears_nothing(_clip: bytes) -> str:
    """The recogniser of a machine nobody taught: it understands no words."""
    return ""


def samples_of(clip: bytes) -> tuple[bytes, int]:
    """The sample bytes and rate of a WAV clip; anything else is taken as 16 kHz samples."""
    try:
        with wave.open(io.BytesIO(clip)) as reader:
            return reader.readframes(reader.getnframes()), reader.getframerate()
    except (wave.Error, EOFError):
        return clip, 16000


def _pieces(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[start:start + size] for start in range(0, len(data), size)]


def compressed(clip: bytes, codec: str) -> bytes:
    """The clip as a FLAC file (``flac``) or an Ogg/Opus file at 16 kHz (``opus``)."""
    import numpy as np
    import soundfile

    data, rate = samples_of(clip)
    samples = np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2")
    out = io.BytesIO()
    if codec == "flac":
        soundfile.write(out, samples, rate, format="FLAC", subtype="PCM_16")
        return out.getvalue()
    if rate not in _OPUS_RATES:  # Opus takes a few rates only; a voice needs 16 kHz
        from math import gcd

        from scipy.signal import resample_poly

        common = gcd(16000, rate)
        samples = resample_poly(samples.astype(np.float64), 16000 // common, rate // common)
        samples = np.clip(samples, -32768, 32767).astype("<i2")
        rate = 16000
    soundfile.write(out, samples, rate, format="OGG", subtype="OPUS")
    return out.getvalue()


def clip_records(clip: bytes, order_id: int) -> list[dict[str, Any]]:
    """The WAV file as record pages (``clip_part`` of ``clip_parts``), header in the first."""
    pieces = _pieces(clip)
    return [{"order_id": order_id, "clip_part": n, "clip_parts": len(pieces), "voice_clip": piece}
            for n, piece in enumerate(pieces, 1)]


def clip_events(clip: bytes, order_id: int) -> list[dict[str, Any]]:
    """The bare samples as ``voice.chunk`` events: no header says they are sound."""
    samples, rate = samples_of(clip)
    return [{"event": "voice.chunk", "order_id": order_id, "chunk": n, "rate": rate, "pcm": piece}
            for n, piece in enumerate(_pieces(samples), 1)]


def opus_events(clip: bytes, order_id: int) -> list[dict[str, Any]]:
    """The Ogg/Opus clip as ``voice.ogg`` events of ``OPUS_CHUNK`` bytes."""
    return [{"event": "voice.ogg", "order_id": order_id, "chunk": n, "audio": piece}
            for n, piece in enumerate(_pieces(compressed(clip, "opus"), OPUS_CHUNK), 1)]


def room_events(clip: bytes, order_id: int) -> list[dict[str, Any]]:
    """What a microphone across a room kept, as 8 kHz ``voice.chunk`` events."""
    import numpy as np

    from .room import resample, room

    data, rate = samples_of(clip)
    heard, rate = resample(*room(np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2"), rate),
                           8000)
    pcm = np.clip(heard, -32768, 32767).astype("<i2").tobytes()
    return [{"event": "voice.chunk", "order_id": order_id, "chunk": n, "rate": rate, "pcm": piece}
            for n, piece in enumerate(_pieces(pcm), 1)]


def low_rate_opus(clip: bytes) -> bytes:
    """The clip as an Ogg/Opus file at about 8 kbit/s."""
    import numpy as np
    import soundfile

    from .room import resample

    data, rate = samples_of(clip)
    samples, rate = resample(np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2"), rate, 16000)
    out = io.BytesIO()
    soundfile.write(out, np.clip(samples, -32768, 32767).astype("<i2"), rate, format="OGG",
                    subtype="OPUS", compression_level=0.99)
    return out.getvalue()


def feature_events(clip: bytes, order_id: int) -> list[dict[str, Any]]:
    """Log power in 40 even bands of 25 ms frames every 10 ms, as float16 bytes in events."""
    import numpy as np

    data, rate = samples_of(clip)
    samples = np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2").astype(np.float64)
    window, hop = rate * 25 // 1000, rate // 100
    count = max(0, 1 + (samples.size - window) // hop)
    frames = np.stack([samples[n * hop:n * hop + window] for n in range(count)])
    power = np.abs(np.fft.rfft(frames * np.hanning(window), axis=1)) ** 2
    bands = np.array_split(power, 40, axis=1)
    levels = np.log10(np.stack([band.mean(axis=1) for band in bands], axis=1) + 1.0)
    return [{"event": "voice.features", "order_id": order_id, "chunk": n, "bands": 40,
             "features": piece}
            for n, piece in enumerate(_pieces(levels.astype("<f2").tobytes()), 1)]
