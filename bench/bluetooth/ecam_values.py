"""De'Longhi ECAM frames found in a Bluetooth log, as capture records.

An ECAM frame is not a CM-500 message, so its record is a link record: the
frame's bytes as ``raw`` and what it means in ``meta`` (``drivers.ecam.records``:
``family``, ``command``, ``data`` as hex, ``status``, ``profiles``...), the same
details a live ``family=ecam`` connection records, which the classifier walks
like any link record's details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...drivers.ecam.frames import EcamSplitter, decode
from ...drivers.ecam.records import frame_meta
from ...drivers.errors import FrameError
from ...drivers.records import Record, Stamp

__all__ = ["ecam_records", "has_ecam_frame"]

CHANNEL = "ble"


def has_ecam_frame(splitter: EcamSplitter, value: bytes) -> bool:
    """Whether ``value`` completes, in the stream ``splitter`` follows, a frame that checks."""
    frames, _ = splitter.feed(value)
    return any(_checks(frame) for frame in frames)


def ecam_records(stamp: Stamp, direction: str, details: Mapping[str, Any], value: bytes,
                 splitter: EcamSplitter) -> list[Record]:
    """The records of the frames ``value`` completes; skipped bytes and bad frames are
    frame errors."""
    frames, skipped = splitter.feed(value)
    out = [Record(CHANNEL, direction, stamp, run, error="bytes outside any ECAM frame",
                  meta=details) for run in skipped]
    for raw in frames:
        try:
            frame = decode(raw)
        except FrameError as exc:
            out.append(Record(CHANNEL, direction, stamp, raw, error=str(exc), meta=details))
            continue
        meta = {**details, **frame_meta(frame)}
        out.append(Record(CHANNEL, direction, stamp, raw, meta=meta))
    return out


def _checks(frame: bytes) -> bool:
    try:
        decode(frame)
    except FrameError:
        return False
    return True
