"""Redaction: nothing the bench writes by default holds a raw planted value."""

from __future__ import annotations

import argparse
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.cli.inventory_command import add_inventory_parser
from brewbench.bench.verify.capture_redaction import classify_capture, redact_capture, save_capture
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.inventory import inventory
from brewbench.bench.verify.redact import LabKeyError, Redactor, load_lab_key

SECRET_CANARIES = ("card_number", "owner", "email", "organisation", "floor", "site",
                   "machine_name", "ssid")


def _forms(value: str) -> list[bytes]:
    """A raw value as it could sit in a saved file: as text, or hex of raw frame bytes."""
    data = value.encode()
    return [data, data.hex().encode(), data.hex().upper().encode()]


def _write_results(folder: Path, session, capsys: pytest.CaptureFixture[str]) -> None:
    """What a bench run writes by default: the capture and its inventory."""
    path = save_capture(session.capture, folder / "captures" / f"{session.firmware}.jsonl",
                        canaries=session.canaries)
    parser = argparse.ArgumentParser()
    add_inventory_parser(parser.add_subparsers())
    args = parser.parse_args(["inventory", str(path)])
    assert args.func(args) == 0
    (folder / "inventory.txt").write_text(capsys.readouterr().out)


@pytest.mark.parametrize("firmware", ["2.0", "2.1", "2.2"])
def test_results_folder_holds_no_raw_planted_value(session_of: Callable, firmware: str,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    session = session_of(firmware)
    results = tmp_path / "results"
    _write_results(results, session, capsys)
    files = [p for p in results.rglob("*") if p.is_file()]
    assert len(files) == 2
    for path in files:
        content = path.read_bytes()
        for name in SECRET_CANARIES:
            for form in _forms(session.canaries[name]):
                assert form not in content, f"{path.name} holds the raw {name}"
    raw_file = save_capture(session.capture, tmp_path / "raw.jsonl", raw=True)
    assert session.canaries["owner"].encode() in raw_file.read_bytes(), "raw needs an opt-in"


def test_redacted_capture_loads_and_keeps_its_inventory(session_of: Callable,
                                                        tmp_path: Path) -> None:
    session = session_of("2.2")
    path = save_capture(session.capture, tmp_path / "c.jsonl", canaries=session.canaries)
    loaded = Capture.load(path)
    classified, findings = classify_capture(session.capture, session.canaries)
    live = {(r.category, r.field) for r in inventory([c for c in classified
                                                      if c.emission.direction == "rx"])}
    saved = {(r.category, r.field) for r in inventory(classify(emissions(loaded)))}
    assert saved == live
    assert loaded.meta["redaction"]["hash"] == "hmac-sha256"
    assert len(loaded.entries) == len(session.capture.entries)
    assert findings, "the 2.2 profile leaks canaries"


def test_frames_with_sensitive_values_lose_raw_bytes_but_keep_their_length(
        session_of: Callable) -> None:
    session = session_of("2.1")
    redacted = redact_capture(session.capture, Redactor(b"k" * 32),
                              classify_capture(session.capture, session.canaries)[0])
    dropped = [e.record for e in redacted.entries if e.record.raw == b""]
    assert dropped, "PROVISION, PAY and RECORD frames carry sensitive values"
    for record in dropped:
        assert record.meta["raw_len"] > 0
    kept = [e.record for e in redacted.entries if e.record.raw]
    assert any(r.message and r.message.type_name == "STATUS" for r in kept)


def test_same_key_same_hash_other_key_other_hash() -> None:
    a, b, c = Redactor(b"a" * 32), Redactor(b"a" * 32), Redactor(b"c" * 32)
    assert a.digest("4111111111111111") == b.digest("4111111111111111")
    assert a.digest("4111111111111111") != c.digest("4111111111111111")
    assert "4111" not in a.example("4111111111111111", ["payment"])


def test_lab_key_is_created_private_and_reused(lab_key_file: Path) -> None:
    assert not lab_key_file.exists()
    key = load_lab_key()
    assert stat.S_IMODE(lab_key_file.stat().st_mode) == 0o600
    assert load_lab_key() == key
    assert Redactor.from_lab_key().key_id == Redactor(key).key_id


def test_broken_lab_key_names_the_file(lab_key_file: Path) -> None:
    lab_key_file.write_text("not a key")
    with pytest.raises(LabKeyError, match=str(lab_key_file)):
        load_lab_key()


@pytest.mark.parametrize("firmware", ["2.0", "2.1", "3.3"])
def test_a_kept_capture_is_redacted_alike_when_verify_hands_over_its_classification(
        session_of: Callable, firmware: str, tmp_path: Path) -> None:
    """keep() analyses each record once: save_capture takes the device's emissions as
    verify() classified them and classifies only what the bench sent. The file must be
    the one a save that classifies everything itself writes."""
    from brewbench.bench.verify.verification import verify

    session = session_of(firmware)
    key = Redactor(b"k" * 32)
    alone = save_capture(session.capture, tmp_path / "alone.jsonl", redactor=key,
                         canaries=session.canaries)
    received = verify(session.capture, session.canaries).classified
    handed = save_capture(session.capture, tmp_path / "handed.jsonl", redactor=key,
                          canaries=session.canaries, received=received)
    assert handed.read_text() == alone.read_text()
