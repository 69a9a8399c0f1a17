"""Putting a firmware image on a real device with the lab's own flash command."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

from .plan import Target


@dataclass(frozen=True)
class FlashResult:
    ok: bool
    summary: str
    output: str


def flash(template: str, target: Target, timeout: float) -> FlashResult:
    """Run the flash command for ``target``; never raises for a failing command."""
    command = template.format(image=shlex.quote(target.image or ""),
                              device=shlex.quote(target.spec))
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        output = _text(exc.stdout) + _text(exc.stderr)
        return FlashResult(False, f"flash command hung: killed after {timeout:g}s", output)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        return FlashResult(False, f"flash command failed with exit code {done.returncode}", output)
    return FlashResult(True, "flashed", output)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")
