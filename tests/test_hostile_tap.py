"""A babbling UART cannot grow a tap's capture or its analysis without bound.

A real pty stands for the tapped line: the test writes megabytes that never
frame (no newline for ``lines``, no pause for ``gap``, no delimiter for
``cobs``) and shows that the tap keeps a few bounded bad-byte runs whose counts
and digests add up to every byte (drivers/bad_runs.py, docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import os
import random
import time
import tty
from collections.abc import Iterator

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.verify.capture_redaction import classify_capture
from brewbench.bench.verify.verification import verify
from brewbench.drivers.bad_runs import EXCERPT, RUN_KEY
from brewbench.drivers.tap.listener import Tap

MEGABYTES = 12


@pytest.fixture
def line() -> Iterator[tuple[int, str]]:
    """A pty: write to the first, the tap listens on the second's name."""
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def babble(master: int, chunk: bytes, tap: Tap) -> None:
    for _ in range(MEGABYTES):
        os.write(master, chunk)
    deadline = time.monotonic() + 30
    while tap.lines["rx"].bytes < MEGABYTES * len(chunk) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("framer", ["lines", "gap", "cobs"])
def test_babble_on_a_tapped_line_is_kept_as_bounded_runs(line: tuple[int, str],
                                                         framer: str) -> None:
    master, port = line
    noise = random.Random(28).randbytes(1 << 20)
    chunk = noise.replace(b"\n", b"-").replace(b"\x00", b"\x01")  # never a line, never a frame
    tap = Tap({"rx": port}, framer=framer, framer_params={"gap_ms": "5000"})
    capture = Capture("tapped")
    tap.attach(capture)
    tap.open()
    try:
        babble(master, chunk, tap)
    finally:
        tap.close()
    records = [e.record for e in capture.entries]
    assert 1 <= len(records) < 200, len(records)
    runs = [r for r in records if RUN_KEY in r.meta]
    assert all(len(r.raw) <= EXCERPT for r in runs) and runs
    counted = sum(r.meta[RUN_KEY]["bytes"] for r in runs)
    small = sum(len(r.raw) for r in records if RUN_KEY not in r.meta)
    assert counted + small >= MEGABYTES * len(chunk) - 64 * 1024  # a framer holds one unit back
    if len(runs) == 1 and not small:
        assert runs[0].meta[RUN_KEY]["sha256"] == hashlib.sha256(chunk * MEGABYTES).hexdigest()
    started = time.monotonic()
    verify(capture)
    classify_capture(capture)
    assert time.monotonic() - started < 5  # the 391 MB line used to keep the analysis for ever
