"""What an emulated machine keeps in flash: state that survives a reset and a restart.

A real machine keeps counters (boots, brews in its life) and, if its firmware is
careless or nosy, more (the last owner it was provisioned for) in flash, where a
factory reset does not reach. Emulated machines of one *unit* share one ``Flash``
in the process (``emu://?unit=lobby-1``; without ``unit`` the spec text names the
unit, so opening the same spec again is opening the same machine), which is how a
differential analysis meets a device with a history.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

_UNITS: dict[str, Flash] = {}
_LOCK = threading.Lock()


@dataclass
class Flash:
    """Counters and kept values of one emulated unit."""

    boots: int = 0  # power-ups in its life
    brews: int = 0  # drinks made in its life
    kept: dict[str, str] = field(default_factory=dict)  # values a reset does not clear
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def boot(self) -> int:
        """Count one more power-up; the new count."""
        with self.lock:
            self.boots += 1
            return self.boots

    def brewed(self) -> int:
        with self.lock:
            self.brews += 1
            return self.brews

    def swap(self, name: str, value: str) -> str | None:
        """Keep ``value`` under ``name``; what was kept before (None the first time)."""
        with self.lock:
            before = self.kept.get(name)
            self.kept[name] = value
            return before


def flash_for(unit: str, first_boot: int = 0) -> Flash:
    """The flash of ``unit``, made on first use with its boot counter at ``first_boot``."""
    with _LOCK:
        if unit not in _UNITS:
            _UNITS[unit] = Flash(boots=first_boot)
        return _UNITS[unit]


__all__ = ["Flash", "flash_for"]
