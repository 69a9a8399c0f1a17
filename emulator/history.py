"""Leaks that depend on a machine's history: what only repeated sessions can show.

Two firmware behaviours a single session never reveals:

- ``kept-owner`` (2.5): the owner it was provisioned for is kept in flash, where a
  factory reset does not reach. The next session's order records carry that owner
  as a keyed hash (``RECORD.acct``) and its boot log names it in plain text: the
  previous owner's name, served to the next one.
- ``some-sessions`` (2.6): the owner goes into ``RECORD.acct`` (keyed) only in
  sessions whose lifetime boot counter, kept in flash, is not a multiple of 4: three
  sessions in four leak, the fourth looks clean.

Both key their hash with the device key (emulator/keyed.py): no hunter can tie
``RECORD.acct`` to the owner; only a differential analysis can.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass
from typing import Any

from .flash import Flash
from .keyed import keyed_hex

KINDS = ("", "kept-owner", "some-sessions")
QUIET_EVERY = 4  # some-sessions: every 4th session in a machine's life leaks nothing


@dataclass
class History:
    """One session's view of what the machine keeps across sessions."""

    kind: str
    flash: Flash
    boots: int = 0
    kept_owner: str | None = None  # kept-owner: the owner of an earlier session

    def start(self, logs: MutableSequence[str]) -> None:
        """Power-up: count the boot; a kept-owner machine greets its last owner."""
        self.boots = self.flash.boot()
        if self.kind == "kept-owner":
            self.kept_owner = self.flash.kept.get("owner")
            if self.kept_owner:
                logs.append(f"restored profile of {self.kept_owner}")

    def provisioned(self, settings: dict[str, Any]) -> None:
        """Provisioning: a kept-owner machine writes the new owner to flash too."""
        if self.kind == "kept-owner" and settings.get("owner"):
            self.flash.swap("owner", str(settings["owner"]))

    def record_fields(self, settings: dict[str, Any]) -> dict[str, Any]:
        """What this session's order records carry of the machine's history."""
        if self.kind == "kept-owner" and self.kept_owner:
            return {"acct": keyed_hex(self.kept_owner)}
        if self.kind == "some-sessions" and settings.get("owner") \
                and self.boots % QUIET_EVERY != 0:
            return {"acct": keyed_hex(str(settings["owner"]))}
        return {}


__all__ = ["KINDS", "QUIET_EVERY", "History"]
