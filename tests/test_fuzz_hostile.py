"""The hostile-input fuzz script runs clean on a small count (the full million is by hand)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "fuzz_hostile.py"


def test_fuzz_small_count_finds_no_crash_and_no_save_mismatch() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--count", "3000", "--seed", "7",
                           "--hunt-every", "4"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    counts = {parts[0]: int(parts[1]) for parts in
              (line.split() for line in done.stdout.splitlines()[1:6])}
    assert counts["crash"] == 0 and counts["save_mismatch"] == 0
    assert counts["saved_analysed"] > 1000 and counts["frame_error"] > 100
    assert sum(counts.values()) == 3000
