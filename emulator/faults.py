"""Faults an emulated machine can be told to commit, for the bench's error paths.

Tests switch them on per test, either on the object
(``emulator.machine.faults.flood = 0``, or ``emulator.inject("babble:1000000")``)
or in the device spec (``emu://?firmware=2.1&fault=flood,slow_drip:5``).
The spec form is ``fault=NAME[:ARG],NAME[:ARG]...``; ``FAULTS`` lists the names
and what their argument means. docs/protocol.md, "Emulator faults", describes each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FAULTS", "REQUEST_NAMES", "Faults", "parse_faults"]

#: request type names a per-type fault may name
REQUEST_NAMES = ("HELLO", "IDENTIFY", "STATUS", "BREW", "PAY", "PROVISION", "SYNC",
                 "READ_LOGS", "RESET")
PAGED = ("SYNC", "READ_LOGS")
#: what ``malformed_answers`` spoils when no type is named: every answer but HELLO's
MALFORMED_DEFAULT = frozenset({*REQUEST_NAMES[1:], "ERROR"})
BABBLE_DEFAULT = 1 << 20
DRIP_DEFAULT_MS = 10.0


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
        busy_on: answer requests of this type name with error BUSY (3).
        fail_on: fail while handling requests of this type name: error INTERNAL (8).
        flood: after answering the next request, send TELEMETRY events as fast as
            the link takes them; this many (0: until the link closes or the fault
            is cleared with ``None``). ``None``: off.
        endless_pages: answer these paged requests (``SYNC``, ``READ_LOGS``) with
            ``remaining`` > 0 forever.
        babble: after answering the next request, send this many bytes without a
            frame delimiter, then one ``0x00`` so the stream can resynchronise.
        hostile_bodies: before each answer, send one EVENT per named hostile body
            (``emulator.hostile.HOSTILE_BODIES``): self-reference, huge integer,
            non-text keys, NaN, undefined, deep nesting.
        malformed_answers: answer requests of these type names with bodies of the
            wrong shape (missing keys, wrong types); ``"ERROR"`` makes every error
            the machine sends carry a text ``code``.
        slow_drip_ms: send every frame one byte at a time, this many milliseconds
            apart (0: off).
    """

    hang_up_on: str | None = None
    corrupt_next: int = 0
    split_every: int = 0
    events_before_reply: int = 0
    silent_on: str | None = None
    busy_on: str | None = None
    fail_on: str | None = None
    flood: int | None = None
    endless_pages: frozenset[str] = frozenset()
    babble: int = 0
    hostile_bodies: tuple[str, ...] = ()
    malformed_answers: frozenset[str] = frozenset()
    slow_drip_ms: float = 0.0

    def inject(self, text: str) -> None:
        """Switch on the faults ``text`` names (the spec form, ``NAME[:ARG],...``).

        Raises:
            ValueError: an unknown fault or a bad argument, naming the known faults.
        """
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, arg = item.partition(":")
            setter = _SETTERS.get(name)
            if setter is None:
                raise ValueError(f"no emulator fault {name!r}; known faults: {', '.join(FAULTS)}")
            try:
                setter(self, arg)
            except ValueError as exc:
                raise ValueError(f"fault {item!r}: {exc}; {name}{FAULTS[name]}") from exc


def parse_faults(text: str) -> Faults:
    """Faults from the spec form ``NAME[:ARG],...``; ValueError names the known ones."""
    faults = Faults()
    faults.inject(text)
    return faults


Setter = Callable[[Faults, str], None]


def _type_name(arg: str, allowed: tuple[str, ...] = REQUEST_NAMES) -> str:
    name = arg.upper()
    if name not in allowed:
        raise ValueError(f"{arg!r} is not one of {', '.join(allowed)}")
    return name


def _count(arg: str, default: int) -> int:
    if not arg:
        return default
    multiplier = {"k": 1000, "m": 1000_000}.get(arg[-1].lower(), 1)
    digits = arg[:-1] if multiplier > 1 else arg
    if not digits.isdigit():
        raise ValueError(f"{arg!r} is not a whole number (e.g. 5000, 50k, 20M)")
    return int(digits) * multiplier


def _millis(arg: str) -> float:
    try:
        value = float(arg) if arg else DRIP_DEFAULT_MS
    except ValueError:
        raise ValueError(f"{arg!r} is not a number of milliseconds") from None
    if not 0 < value <= 10_000:
        raise ValueError(f"{arg!r} is not between 0 and 10000 ms")
    return value


def _set_flood(f: Faults, arg: str) -> None:
    f.flood = _count(arg, 0)


def _set_endless(f: Faults, arg: str) -> None:
    f.endless_pages |= {_type_name(arg, PAGED)} if arg else frozenset(PAGED)


def _set_babble(f: Faults, arg: str) -> None:
    f.babble = _count(arg, BABBLE_DEFAULT)


def _set_hostile(f: Faults, arg: str) -> None:
    from .hostile import HOSTILE_BODIES  # hostile.py builds its bodies on import

    if arg and arg not in HOSTILE_BODIES:
        raise ValueError(f"{arg!r} is not one of {', '.join(HOSTILE_BODIES)}")
    f.hostile_bodies += (arg,) if arg else tuple(HOSTILE_BODIES)


def _set_malformed(f: Faults, arg: str) -> None:
    names = {_type_name(arg, (*REQUEST_NAMES, "ERROR"))} if arg else MALFORMED_DEFAULT
    f.malformed_answers |= names


def _set_drip(f: Faults, arg: str) -> None:
    f.slow_drip_ms = _millis(arg)


def _setter(attribute: str) -> Setter:
    def set_type(f: Faults, arg: str) -> None:
        setattr(f, attribute, _type_name(arg))
    return set_type


_SETTERS: dict[str, Setter] = {
    "flood": _set_flood,
    "endless_pages": _set_endless,
    "babble": _set_babble,
    "hostile_bodies": _set_hostile,
    "malformed_answers": _set_malformed,
    "slow_drip": _set_drip,
    "silent_on": _setter("silent_on"),
    "hang_up_on": _setter("hang_up_on"),
    "busy_on": _setter("busy_on"),
    "fail_on": _setter("fail_on"),
}

#: fault name -> what its ``:ARG`` means (for error messages and docs)
FAULTS = {
    "flood": "[:COUNT] TELEMETRY at full speed after the next answer (default: no end)",
    "endless_pages": "[:SYNC|READ_LOGS] remaining > 0 forever (default: both)",
    "babble": f"[:BYTES] bytes without a delimiter after the next answer "
              f"(default {BABBLE_DEFAULT}; k and M suffixes)",
    "hostile_bodies": "[:NAME] hostile CBOR bodies as EVENTs before each answer (default: all)",
    "malformed_answers": "[:TYPE|ERROR] answers of the wrong shape (default: all but HELLO)",
    "slow_drip": f"[:MS] one byte at a time, MS apart (default {DRIP_DEFAULT_MS:g})",
    "silent_on": ":TYPE never answer this request type",
    "hang_up_on": ":TYPE drop the link when this request type arrives",
    "busy_on": ":TYPE answer this request type with BUSY",
    "fail_on": ":TYPE fail handling this request type: INTERNAL",
}
