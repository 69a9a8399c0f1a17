"""The data of ECAM requests and answers beyond the status: one builder and one reader each.

Layouts the public projects document with captured frames (offsets in the data,
after the command byte):

    0x83 brew       f0 | recipe | 01 start, 02 stop | parameters | 06
                    a parameter is an id and its value: ids 1 (coffee ml), 9 (milk),
                    15 (water ml) take two bytes, big-endian; the others (2 taste,
                    8, 28...) one: every published brew frame parses so
    0xA2 statistics 0f | first id (2) | count   ->  0f | (id (2) | value (4))...
    0xA4 profiles   f0 | first | last           ->  f0 | (name (20, UTF-16-BE) | icon)...
    0xA9 select     f0 | profile                ->  f0 | profile | status
    0x90 setting    0f | id (2) | value (4)         (auto-off 0x3e, hardness 0x32, ...)

The bench also uses three layouts no public capture shows; they follow the
documented ones and are marked ``assumed`` in docs/machines/ecam.md:

    0xA5 name       f0 | profile | name (20) | icon  ->  f0 | profile | status
    0xA6 recipe     f0 | profile | recipe            ->  f0 | profile | recipe | parameters
    0x95 setting?   0f | id (2)                       ->  0f | id (2) | value (4)
    0x83 answer     f0 | recipe | 01/02 | status
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from ..errors import FrameError

__all__ = [
    "BREW",
    "F0",
    "NAME_BYTES",
    "NAME_CHARS",
    "OF",
    "PARAMETERS",
    "PROFILES",
    "READ_RECIPE",
    "READ_SETTING",
    "SELECT_PROFILE",
    "SET_PROFILE_NAME",
    "STATISTICS",
    "WRITE_SETTING",
    "brew_request",
    "name_bytes",
    "parameters_bytes",
    "parse_brew",
    "parse_parameters",
    "parse_profiles",
    "parse_statistics",
    "profiles_answer",
    "statistics_answer",
]

BREW, STATISTICS, PROFILES, SELECT_PROFILE = 0x83, 0xA2, 0xA4, 0xA9
WRITE_SETTING, READ_SETTING, SET_PROFILE_NAME, READ_RECIPE = 0x90, 0x95, 0xA5, 0xA6
F0, OF = 0xF0, 0x0F  # the first data byte of profile/brew and of monitor/statistics frames
START, STOP = 0x01, 0x02
TRAILER = 0x06
NAME_BYTES = 20
NAME_CHARS = NAME_BYTES // 2
WIDE = frozenset({1, 9, 15})  # parameters whose value takes two bytes
#: parameter names the recipe lists of the vendor's app support; others stay ``p<id>``
PARAMETERS = {1: "coffee_ml", 2: "taste", 9: "milk", 15: "water_ml"}
_STAT = struct.Struct(">HI")


def parameters_bytes(values: Mapping[int, int]) -> bytes:
    """Parameters in the brew layout (id, then one or two value bytes)."""
    out = bytearray()
    for ident, value in values.items():
        out.append(ident)
        out += value.to_bytes(2 if ident in WIDE else 1, "big")
    return bytes(out)


def parse_parameters(data: bytes) -> dict[int, int]:
    """The parameters of a brew or recipe frame (without the trailer).

    Raises:
        FrameError: a parameter cut short.
    """
    values: dict[int, int] = {}
    at = 0
    while at < len(data):
        ident = data[at]
        size = 2 if ident in WIDE else 1
        if at + 1 + size > len(data):
            raise FrameError(f"ECAM parameter {ident} is cut short at byte {at}")
        values[ident] = int.from_bytes(data[at + 1:at + 1 + size], "big")
        at += 1 + size
    return values


def brew_request(recipe: int, values: Mapping[int, int], start: bool = True) -> bytes:
    """The data of a brew frame: start ``recipe`` with ``values``, or stop it."""
    if not start:
        return bytes((F0, recipe, STOP, TRAILER))
    return bytes((F0, recipe, START)) + parameters_bytes(values) + bytes((TRAILER,))


def parse_brew(data: bytes) -> dict[str, Any]:
    """The fields of a brew request's data (or of its answer: recipe, op, status)."""
    if len(data) < 3 or data[0] != F0:
        raise FrameError(f"not ECAM brew data: {data.hex()}")
    fields: dict[str, Any] = {"recipe": data[1], "op": {START: "start", STOP: "stop"}.get(
        data[2], f"op {data[2]}")}
    if len(data) == 4 and data[3] != TRAILER:
        fields["result"] = data[3]
    elif data[-1] == TRAILER and len(data) > 4:
        fields["parameters"] = _named(parse_parameters(data[3:-1]))
    return fields


def _named(values: Mapping[int, int]) -> dict[str, int]:
    return {PARAMETERS.get(ident, f"p{ident}"): value for ident, value in values.items()}


def statistics_answer(values: Mapping[int, int]) -> bytes:
    """The data of a statistics answer for ``values`` (id -> counter)."""
    return bytes((OF,)) + b"".join(_STAT.pack(i, v) for i, v in values.items())


def parse_statistics(data: bytes) -> dict[int, int]:
    """Counters by id from a statistics answer's data.

    Raises:
        FrameError: not a whole number of 6-byte records after the 0x0F.
    """
    if not data or data[0] != OF or (len(data) - 1) % _STAT.size:
        raise FrameError(f"not ECAM statistics data: {len(data)} bytes")
    return dict(_STAT.iter_unpack(data[1:]))


def name_bytes(name: str) -> bytes:
    """A profile name as the machine stores it: UTF-16-BE, zero-padded to 20 bytes."""
    return name[:NAME_CHARS].encode("utf-16-be").ljust(NAME_BYTES, b"\0")[:NAME_BYTES]


def profiles_answer(names: Mapping[int, tuple[str, int]]) -> bytes:
    """The data of a profile-names answer: name and icon of each profile, in order."""
    return bytes((F0,)) + b"".join(name_bytes(n) + bytes((icon,)) for n, icon in names.values())


def parse_profiles(data: bytes, first: int = 1) -> list[dict[str, Any]]:
    """Profiles (id, name, icon) from a profile-names answer's data."""
    if not data or data[0] != F0:
        raise FrameError(f"not ECAM profile data: {data.hex()}")
    step = NAME_BYTES + 1
    profiles = []
    for number, at in enumerate(range(1, len(data) - step + 1, step), first):
        raw = data[at:at + NAME_BYTES]
        name = raw.decode("utf-16-be", "replace").rstrip("\0").strip()
        profiles.append({"id": number, "name": name, "icon": data[at + NAME_BYTES]})
    return profiles
