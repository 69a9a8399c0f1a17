"""What a listening firmware keeps of a spoken order (``FirmwareProfile.voice``).

- ``wav``: the clip as it was heard, a WAV file cut into record pages for its cloud;
- ``pcm``: the bare 16-bit samples without any header, streamed in events;
- ``transcript``: only the text its recogniser made of the clip, in the order record.

The emulator has no speech recogniser of its own: ``Recogniser`` is whatever turns a
clip into text for it (a bench that plays a known sentence passes that sentence's text).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from typing import Any

__all__ = ["CHUNK", "Recogniser", "clip_events", "clip_records", "hears_nothing", "samples_of"]

CHUNK = 4096  # bytes of audio per record or event: well inside one frame
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


def _pieces(data: bytes) -> list[bytes]:
    return [data[start:start + CHUNK] for start in range(0, len(data), CHUNK)]


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
