"""A device's strings never drive the terminal: every command prints control characters
(escape sequences, carriage returns, bidirectional overrides) as visible escapes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.cli.terminal import visible


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # a window title
    ("\x1b[2J", "\\x1b[2J"),  # clear the screen
    ("9.9\r9.9 (verified)", "9.9\\x0d9.9 (verified)"),  # a line written over
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\\x1b]8;;http://x\\x1b\\link\\x1b]8;;\\x1b\\"),
    ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
    ("\x9b31m", "\\x9b31m"),  # the one-byte C1 CSI
    ("tabs\tand\nlines, Käse, 咖啡", "tabs\tand\nlines, Käse, 咖啡"),  # left as they are
])
def test_controls_are_shown_not_obeyed(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_a_device_serial_with_escapes_prints_them_visibly(tmp_path: Path) -> None:
    """The emulated machine reports this serial over its link, as a hostile one would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "BREWBENCH_"))}
    env["BREWBENCH_LAB_KEY_FILE"] = str(tmp_path / "lab.key")
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--device",
                           "emu://?firmware=1.0&serial=BB%1B%5D0%3Bpwned%07%1B%5B2J",
                           "--results", str(tmp_path / "results")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout
    assert "serial BB\\x1b]0;pwned\\x07\\x1b[2J firmware 1.0" in done.stdout
