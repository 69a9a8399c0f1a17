"""What an ECAM frame means, as the details of its capture record.

The driver's live records and the records imported from a btsnoop log carry the
same details, so both classify, hunt and export alike:

    family    ecam
    command   the command's name (monitor, brew, profiles, ...) or its hex
    data      the data bytes as hex (opaque: profile names and recipes live here)
    status    a monitor answer's named fields (drivers.ecam.monitor)
    profiles  a profile-names answer: id, name, icon of each
    statistics  a statistics answer: counter id -> value
    brew      a brew request or answer: recipe, op, parameters or result
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ..errors import FrameError
from .commands import BREW, PROFILES, STATISTICS, parse_brew, parse_profiles, parse_statistics
from .frames import ANSWER, EcamFrame
from .monitor import MONITOR, status

__all__ = ["FAMILY", "frame_meta"]

FAMILY = "ecam"


def _statistics(frame: EcamFrame) -> dict[str, int]:
    return {str(ident): value for ident, value in parse_statistics(frame.data).items()}


_ANSWERS: dict[int, tuple[str, Callable[[EcamFrame], Any]]] = {
    MONITOR: ("status", status),
    PROFILES: ("profiles", lambda frame: parse_profiles(frame.data)),
    STATISTICS: ("statistics", _statistics),
}


def frame_meta(frame: EcamFrame) -> dict[str, Any]:
    """The details of ``frame``'s record; parts that do not parse stay in ``data`` only."""
    meta: dict[str, Any] = {"family": FAMILY, "command": frame.command_name,
                            "data": frame.data.hex()}
    decoder = _ANSWERS.get(frame.command) if frame.lead == ANSWER else None
    with contextlib.suppress(FrameError):
        if decoder is not None:
            meta[decoder[0]] = decoder[1](frame)
        elif frame.command == BREW:
            meta["brew"] = parse_brew(frame.data)
    return meta
