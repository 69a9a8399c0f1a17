"""What a killed bench leaves behind is private: a capture saved half-way (docs/reliability.md)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

SLOW_SAVE = """import sys
from pathlib import Path
from brewbench.bench.capture import Capture
from brewbench.drivers.records import RX, Record, Stamp
capture = Capture("big", max_records=1 << 30)
capture.records([Record("ble", RX, Stamp(n, n), b"Ada Canary-7F3A" * 20) for n in range(400_000)])
print("saving", flush=True)
capture.save(Path(sys.argv[1]))
"""


def test_a_save_killed_half_way_leaves_only_a_private_part(tmp_path: Path) -> None:
    target = tmp_path / "capture.jsonl"
    saver = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(target)],
                             stdout=subprocess.PIPE, text=True)
    assert saver.stdout is not None and saver.stdout.readline() == "saving\n"
    part = target.with_suffix(".jsonl.part")
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.005)
    saver.kill()
    saver.wait(10)
    assert not target.exists()
    assert part.stat().st_mode & 0o077 == 0  # the raw values it holds are the owner's only
