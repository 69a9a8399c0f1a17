"""Audio detection: recordings are found by header or by their statistics, and nothing else is."""

from __future__ import annotations

import io
import random
import struct
import wave

import numpy as np
import pytest

from brewbench.bench.verify.audio import AudioInfo, sniff_audio
from brewbench.fixtures.speech import spoken_wav

ORDER = "a latte for Ada Canary on floor seven"


def _wav(samples: bytes, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples)
    return out.getvalue()


def _tone(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def test_spoken_wav_is_speech_with_its_rate_and_length() -> None:
    info = sniff_audio(spoken_wav(ORDER))
    assert info is not None
    assert (info.format, info.sample_rate, info.speech) == ("wav", 22050, True)
    assert info.duration_s is not None and 1.0 < info.duration_s < 6.0


def test_headerless_chunks_of_speech_are_audio() -> None:
    pcm = spoken_wav(ORDER)[44:]
    chunks = [pcm[i:i + 4096] for i in range(0, len(pcm) - 4096, 4096)]
    found = [sniff_audio(chunk) for chunk in chunks]
    assert sum(info is not None and info.format == "pcm16" for info in found) > len(chunks) // 2


def test_a_tone_is_audio_but_not_speech() -> None:
    assert sniff_audio(_wav(_tone())) == AudioInfo("wav", 16000, 1.0, False)
    pcm = sniff_audio(_tone())
    assert pcm is not None and pcm.format == "pcm16" and pcm.speech is False


@pytest.mark.parametrize(("head", "expected"), [
    (b"OggS\x00\x02" + bytes(22) + b"\x01\x13OpusHead", "ogg/opus"),
    (b"#!AMR\n", "amr"),
    (b"#!AMR-WB\n", "amr-wb"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
])
def test_containers_are_known_by_their_headers(head: bytes, expected: str) -> None:
    info = sniff_audio(head + bytes(2000))
    assert info is not None and info.format == expected


def test_flac_streaminfo_gives_rate_and_length() -> None:
    info = (16000 << 44) | (0 << 41) | (15 << 36) | 32000  # mono, 16 bit, 2 s
    head = b"fLaC" + b"\x80\x00\x00\x22" + bytes(10) + info.to_bytes(8, "big")
    assert sniff_audio(head + bytes(2000)) == AudioInfo("flac", 16000, 2.0)


def test_chained_mp3_frames_without_id3_are_audio() -> None:
    frame = b"\xff\xfb\x90\x00" + bytes(413)  # 128 kbit/s at 44.1 kHz: 417 bytes a frame
    assert sniff_audio(b"junk" + frame * 4) == AudioInfo("mp3")


def test_random_bytes_text_and_frames_are_not_audio() -> None:
    rng = random.Random(18)
    for _ in range(300):
        assert sniff_audio(rng.randbytes(rng.randrange(1024, 9000))) is None
    assert sniff_audio(b"order 7: latte strength 4 for floor 7\n" * 60) is None
    assert sniff_audio(struct.pack("<2000H", *range(2000))) is None  # a counter
    assert sniff_audio(bytes(4096)) is None  # silence says nothing
    assert sniff_audio(_tone()[:1000]) is None  # too short to tell
    assert sniff_audio("RIFF....WAVE" * 200) is None  # text, not bytes
