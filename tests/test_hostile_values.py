"""Whatever a device's CBOR decodes to can be saved, reloaded unchanged and analysed."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cbor2
import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.values import from_json, to_json
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.capture_redaction import save_capture
from brewbench.bench.verify.emissions import UNANALYSED, emissions, leaves, map_leaves
from brewbench.bench.verify.redact import Redactor
from brewbench.bench.verify.verification import verify
from brewbench.drivers.framing import encode_frame
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, Record, Stamp

KEY = Redactor(b"k" * 32)

# Bodies as a device could send them (CBOR bytes), each one that broke saving or analysis.
HOSTILE = {
    "self_reference": bytes.fromhex("a1617" "8d81c8201d81d00"),  # {"x": shared [1, ref 0]}
    "shared_twice": bytes.fromhex("a16178d81c82d81c8101d81d01"),
    "huge_int": cbor2.dumps({"n": 10**7000, "neg": -(2**200)}),
    "non_string_keys": cbor2.dumps({1: "a", b"k": 2, 1.5: None, (1, 2): [3], False: 0}),
    "nan_inf": cbor2.dumps({"a": math.nan, "b": math.inf, "c": -math.inf, "d": -0.0}),
    "undefined_simple": cbor2.dumps({"u": cbor2.undefined, "s": cbor2.CBORSimpleValue(99)}),
    "tags": cbor2.dumps({"t": cbor2.CBORTag(999, ["x", b"\x00"]), "d": cbor2.CBORTag(4, [-2, 1234]),
                         "set": cbor2.CBORTag(258, [1, 2]), "time": cbor2.CBORTag(1, 1)}),
    "bytes": cbor2.dumps({"blob": bytes(range(256))}),
    "deep_nesting": b"\xa1\x61x" + b"\x81" * 390 + b"\x00",
    "looks_like_a_form": cbor2.dumps({"$bytes": "00"}),
    "key_map_and_frozen": cbor2.dumps({cbor2.frozendict({1: (2, 3)}): [1.5]}),
}


def _capture(bodies: dict[str, bytes]) -> Capture:
    capture = Capture("hostile", {"spec": "hostile"})
    for n, raw in enumerate(bodies.values()):
        message = Message(Kind.EVENT, MsgType.RECORD, n + 1, cbor2.loads(raw))
        wire = encode_frame(Kind.EVENT, n + 1, MsgType.RECORD, raw)
        capture.record(Record("serial", RX, Stamp(n, n), wire, message))
    return capture


def _same(a: Any, b: Any) -> bool:
    """Equal values (NaN equal to itself, cycles allowed): compare their JSON forms."""
    return json.dumps(to_json(a), sort_keys=True) == json.dumps(to_json(b), sort_keys=True)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_body_saves_reloads_and_is_analysed(name: str, tmp_path: Path) -> None:
    capture = _capture({name: HOSTILE[name]})
    path = capture.save(tmp_path / "raw.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines():
        json.loads(line)  # strict JSON: no NaN, no Infinity
    loaded = Capture.load(path)
    (before,), (after,) = capture.messages(), loaded.messages()
    assert _same(before.body, after.body)
    assert type(after.body) is type(before.body)
    result = verify(loaded, plant())
    assert result.problems == []
    assert result.classified  # every record gave at least one emission
    redacted = save_capture(loaded, tmp_path / "redacted.jsonl", redactor=KEY)
    assert Capture.load(redacted).messages()


def test_all_hostile_bodies_in_one_capture_analyse_in_one_run(tmp_path: Path) -> None:
    capture = _capture(HOSTILE)
    save_capture(capture, tmp_path / "c.jsonl", redactor=KEY, canaries=plant())
    assert len(Capture.load(tmp_path / "c.jsonl").messages()) == len(HOSTILE)


def test_self_reference_stays_a_self_reference_after_reload() -> None:
    body = cbor2.loads(HOSTILE["self_reference"])
    back = from_json(json.loads(json.dumps(to_json(body))))
    assert back["x"][1] is back["x"]
    assert [path for path, _ in leaves(back, "R")] == ["R.x[]"]
    copy = map_leaves(back, lambda value: value)
    assert copy["x"][1] is copy["x"] and copy["x"] is not back["x"]


def test_shared_parts_are_written_once_so_a_billion_laughs_stays_small() -> None:
    layer: list[Any] = ["lol"]
    for _ in range(60):  # 2**60 leaves if expanded
        layer = [layer, layer]
    form = json.dumps(to_json({"x": layer}))
    assert len(form) < 5_000
    assert len(list(leaves({"x": layer}, "R"))) == 1


def test_huge_integer_is_hunted_and_printed_without_the_digit_limit() -> None:
    capture = _capture({"huge": HOSTILE["huge_int"]})
    found = emissions(capture)
    assert {e.path for e in found} == {"RECORD.n", "RECORD.neg"}
    assert KEY.digest(10**7000)


def test_a_record_that_cannot_be_analysed_is_a_finding_not_a_crash() -> None:
    class Exploding(Mapping[str, Any]):
        """A body whose keys cannot be read (as a decoder bug or a future type could)."""

        def __getitem__(self, key: str) -> Any:
            raise KeyError(key)

        def __iter__(self) -> Any:
            raise RuntimeError("cannot iterate")

        def __len__(self) -> int:
            return 1

    capture = _capture({"ok": cbor2.dumps({"a": 1})})
    bad = Message(Kind.EVENT, MsgType.RECORD, 9, {"b": 2})
    object.__setattr__(bad, "body", Exploding())
    capture.record(Record("serial", RX, Stamp(99, 99), b"\x01\x02", bad))
    result = verify(capture, plant())
    assert len(result.problems) == 1 and "RuntimeError" in result.problems[0]
    paths = [item.emission.path for item in result.classified]
    assert paths == ["RECORD.a", UNANALYSED]


def test_hand_edited_capture_with_a_bad_form_is_one_clear_error(tmp_path: Path) -> None:
    path = _capture({"a": cbor2.dumps({"a": 1})}).save(tmp_path / "c.jsonl")
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"body": {"a": 1}', '"body": {"$ref": 7}')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 2 is not valid"):
        Capture.load(path)
