"""From a capture to InfluxDB records: categories, counts and keyed hashes, never values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from brewbench.bench.influx.lineproto import encode
from brewbench.bench.influx.schema import RunTags
from brewbench.bench.influx.verification_points import emission_summaries, finding_points, violation_points
from brewbench.bench.verify.redact import Redactor
from brewbench.bench.verify.verification import verify

CM500 = Path(__file__).resolve().parents[2] / "contracts" / "cm-500.toml"
REDACTOR = Redactor(b"lab" * 8)


def test_records_of_a_leaking_machine(session_of: Callable) -> None:
    session = session_of("2.2")
    result = verify(session.capture, session.canaries, CM500)
    assert result.verdict is not None and not result.verdict.ok
    summaries = emission_summaries(result, REDACTOR)
    flagged = {(s.category, s.path) for s in summaries if s.beyond_contract}
    assert flagged == {(v.category, v.field) for v in result.verdict.violations}
    assert all(s.contract == str(CM500) for s in summaries)
    card = next(s for s in summaries if s.path == "RECORD.card_ref")
    assert (card.category, card.count, card.action) == ("payment", 1, "sync")

    tags = RunTags(run="r1", test="t1")
    findings = finding_points(result, tags, REDACTOR)
    violations = violation_points(result, tags, REDACTOR)
    assert {(p.tag("canary"), p.tag("encoding")) for p in findings} >= {
        ("owner", "zlib > base64"), ("card_number", "sha256-hex"), ("floor", "utf16le")}
    assert {p.tag("field") for p in violations} >= {"RECORD.card_ref", "RECORD.diag"}
    assert all(p.tag("firmware") == "2.2" for p in findings + violations)
    lines = encode(findings + violations)
    for name in ("owner", "card_number", "email", "floor"):
        assert session.canaries[name] not in lines


def test_a_clean_machine_has_no_findings_nor_violations(session_of: Callable) -> None:
    result = verify(session_of("1.0").capture, session_of("1.0").canaries, CM500)
    tags = RunTags(run="r1", test="t1")
    assert finding_points(result, tags, REDACTOR) == []
    assert violation_points(result, tags, REDACTOR) == []
    assert not any(s.beyond_contract for s in emission_summaries(result, REDACTOR))
