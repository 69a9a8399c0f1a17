"""A device process inside the lab's device namespace: an emulated machine, served on a pty.

``LabDevice`` starts ``python -m brewbench.emulator.net_device`` in the device
namespace and reads the device spec it prints; the bench then opens that spec
like any serial device. Closing the process's standard input stops it.
"""

from __future__ import annotations

import select
import subprocess
import sys
from pathlib import Path

from .lab import LabNetwork
from .netns import LabNetworkError

START_TIMEOUT_S = 20.0
MAX_SPEC = 512


class LabDevice:
    """One emulated machine behind ``lab``; a context manager whose value is its spec.

    ``trust`` is a CA file its firmware trusts as its maker's (a ``MakerCloud``'s).
    """

    def __init__(self, lab: LabNetwork, cloud: str, firmware: str = "2.1",
                 serial: str | None = None, trust: Path | None = None) -> None:
        argv = [sys.executable, "-m", "brewbench.emulator.net_device", "--cloud", cloud,
                "--firmware", firmware, *(["--serial", serial] if serial else []),
                *(["--trust", str(trust)] if trust else [])]
        self.command = lab.device_command(argv)
        self.spec = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        """Start the process; the spec of its control link.

        Raises:
            LabNetworkError: it did not start or print its spec in time (with its stderr).
        """
        self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_S)
        line = self._process.stdout.readline(MAX_SPEC).strip() if ready else ""
        if not line.startswith("serial://"):
            error = self.stop()
            raise LabNetworkError(f"the lab device did not start: {line[:200] or 'no spec'}; "
                                  f"{error[-400:]}")
        self.spec = line
        return line

    def stop(self) -> str:
        """Stop the process; what it wrote on stderr."""
        if self._process is None:
            return ""
        process, self._process = self._process, None
        try:
            _out, err = process.communicate("", timeout=10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
        return err or ""

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["LabDevice"]
