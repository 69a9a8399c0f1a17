"""The played phrase is found in what a machine kept by matching the bench's own audio,
through the degradations a clip meets (emulator/room.py), and nothing else is found:
other names in the same voice and in other voices, silence, tones, hiss. Listening is
bounded: a clip that claims hours, a 10-minute clip and 1,000 small clips end within
the stated bounds and say what was cut."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from brewbench.bench.devices import open_device
from brewbench.bench.speech import phrase_samples
from brewbench.bench.verify.acoustic import features, score_against
from brewbench.bench.verify.audio import sniff_audio
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.clips import Clip, ClipError, Decoded, decode_bounded
from brewbench.bench.verify.emissions import Emission
from brewbench.bench.verify.listening import ListeningBudget
from brewbench.bench.verify.played import references
from brewbench.bench.verify.spoken import ACOUSTIC, hunt_spoken
from brewbench.bench.verify.verification import verify
from brewbench.drivers.records import Stamp
from brewbench.emulator import room
from brewbench.fixtures.speech import spoken_wav

ORDER = "a latte for Ada Canary on floor seven"
STAMP = Stamp(0, 0)
CANARIES = plant("7F3A9C2E")  # the owner is said as "ada canary"
OTHERS = ("grace hopper", "peter parker", "linda carter", "marie curie")
Degrade = Callable[[np.ndarray, int], room.Audio]


def _samples(wav: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav)) as reader:
        return (np.frombuffer(reader.readframes(reader.getnframes()), "<i2").astype(np.float64),
                reader.getframerate())


def _wav(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def played() -> tuple[np.ndarray, int]:
    return _samples(spoken_wav(ORDER))


@pytest.fixture(scope="module")
def owner_reference(played: tuple[np.ndarray, int]):
    refs = references(["ada canary"], [Decoded(*played)])
    assert refs.references["ada canary"].source == "played clip"  # located in what was played
    return refs.references["ada canary"].features, refs.decoys


def _name_only(samples: np.ndarray, rate: int) -> room.Audio:
    """The clip cut to the name: 0.8-1.75 s of "a latte for Ada Canary on floor seven"."""
    return samples[int(0.8 * rate):int(1.75 * rate)], rate


def _other_talker(samples: np.ndarray, rate: int) -> room.Audio:
    talk, talk_rate = _samples(spoken_wav("the weather is cloudy with rain in the evening",
                                          voice="en-us"))
    return room.mix(samples, rate, talk, talk_rate, snr_db=10)


CONDITIONS: dict[str, Degrade] = {
    **{k: v for k, v in room.PATHS.items() if k not in ("5 dB noise", "room+opus", "clipped")},
    "name only": _name_only,
    "other talker at 10 dB": _other_talker,
}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_the_played_name_is_found_through(condition: str, played, owner_reference) -> None:
    reference, decoys = owner_reference
    found = score_against(reference, decoys, features(*CONDITIONS[condition](*played)))
    assert found.heard, found
    if condition != "name only":
        assert 0.6 < found.start_s < 1.2  # "Ada Canary" follows "a latte for"


@pytest.mark.parametrize("voice", ["en", "en-us", "en+f3"])
@pytest.mark.parametrize("name", OTHERS)
def test_another_name_is_not_found(name: str, voice: str, owner_reference) -> None:
    reference, decoys = owner_reference
    for degrade in (CONDITIONS["as played"], CONDITIONS["10 dB noise"], CONDITIONS["reverb"]):
        clip = degrade(*_samples(spoken_wav(f"a latte for {name} on floor seven", voice=voice)))
        found = score_against(reference, decoys, features(*clip))
        assert not found.heard, (name, voice, found)


def test_silence_tones_and_hiss_are_not_found(owner_reference) -> None:
    reference, decoys = owner_reference
    rate = 16000
    t = np.arange(rate * 3) / rate
    rng = np.random.default_rng(5)
    sounds = {"silence": np.zeros(t.size), "tone": np.sin(2 * np.pi * 440 * t) * 8000,
              "chirp": np.sin(2 * np.pi * (200 + 600 * t) * t) * 8000,
              "hiss": rng.standard_normal(t.size) * 3000,
              "chords": sum(np.sin(2 * np.pi * f * t) for f in (262, 330, 392)) * 3000
              * (np.sin(2 * np.pi * 2 * t) > 0)}
    for name, sound in sounds.items():
        found = score_against(reference, decoys, features(sound, rate))
        assert not found.heard, (name, found)


def test_the_reference_is_the_played_audio_not_the_phrase_alone(played) -> None:
    """Said alone, the name lines up with the played clip; the reference is cut from the
    played clip at that place, so it matches the played clip almost perfectly."""
    refs = references(["ada canary"], [Decoded(*played)])
    alone = features(*phrase_samples("ada canary"))
    found = score_against(refs.references["ada canary"].features, refs.decoys, features(*played))
    assert found.score > 0.95
    assert score_against(alone, refs.decoys, features(*played)).score < found.score


def _clip(data: bytes, path: str = "RECORD.voice_clip") -> Clip:
    info = sniff_audio(data)
    assert info is not None
    return Clip("serial", "rx", path, "sync", 0, (0,), data, info)


def _lying_flac(seconds_claimed: int) -> bytes:
    """A real FLAC clip whose STREAMINFO claims ``seconds_claimed`` at 22050 Hz."""
    import soundfile

    out = io.BytesIO()
    hiss = np.random.default_rng(3).standard_normal(22050) * 3000
    soundfile.write(out, hiss.astype("<i2"), 22050, format="FLAC")
    data = bytearray(out.getvalue())
    info = int.from_bytes(data[18:26], "big")
    total = seconds_claimed * 22050
    data[18:26] = ((info >> 36 << 36) | total).to_bytes(8, "big")
    return bytes(data)


def test_a_flac_clip_that_claims_days_costs_one_line_not_the_run() -> None:
    """soundfile once tried to allocate what the header claimed (MemoryError, run lost):
    now at most the bound is decoded, or the clip is a problem of its own."""
    clip = _clip(_lying_flac(3 * 86400))
    assert clip.info.duration_s == 3 * 86400
    start = time.monotonic()
    try:
        decoded = decode_bounded(clip, 5.0)
    except ClipError as exc:
        assert "does not decode" in str(exc)
    else:
        assert decoded.seconds <= 5.0 + 1e-6
    [heard] = hunt_spoken([Emission("RECORD.voice_clip", clip.data, "RECORD", "serial", "rx",
                                    "sync", STAMP, 0)], CANARIES.canaries)
    assert heard.findings == [] and (heard.problem or heard.seconds <= 120.0)
    assert time.monotonic() - start < 30.0


def test_a_ten_minute_clip_is_cut_and_the_cut_is_said(played) -> None:
    samples, rate = played
    long = np.tile(np.concatenate([samples, np.zeros(rate)]), 600 // 4 + 1)[:600 * rate]
    emission = Emission("RECORD.voice_clip", _wav(long, rate), "RECORD", "serial", "rx", "sync",
                        STAMP, 0)
    start = time.monotonic()
    [heard] = hunt_spoken([emission], CANARIES.canaries, [Decoded(samples, rate)],
                          budget=ListeningBudget(clip_s=60.0, transcribe_clip_s=0.0))
    took = time.monotonic() - start
    assert [f.method for f in heard.findings] == [ACOUSTIC]  # the name is in the first minute
    assert heard.seconds == pytest.approx(60.0, abs=0.1)
    assert "decoded the first 60 s of 600 s claimed" in heard.cut
    assert took < 60.0  # matching costs about a hundredth of the audio's length


def test_a_thousand_small_clips_spend_the_capture_budget_and_say_so(played) -> None:
    samples, rate = played
    wav = _wav(samples[:rate // 2], rate)  # half a second each
    found = [Emission(f"RECORD.clip{n}", wav, "RECORD", "serial", "rx", "sync", STAMP, n)
             for n in range(1000)]
    start = time.monotonic()
    heard = hunt_spoken(found, CANARIES.canaries, [Decoded(samples, rate)],
                        budget=ListeningBudget(capture_s=100.0, transcribe_capture_s=2.0))
    assert time.monotonic() - start < 120.0
    assert len(heard) == 1000
    assert sum(h.seconds for h in heard) <= 100.0 + 1e-6
    refused = [h for h in heard if h.cut.startswith("not analysed")]
    assert len(refused) == 800 and all(h.seconds == 0.0 for h in refused)


@pytest.mark.parametrize(("firmware", "transport", "fmt"), [
    ("3.5", "serial", "pcm16"),    # through a room, 8 kHz samples
    ("3.6", "usb", "ogg/opus"),    # Opus at about 10 kbit/s
])
def test_a_voice_only_firmware_is_found_by_the_played_audio(firmware: str, transport: str,
                                                             fmt: str, tmp_path: Path) -> None:
    with open_device(f"emu://?firmware={firmware}&transport={transport}") as device:
        device.machine.provision(**CANARIES.provisioning())
        device.machine.voice_order(spoken_wav(ORDER))
        device.machine.sync()
        result = verify(device.capture, canaries=CANARIES)
    assert result.findings == []  # nothing planted leaks as text
    [found] = result.spoken
    assert (found.canary, found.method, found.format, found.channel) == (
        "owner", ACOUSTIC, fmt, transport)
    assert found.margin is not None and found.margin >= 0.2 and found.action in ("voice_order", "sync")
    assert result.leaks == 1


def test_the_verdict_says_what_listening_left(tmp_path: Path) -> None:
    """verify(..., listening=ListeningBudget(...)) as docs/data-verification.md shows it:
    a clip longer than its bound is cut, and the cut reaches the run's verdict line."""
    from brewbench.bench.cli.run_verdict import RunVerdict

    with open_device("emu://?firmware=3.0") as device:
        device.machine.voice_order(spoken_wav(ORDER))
        device.machine.sync()
        result = verify(device.capture, canaries=CANARIES,
                        listening=ListeningBudget(clip_s=1.0, transcribe_clip_s=0.0))
    [line] = result.not_analysed
    assert "decoded the first 1 s of 3 s claimed (1 s per clip)" in line, line
    verdict = RunVerdict()
    verdict.add("emu://?firmware=3.0", 0, result)
    assert "not fully analysed (see the printout): emu://?firmware=3.0 (1 recording)" in verdict.line()


def test_a_name_the_bench_did_not_say_never_becomes_played_audio(played) -> None:
    """Every sayable canary gets a reference; one the played clip does not say falls back
    to the phrase said alone, never to a part of the played clip (which would be found)."""
    refs = references(["ada canary", "canary park", "lobby espresso", "grace hopper"],
                      [Decoded(*played)])
    sources = {phrase: ref.source for phrase, ref in refs.references.items()}
    assert sources == {"ada canary": "played clip", "canary park": "espeak-ng",
                       "lobby espresso": "espeak-ng", "grace hopper": "espeak-ng"}
    frames = features(*played)
    for phrase in ("canary park", "lobby espresso", "grace hopper"):
        assert not score_against(refs.references[phrase].features, refs.decoys, frames).heard
