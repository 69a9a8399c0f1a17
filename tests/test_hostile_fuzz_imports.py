"""Mutated files and payloads through the imports and the uplink decoder: a capture or
one line, never a traceback or a hang (docs/reliability.md, "Imports").

Each input is a valid file or payload with bytes flipped, inserted, deleted or cut
(seeded, so a failure names the input that made it).
"""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

import cbor2
import pytest

from brewbench.bench.bluetooth.btsnoop import BtsnoopError
from brewbench.bench.bluetooth.btsnoop_import import import_btsnoop
from brewbench.bench.capture import Capture
from brewbench.bench.uplink.pcap_import import import_pcap
from brewbench.bench.uplink.pcap_streams import PcapError
from brewbench.bench.uplink.records import keep_message
from brewbench.drivers.records import Stamp

from .test_btsnoop import built_log
from .test_uplink_pcap import write_capture

MUTANTS = 150


def mutated(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(out) or 1)
        match rng.randrange(4):
            case 0:
                out[at:at + 1] = bytes([rng.randrange(256)])
            case 1:
                out[at:at] = rng.randbytes(rng.randint(1, 16))
            case 2:
                del out[at:at + rng.randint(1, 16)]
            case _:
                out[at:at + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"-1\r\n"])
    return bytes(out[:rng.randint(len(out) // 2, len(out))] if rng.random() < 0.2 else out)


@pytest.mark.parametrize("kind", ["pcap", "pcapng", "btsnoop"])
def test_mutated_files_import_or_are_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "btsnoop":
        valid, read, refused = built_log(), import_btsnoop, BtsnoopError
    else:
        valid = write_capture(tmp_path / "valid", pcapng=kind == "pcapng").read_bytes()
        read, refused = import_pcap, PcapError  # type: ignore[assignment]
    rng = random.Random(28)
    outcomes = {"imported": 0, "refused": 0}
    for n in range(MUTANTS):
        path = tmp_path / f"mutant-{n}"
        path.write_bytes(mutated(valid, rng))
        started = time.monotonic()
        try:
            capture = read(path)
        except refused as exc:
            assert "\n" not in str(exc), f"mutant {n}"
            outcomes["refused"] += 1
        else:
            assert isinstance(capture, Capture)
            outcomes["imported"] += 1
        assert time.monotonic() - started < 5, f"mutant {n} took too long"
    assert outcomes["imported"] > 0 and sum(outcomes.values()) == MUTANTS


def test_mutated_uplink_payloads_are_records_whatever_they_hold() -> None:
    bodies = [json.dumps({"owner": "Ada Canary-7F3A", "n": [1, 2, 3]}).encode(),
              gzip.compress(json.dumps([{"n": n} for n in range(50)]).encode()),
              cbor2.dumps({"card_number": "4111111111117F3A", "nested": {"a": [b"x"] * 5}})]
    rng = random.Random(29)
    capture = Capture("fuzz")
    made = 0
    for n in range(MUTANTS * 4):
        payload = mutated(rng.choice(bodies), rng)
        made += keep_message(capture, "idle", payload, {"protocol": "mqtt", "topic": "t"},
                             Stamp.now(), n)
    assert made >= MUTANTS * 4 and len(capture.entries) == made
