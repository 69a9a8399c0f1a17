"""A real machine's manners: what a clean device emits that changes by itself.

Field firmware is noisier than a protocol's happy path: telemetry comes in bursts
(docs/protocol.md allows TELEMETRY at any time), one order may queue one record or
three (a retry, a split upload), map keys come in any order, frames carry random
padding, and every record has a clock and a nonce. ``FieldNoise`` decides all of
that from one random generator, seeded (``emu://?noise=field&seed=7``) so a run of
the benchmark can be made again. None of it depends on a planted value: a verdict
that calls any of it a leak is wrong.
"""

from __future__ import annotations

import random
import time
from typing import Any

BURST = (0.2, 0.05)  # chance of one, and of a second, extra TELEMETRY sample per brew
COPIES = (1, 3)  # records queued per order, fewest and most
PAD_MAX = 15  # random padding bytes per record, at most
HEARTBEAT = 0.15  # chance of an unasked heartbeat EVENT after an answer


class FieldNoise:
    """The noise of one emulated session."""

    def __init__(self, seed: int | None = None, session: int = 0) -> None:
        self.rng = random.Random(None if seed is None else f"{seed}:{session}")

    def telemetry(self, base: dict[str, Any]) -> list[dict[str, Any]]:
        """The TELEMETRY samples of one brew: ``base`` with a drifting reading, and
        sometimes one or two more."""
        count = 1 + sum(1 for chance in BURST if self.rng.random() < chance)
        return [{**base, "temp_c": round(base["temp_c"] + self.rng.uniform(-0.4, 0.4), 1),
                 "t_ms": time.monotonic_ns() // 1_000_000 + n} for n in range(count)]

    def copies(self) -> int:
        """How many records this order queues."""
        return self.rng.randint(*COPIES)

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` with a nonce, a clock and random padding, its keys shuffled."""
        noisy = {**record, "nonce": self.rng.getrandbits(64).to_bytes(8, "big").hex(),
                 "uptime_ms": time.monotonic_ns() // 1_000_000,
                 "pad": self.rng.randbytes(self.rng.randint(0, PAD_MAX))}
        keys = list(noisy)
        self.rng.shuffle(keys)
        return {k: noisy[k] for k in keys}

    def heartbeat(self) -> bool:
        """Whether an unasked heartbeat follows this answer."""
        return self.rng.random() < HEARTBEAT


__all__ = ["FieldNoise"]
