"""What the commands print is safe for a terminal: a device's strings may hold control
characters (a window title, a clear screen, an OSC 8 link, a cursor move that rewrites
"firmware 9.9" into "firmware 9.9 (verified)"). Every line a command prints passes
through ``visible``, which shows such characters as escapes instead of obeying them."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["device_safe_output", "visible"]

# C0 and C1 controls (but the line feed and tab the bench prints itself), DEL, and the
# bidirectional overrides and isolates that make text read in another order.
_UNSAFE = [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
           *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F]
_SHOWN = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _UNSAFE}


def visible(text: str) -> str:
    """``text`` with every terminal control shown as an escape (``\\x1b``, ``\\u202e``)."""
    return text.translate(_SHOWN)


class _Visible:
    """A text stream that writes ``visible`` text to another."""

    def __init__(self, target: TextIO) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(visible(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, buffer, encoding...
        return getattr(self._target, name)


@contextlib.contextmanager
def device_safe_output() -> Iterator[None]:
    """Standard output and error made terminal-safe while a command runs."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Visible(out), _Visible(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
