"""Machines that listen: each voice firmware's keeping of a spoken order is found and labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.shipped import write_contract
from brewbench.bench.verify.canaries import Canary, plant
from brewbench.bench.verify.capture_redaction import save_capture
from brewbench.bench.verify.catalogue import IDENTITY, VOICE
from brewbench.bench.verify.classify import CONTENT, Classified
from brewbench.bench.verify.contracts import check
from brewbench.bench.verify.emissions import Emission, emissions, is_redacted
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.verification import verify
from brewbench.drivers.errors import DeviceRejected
from brewbench.drivers.messages import ErrorCode
from brewbench.drivers.records import Stamp
from brewbench.fixtures.speech import spoken_wav

ORDER = "a latte for Ada Canary on floor seven"
SPOKEN_NAME = Canary("owner", "Ada Canary", IDENTITY)


@pytest.fixture(scope="module")
def clip() -> bytes:
    return spoken_wav(ORDER)


def _voice_content(classified: list[Classified]) -> list[tuple[str, str]]:
    """(path, detail) of every emission the audio detector labelled voice."""
    return [(c.emission.path, label.detail) for c in classified for label in c.labels
            if label.category == VOICE and label.reason == CONTENT]


@pytest.mark.parametrize(("firmware", "transport", "path", "first"), [
    ("3.0", "serial", "RECORD.voice_clip", "audio wav 22050 Hz "),
    ("3.0", "usb", "RECORD.voice_clip", "audio wav 22050 Hz "),
    ("3.1", "serial", "EVENT.pcm", "audio pcm16"),
    ("3.1", "ble", "EVENT.pcm", "audio pcm16"),
])
def test_kept_clips_are_found_as_voice(clip: bytes, firmware: str, transport: str, path: str,
                                       first: str) -> None:
    with open_device(f"emu://?firmware={firmware}&transport={transport}") as device:
        reply = device.machine.voice_order(clip)
        device.machine.sync()
        capture = device.capture
    assert reply["order_id"] >= 1
    found = _voice_content(verify(capture).classified)
    assert found and {p for p, _ in found} == {path}
    assert found[0][1].startswith(first)
    assert len(found) > 10  # chunk after chunk, not only the one with a header


def test_a_transcript_only_firmware_is_caught_by_the_text_hunter(clip: bytes) -> None:
    with open_device("emu://?firmware=3.2&transport=serial") as device:
        assert device.emulator is not None
        device.emulator.machine.recogniser = lambda _clip: ORDER  # what its recogniser heard
        device.machine.voice_order(clip)
        device.machine.sync()
        capture = device.capture
    found = emissions(capture)
    findings = Hunter([SPOKEN_NAME]).hunt(found)
    assert [(f.path, f.action, f.chain) for f in findings] == [("RECORD.transcript", "sync", "plain")]
    classified = verify(capture).classified
    assert not _voice_content(classified)  # no audio left the machine, only words
    assert any(VOICE in c.categories for c in classified if c.emission.path == "RECORD.transcript")


def test_a_firmware_that_does_not_listen_refuses_and_emits_no_voice(clip: bytes) -> None:
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        with pytest.raises(DeviceRejected) as refused:
            device.machine.voice_order(clip)
        device.machine.brew("latte")
        device.machine.sync()
        capture = device.capture
    assert refused.value.code == ErrorCode.UNKNOWN_TYPE
    assert all(VOICE not in c.categories for c in verify(capture).classified)


def test_saved_captures_keep_a_digest_not_the_audio(clip: bytes, tmp_path: Path) -> None:
    with open_device("emu://?firmware=3.1&transport=serial") as device:
        device.machine.voice_order(clip)
        capture = device.capture
    saved = Capture.load(save_capture(capture, tmp_path / "voice.jsonl"))
    kept = [e for e in emissions(saved, direction=None)
            if e.path in ("EVENT.pcm", "VOICE_ORDER.audio")]
    assert {e.direction for e in kept} == {"rx", "tx"}  # what it heard and what it was told
    assert all(is_redacted(e.value) for e in kept)
    sample = next(clip[i:i + 16] for i in range(1000, len(clip), 16) if 0 not in clip[i:i + 16])
    raw = save_capture(capture, tmp_path / "raw.jsonl", raw=True).read_text()
    assert sample.hex() in raw and sample.hex() not in (tmp_path / "voice.jsonl").read_text()


def test_voice_order_refuses_an_empty_clip() -> None:
    with (open_device("emu://?firmware=3.0&transport=serial") as device,
          pytest.raises(ValueError, match="needs an audio clip")):
        device.machine.voice_order(b"")


@pytest.mark.parametrize(("firmware", "field"), [
    ("3.0", "RECORD.voice_clip"), ("3.1", "EVENT.pcm"), ("3.2", "RECORD.transcript")])
def test_the_shipped_contract_forbids_keeping_the_voice(clip: bytes, firmware: str, field: str,
                                                        tmp_path: Path) -> None:
    contract = write_contract(tmp_path / "cm-500.toml")
    with open_device(f"emu://?firmware={firmware}&transport=serial") as device:
        device.machine.brew("latte")
        clean = check(device.capture, contract)
        device.machine.voice_order(clip)
        device.machine.sync()
        verdict = check(device.capture, contract)
    assert clean.ok, clean.report()
    assert field in {v.field for v in verdict.violations if v.category == VOICE}, verdict.report()


def test_a_transcript_only_firmware_gives_the_owner_away_as_said(clip: bytes) -> None:
    """The transcript holds the owner's name without the run tag (it is never said):
    the said form is hunted in text and counts as a planted value found."""
    canaries = plant("7F3A9C2E")
    with open_device("emu://?firmware=3.2&transport=serial") as device:
        assert device.emulator is not None
        device.emulator.machine.recogniser = lambda _clip: ORDER
        device.machine.voice_order(clip)
        device.machine.sync()
        result = verify(device.capture, canaries=canaries)
    [said] = result.said
    assert (said.canary, said.emission.path, said.emission.action, said.said) == (
        "owner", "RECORD.transcript", "sync", "ada canary")
    assert result.leaks == len(result.findings) + 1
    labels = result.classified[said.emissions[0]].labels
    assert any(lb.category == IDENTITY and "owner as said" in lb.detail for lb in labels)


def test_the_said_form_is_whole_words_only() -> None:
    from brewbench.bench.verify.said_text import hunt_said

    owner = plant("7F3A9C2E").canaries[0]
    assert owner.name == "owner"
    texts = ["order for ADA-canary at noon", "adacanary", "ada canaryx", "Nevada Canary"]
    found = [Emission("RECORD.transcript", text, "RECORD", "serial", "rx", "sync", Stamp(0, 0), n)
             for n, text in enumerate(texts)]
    assert [f.index for f in hunt_said(found, [(owner, "ada canary")])] == [0]


def test_float16_feature_frames_are_possible_voice_features_not_audio(clip: bytes) -> None:
    """3.7 keeps no audio, only float16 frames of log power: once called pcm16 audio, they
    are now possible voice features, labelled voice, and never decoded as a clip."""
    with open_device("emu://?firmware=3.7&transport=serial") as device:
        device.machine.voice_order(clip)
        device.machine.sync()
        capture = device.capture
    result = verify(capture, canaries=plant("7F3A9C2E"))
    found = _voice_content(result.classified)
    assert found and {path for path, _ in found} == {"EVENT.features"}
    assert {detail for _, detail in found} == {"possible voice features (float16 frames)"}
    assert result.heard == [] and result.problems == []


def test_speech_samples_are_never_taken_for_features(clip: bytes) -> None:
    from brewbench.bench.verify.audio import sniff_audio
    from brewbench.emulator.voice import samples_of

    samples, _rate = samples_of(clip)
    pieces = [samples[n:n + 4096] for n in range(0, len(samples) - 4096, 4096)]
    kinds = {info.format for info in map(sniff_audio, pieces) if info is not None}
    assert kinds == {"pcm16"}
