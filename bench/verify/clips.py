"""Clips: recordings put back together from emissions, and decoded to samples.

A machine rarely sends a clip in one piece: WAV pages in records, bare PCM in
events, Ogg pages in notifications. Values of one field on one channel and
direction (as the hunter joins them) are joined in arrival order when any of
them is audio (bench.verify.audio); a value that opens a container (WAV, FLAC,
Ogg, AMR, MP3 header) starts a new clip. Headerless PCM takes its rate from a
``rate`` field beside it in the same message, else 16 kHz.

Decoding: WAV with the standard library, bare PCM as 16-bit little-endian,
everything else (FLAC, Ogg Vorbis/Opus, MP3) with ``soundfile`` (libsndfile).
No length a container claims is trusted: at most ``max_seconds`` of samples
(``MAX_CLIP_S`` unless the caller says) are decoded, across all channels, and
what was left is said in ``Decoded.cut``. A rate outside 1-384 kHz or more than
``_MAX_CHANNELS`` channels is a clip that does not decode.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .audio import AudioInfo, sniff_audio, sounds_like_speech
from .emissions import Emission

__all__ = ["MAX_CLIP_S", "Clip", "ClipError", "Decoded", "clips", "decode", "decode_bounded",
           "is_speech"]

MAX_CLIP_S = 120.0  # seconds decoded of one clip unless the caller asks for fewer
_MAX_CHANNELS = 16
_RATES = (1000, 384000)
_PCM_RATE = 16000
_HEAD_BYTES = 4096  # joined pieces enough to show a container's header
_HEADERS = (b"RIFF", b"fLaC", b"OggS", b"#!AMR", b"ID3")


class ClipError(ValueError):
    """A clip the bench cannot decode (a format libsndfile does not read, a cut header)."""


@dataclass(frozen=True)
class Clip:
    """One recording: where it travelled, which emissions hold it, and its bytes."""

    channel: str
    direction: str
    path: str
    action: str
    entry: int
    emissions: tuple[int, ...]
    data: bytes
    info: AudioInfo
    rate: int | None = None  # a rate sent beside headerless PCM

    def describe(self) -> str:
        split = f" in {len(self.emissions)} pieces" if len(self.emissions) > 1 else ""
        return f"{self.info.format} in {self.path} on {self.channel}{split}"


def clips(found: Sequence[Emission]) -> list[Clip]:
    """Every clip among ``found``, reassembled across frames, in order of its first piece."""
    streams: dict[tuple[str, str, str], list[int]] = {}
    for index, emission in enumerate(found):
        if isinstance(emission.value, bytes | bytearray):
            streams.setdefault((emission.channel, emission.direction, emission.path), []).append(index)
    out: list[Clip] = []
    for members in streams.values():
        if any(_is_sound(found[i].value) for i in members) or _joined_head(found, members):
            out.extend(_split(found, members))
    return sorted(out, key=lambda clip: clip.emissions[0])


def _is_sound(value: bytes) -> bool:
    info = sniff_audio(value)
    return info is not None and info.samples


def _joined_head(found: Sequence[Emission], members: list[int]) -> bool:
    """Pieces too small to tell alone (Ogg pages in 512-byte notifications) that open
    a container once the first few are joined."""
    head = bytearray()
    for index in members[:64]:
        head += found[index].value
        if len(head) >= _HEAD_BYTES:
            break
    return len(head) > len(found[members[0]].value) and _is_sound(bytes(head))


def _split(found: Sequence[Emission], members: list[int]) -> list[Clip]:
    groups: list[list[int]] = []
    for index in members:
        if not groups or _opens_clip(bytes(found[index].value[:6])):
            groups.append([])
        groups[-1].append(index)
    out = []
    for group in groups:
        data = b"".join(bytes(found[i].value) for i in group)
        info = sniff_audio(data)
        if info is not None and info.samples:
            head = found[group[0]]
            out.append(Clip(head.channel, head.direction, head.path, head.action, head.entry,
                            tuple(group), data, info, _rate_beside(found, group[0])))
    return out


def _opens_clip(head: bytes) -> bool:
    """A container header; of Ogg pages only a stream's first (flag 0x02) opens a clip."""
    if head.startswith(b"OggS"):
        return len(head) > 5 and bool(head[5] & 0x02)
    return head.startswith(_HEADERS)


def _rate_beside(found: Sequence[Emission], index: int) -> int | None:
    """A ``rate`` leaf of the same message (``EVENT.rate`` beside ``EVENT.pcm``)."""
    emission = found[index]
    wanted = emission.path.rpartition(".")[0] + ".rate"
    for other in found[max(0, index - 16):index + 16]:
        if (other.entry == emission.entry and other.path == wanted
                and isinstance(other.value, int) and 4000 <= other.value <= 192000):
            return other.value
    return None


@dataclass(frozen=True)
class Decoded:
    """A clip's samples (mono) and rate, and what of it was left undecoded ("" if nothing)."""

    samples: np.ndarray
    rate: int
    cut: str = ""

    @property
    def seconds(self) -> float:
        return self.samples.size / self.rate


def decode(clip: Clip) -> tuple[np.ndarray, int]:
    """Mono samples and rate of ``clip``, at most ``MAX_CLIP_S`` of them.

    Raises:
        ClipError: the bytes do not decode as the format they claim.
    """
    decoded = decode_bounded(clip)
    return decoded.samples, decoded.rate


def decode_bounded(clip: Clip, max_seconds: float = MAX_CLIP_S) -> Decoded:
    """At most ``max_seconds`` of ``clip`` decoded, whatever its header claims.

    Raises:
        ClipError: the bytes do not decode as the format they claim.
    """
    if clip.info.format == "pcm16":
        return _pcm(clip.data, clip.rate or _PCM_RATE, max_seconds)
    if clip.info.format == "wav":
        try:
            return _wav(clip.data, max_seconds)
        except (wave.Error, EOFError, ValueError):
            pass  # float or compressed WAV: libsndfile reads those
    return _soundfile(clip, max_seconds)


def _pcm(data: bytes, rate: int, max_seconds: float) -> Decoded:
    usable = len(data) // 2
    kept = min(usable, int(max_seconds * rate))
    cut = _cut_note(usable / rate, kept / rate) if kept < usable else ""
    return Decoded(np.frombuffer(data, dtype="<i2", count=kept), rate, cut)


def _wav(data: bytes, max_seconds: float) -> Decoded:
    with wave.open(io.BytesIO(data)) as reader:
        rate, channels = reader.getframerate(), reader.getnchannels()
        if reader.getsampwidth() != 2:
            raise ValueError("not 16-bit")
        _check_shape(rate, channels)
        claimed = reader.getnframes()
        wanted = min(claimed, int(max_seconds * rate) // channels)
        frames = reader.readframes(wanted)
        left = claimed > wanted and bool(reader.readframes(1))
    samples = np.frombuffer(frames[:len(frames) // (2 * channels) * 2 * channels], dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return Decoded(samples, rate, _cut_note(claimed / rate, wanted / rate) if left else "")


def _soundfile(clip: Clip, max_seconds: float) -> Decoded:
    import soundfile  # libsndfile: FLAC, Ogg Vorbis/Opus, MP3

    try:
        with soundfile.SoundFile(io.BytesIO(clip.data)) as source:
            rate, channels = int(source.samplerate), int(source.channels)
            _check_shape(rate, channels)
            wanted = int(max_seconds * rate) // channels
            blocks, broke = _blocks(source, wanted, rate)
            claimed = source.frames
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError, MemoryError) as exc:
        raise ClipError(f"{clip.info.format} clip does not decode: {exc}") from exc
    kept = sum(block.shape[0] for block in blocks)
    if not kept:
        raise ClipError(f"{clip.info.format} clip does not decode: {broke or 'no samples'}")
    samples = np.concatenate(blocks)
    mono = samples.mean(axis=1) if channels > 1 else samples[:, 0]
    cut = (f"decoding stopped after {kept / rate:.1f} s of {claimed / rate:.0f} s claimed: {broke}"
           if broke else _cut_note(claimed / rate, kept / rate) if kept >= wanted
           and claimed > kept else "")
    return Decoded(mono, rate, cut)


def _blocks(source: Any, wanted: int, rate: int) -> tuple[list[np.ndarray], str]:
    """Blocks of about a second, until ``wanted`` frames, the end, or an error (its text)."""
    import soundfile

    blocks: list[np.ndarray] = []
    kept = 0
    while kept < wanted:
        try:  # read() never allocates beyond ``frames``, whatever the header claims
            block = source.read(frames=min(rate, wanted - kept), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            return blocks, str(exc)
        if not block.shape[0]:
            break
        blocks.append(block)
        kept += block.shape[0]
    return blocks, ""


def _check_shape(rate: int, channels: int) -> None:
    if not _RATES[0] <= rate <= _RATES[1]:
        raise ValueError(f"a rate of {rate} Hz")
    if not 1 <= channels <= _MAX_CHANNELS:
        raise ValueError(f"{channels} channels")


def _cut_note(claimed_s: float, kept_s: float) -> str:
    return f"decoded the first {kept_s:.0f} s of {claimed_s:.0f} s claimed"


def is_speech(samples: np.ndarray, rate: int) -> bool:
    """Whether decoded samples come and go like syllables (bench.verify.audio)."""
    values = np.asarray(samples, dtype=np.float64)
    if values.ndim > 1:
        values = values.mean(axis=1)
    if np.issubdtype(np.asarray(samples).dtype, np.floating):
        values = values * 32767
    return sounds_like_speech(values, rate) is True
