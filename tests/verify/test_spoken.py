"""Spoken canaries: a planted name said aloud is heard in every format a listening machine
keeps, on every link, and nothing is heard where it was not said.

Transcription takes seconds, so each session runs once per module and is shared.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from brewbench.bench.devices import open_device
from brewbench.bench.influx.schema import RunTags, check_point
from brewbench.bench.influx.verification_points import finding_points, voice_points
from brewbench.bench.nightly.plan import Target
from brewbench.bench.nightly.report import write_report
from brewbench.bench.nightly.runner import TargetRun
from brewbench.bench.nightly.summary import TargetResult
from brewbench.bench.printout import print_capture
from brewbench.bench.shipped import write_contract
from brewbench.bench.uplink.tap import CHANNEL, UplinkTap
from brewbench.bench.verify.canaries import Canary, plant
from brewbench.bench.verify.catalogue import IDENTITY, VOICE
from brewbench.bench.verify.classify import CANARY, CONTENT
from brewbench.bench.verify.contracts import check
from brewbench.bench.verify.g2p import arpabet
from brewbench.bench.verify.redact import Redactor
from brewbench.bench.verify.spoken import sayable, voice_summary
from brewbench.bench.verify.verification import Verification, verify
from brewbench.fixtures.speech import spoken_wav

ORDER = "a latte for Ada Canary on floor seven"
OTHER = "an espresso for Grace Hopper on floor nine"
CANARIES = plant("7F3A9C2E")  # owner "Ada Canary-7F3A9C2E", said as "ada canary"


def _tone_wav(seconds: float = 2.0, rate: int = 16000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def clips() -> dict[str, bytes]:
    return {"order": spoken_wav(ORDER), "other": spoken_wav(OTHER),
            "tone": _tone_wav(), "random": np.random.default_rng(18).bytes(60000)}


@pytest.fixture(scope="module")
def session(clips: dict[str, bytes]) -> Callable[..., Verification]:
    """``session(firmware, transport, clip)``: the verification of one voice order, made once."""
    done: dict[tuple[str, str, str], Verification] = {}

    def run(firmware: str, transport: str = "serial", clip: str = "order") -> Verification:
        key = (firmware, transport, clip)
        if key not in done:
            with open_device(f"emu://?firmware={firmware}&transport={transport}") as device:
                device.machine.voice_order(clips[clip])
                device.machine.sync()
                done[key] = verify(device.capture, canaries=CANARIES)
        return done[key]
    return run


@pytest.mark.parametrize(("firmware", "transport", "path", "fmt", "pieces"), [
    ("3.0", "serial", "RECORD.voice_clip", "wav", 30),      # WAV in record pages
    ("3.1", "ble", "EVENT.pcm", "pcm16", 30),               # bare PCM in notifications
    ("3.3", "usb", "RECORD.voice_clip", "flac", 10),        # FLAC in record pages
    ("3.4", "ble", "EVENT.audio", "ogg/opus", 8),           # Ogg/Opus, 512 bytes a notification
])
def test_the_spoken_name_is_heard_in_every_format(session, firmware: str, transport: str,
                                                  path: str, fmt: str, pieces: int) -> None:
    result = session(firmware, transport)
    [heard] = result.heard
    clip = heard.clip
    assert (clip.path, clip.channel, clip.info.format) == (path, transport, fmt)
    assert len(clip.emissions) >= pieces  # reassembled from its pieces
    assert heard.speech and heard.transcript is not None
    assert heard.transcript.words and len(heard.transcript.phones) > 15
    assert 3.0 < heard.transcript.duration_s < 5.0
    [found] = result.spoken
    assert (found.canary, found.category, found.chain, found.path) == ("owner", IDENTITY, "spoken", path)
    assert 0.6 < found.start_s < found.end_s < 2.2  # "Ada Canary", after "a latte for"
    # Found by the audio the bench played, well clear of every decoy name in its voice.
    assert found.method == "acoustic" and found.score >= 0.9 and found.heard
    assert found.margin is not None and found.margin >= 0.2 and found.p == pytest.approx(1 / 17)
    # Every piece of the clip is labelled voice, and the name makes them identity.
    for index in clip.emissions:
        labels = result.classified[index].labels
        assert any(lb.category == VOICE and lb.reason == CONTENT for lb in labels), labels
        assert any(lb.category == IDENTITY and lb.reason == CANARY and "spoken" in lb.detail
                   for lb in labels), labels


def test_another_name_said_is_speech_but_no_finding(session) -> None:
    result = session("3.0", "serial", "other")
    [heard] = result.heard
    assert heard.speech and heard.transcript is not None and heard.transcript.phones
    assert result.spoken == []


@pytest.mark.parametrize("clip", ["tone", "random"])
def test_a_tone_and_random_bytes_give_no_spoken_findings(session, clip: str) -> None:
    result = session("3.0", "serial", clip)
    assert result.spoken == []
    assert all(not heard.speech and heard.transcript is None for heard in result.heard)
    if clip == "tone":  # a recording, but not of anyone speaking
        assert [h.clip.info.describe() for h in result.heard] == ["wav 16000 Hz 2.0 s no speech"]
    else:
        assert result.heard == []


def test_a_firmware_that_does_not_listen_has_no_clips(session) -> None:
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        device.machine.brew("latte")
        device.machine.sync()
        result = verify(device.capture, canaries=CANARIES)
    assert result.heard == [] and result.spoken == []


def test_the_uploaded_flac_clip_is_heard_on_the_uplink_and_breaks_residency(
        clips, brewbench_mosquitto, tmp_path: Path) -> None:
    contract = tmp_path / "voice.toml"
    contract.write_text(VOICE_ON_SERIAL)
    with open_device("emu://?firmware=3.3", uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        device.machine.voice_order(clips["order"])
        device.machine.sync()
        cloud = device.emulator.machine.uplink if device.emulator else None
        assert cloud is not None and cloud.drain(5.0)
        result = verify(device.capture, canaries=CANARIES)
        verdict = check(device.capture, contract)
    assert {(f.channel, f.format) for f in result.spoken} == {("serial", "flac"), (CHANNEL, "flac")}
    breaches = {(v.channel, v.why) for v in verdict.violations if v.category == VOICE}
    assert any(channel == CHANNEL and "us-east-1" in why for channel, why in breaches), \
        verdict.report()


VOICE_ON_SERIAL = """
format = "brewbench-contract"
version = 1
[[contract]]
model = "CM-500"
firmware = ">=3.0, <4.0"
channels = ["serial", "usb", "ble", "ble-adv", "uplink"]
[contract.allow]
product = {}
device = {}
unknown = { fields = ["link.*"] }
time = {}
voice = { channels = ["serial"] }
[contract.residency]
voice = { hosts = ["*.eu-central-1.acme-cloud.example"] }
"*" = { hosts = ["*"] }
"""


@pytest.mark.parametrize(("firmware", "transport", "breach"), [
    ("3.1", "serial", None), ("3.1", "ble", "not allowed on ble")])
def test_a_contract_allows_voice_per_channel(clips, firmware: str, transport: str,
                                             breach: str | None, tmp_path: Path) -> None:
    contract = tmp_path / "voice.toml"
    contract.write_text(VOICE_ON_SERIAL)
    with open_device(f"emu://?firmware={firmware}&transport={transport}") as device:
        device.machine.voice_order(clips["order"])
        verdict = check(device.capture, contract)
    voice = [v for v in verdict.violations if v.category == VOICE]
    if breach is None:
        assert not voice, verdict.report()
    else:
        assert voice and all(breach in v.why for v in voice), verdict.report()


def test_influx_points_show_the_clip_and_the_spoken_finding(session) -> None:
    result = session("3.1", "ble")
    tags = RunTags(run="r1", test="t")
    redactor = Redactor(bytes(range(32)))
    [voice] = voice_points(result, tags, redactor)
    spoken = [p for p in finding_points(result, tags, redactor) if dict(p.tags)["encoding"] == "spoken"]
    for point in [voice, *spoken]:
        check_point(point)
    assert dict(voice.tags).items() >= {"channel": "ble", "format": "pcm16",
                                        "action": "voice_order"}.items()
    fields = dict(voice.fields)
    assert (fields["clips"], fields["speech"], fields["transcribed"], fields["spoken_findings"]) == \
        (1, 1, 1, 1)
    assert 3.0 < float(fields["seconds"]) < 5.0 and len(str(fields["value_hash"])) > 8
    [found] = spoken
    assert dict(found.tags)["canary"] == "owner" and 600 < int(dict(found.fields)["offset"]) < 2200


def test_the_nightly_report_shows_voice_per_firmware(session, tmp_path: Path) -> None:
    heard = voice_summary(session("3.3", "usb").heard)
    assert heard[0]["spoken"][0]["canary"] == "owner" and "words" not in str(heard)
    target = Target("3.3", "emu://?firmware=3.3", "usb", "emu")
    quiet = Target("2.1", "emu://?firmware=2.1", "usb", "emu")
    results = [TargetResult(TargetRun(target, 0, tmp_path / "j.xml", 1.0), voice=heard),
               TargetResult(TargetRun(quiet, 0, tmp_path / "k.xml", 1.0))]
    page = write_report(tmp_path / "report.html", "night", results, [], "ok", True).read_text()
    table = page[page.index("<table id='voice'>"):]
    table = table[:table.index("</table>")]
    assert "3.3 emu" in table and "flac" in table and "owner (1)" in table
    assert "2.1 emu" not in table


def test_a_word_the_dictionary_lacks_is_said_as_espeak_ng_says_it(clips) -> None:
    # clips: espeak-ng is there (the fixture fails under CI without it)
    assert arpabet("kˈænɑː\u200dɹɹˌɪwɜːk") == ("K", "AE", "N", "AA", "R", "IH", "W", "ER", "K")
    assert arpabet("d\u200dʒˈɛ\u200dɹi") == ("JH", "EH", "R", "IY")
    said = sayable(Canary("organisation", "Canarywerk 7F3A9C2E Kaffee", IDENTITY))
    assert said is not None and said.phrase == "canarywerk kaffee"
    assert said.phones[:5] == ("K", "AE", "N", "AA", "R")
    assert sayable(Canary("email", "ada.7f3a9c2e@canary.example", IDENTITY)) is None
    assert sayable(Canary("floor", "Floor 7F3A9C2E", IDENTITY)) is None  # one word: too little


def test_a_spoken_name_breaks_a_contract_that_does_not_allow_identity_there(session,
                                                                            tmp_path: Path) -> None:
    capture = session("3.1", "ble").capture
    result = verify(capture, canaries=CANARIES, contract=write_contract(tmp_path / "cm-500.toml"))
    assert result.verdict is not None
    breaches = {(v.category, v.field) for v in result.verdict.violations}
    assert {("identity", "EVENT.pcm"), ("voice", "EVENT.pcm")} <= breaches, result.verdict.report()


def test_the_printout_lists_each_recording_and_what_was_heard(session) -> None:
    result = session("3.3", "usb")
    out = io.StringIO()
    print_capture(result.capture, out, result)
    text = out.getvalue()
    assert "recordings: 1, planted values heard: 1" in text
    assert "flac in RECORD.voice_clip on usb in " in text and "speech, transcribed" in text
    assert "owner spoken at " in text and "heard by " in text
    assert result.spoken[0].heard not in text  # the phones heard are the value: not printed
