"""Faults an emulated machine can be told to commit, for the bench's error paths."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    """Switches read by the emulated machine on every request.

    Attributes:
        hang_up_on: drop the link when a request of this type name arrives
            (e.g. ``"BREW"``), before answering it.
        corrupt_next: flip a bit in this many of the next frames sent.
        split_every: send frames in pieces of this many bytes (0: whole).
        events_before_reply: device-initiated events sent before each response.
        silent_on: never answer requests of this type name (the host times out).
    """

    hang_up_on: str | None = None
    corrupt_next: int = 0
    split_every: int = 0
    events_before_reply: int = 0
    silent_on: str | None = None
