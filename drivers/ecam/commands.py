"""The data of ECAM requests and answers beyond the status: one builder and one reader each.

Layouts the public projects document with captured frames (offsets in the data,
after the command byte):

    0x83 brew       f0 | recipe | 01 start, 02 stop | parameters | mode
                    a parameter is an id and its value: ids 1 (coffee ml), 9 (milk),
                    15 (water ml) take two bytes, big-endian; the others (2 taste,
                    8 double shot, 0 temperature, 28 accessory...) one: every
                    published brew frame parses so. ``mode`` is (profile << 2) | 2
                    (prepare): 06 for profile 1 in every published frame
                    (sk7n4k3d/delonghi-ha api.py builds it so; mmastrac/longshot
                    decodes 06 as the taste type "prepare")
    0xA2 statistics 0f | first id (2) | count   ->  0f | (id (2) | value (4))...
                    the app asks at most ten at once (Arbuzov const.py: 0f 00 64 0a)
    0x95 parameter  0f | id (2) | count         ->  0f | id (2) | value (4)...
                    (cafy commands.ts: 0d 08 95 0f 00 32 01 5d df; the answer as
                    cafy's decoder reads it, getParametersFromByte)
    0xA4 profiles   f0 | first | last           ->  f0 | (name (20, UTF-16-BE) | icon)...
    0xA9 select     f0 | profile                ->  f0 | profile | status
    0x90 setting    0f | id (2) | value (4)         (auto-off 0x3e, hardness 0x32, ...)

The bench also uses layouts no public capture shows; the vendor app's code names
their commands (cafy EcamManager.ts: PROFILES_NAME_WRITE 0xA5, RECIPES_QTY_READ
0xA6), the layouts follow the documented ones and are marked ``assumed`` in
docs/machines/ecam.md:

    0xA5 name       f0 | profile | name (20) | icon  ->  f0 | profile | status
    0xA6 recipe     f0 | profile | recipe            ->  f0 | profile | recipe | parameters
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
    "brew_mode",
    "brew_request",
    "name_bytes",
    "parameter_read",
    "parameters_bytes",
    "parse_brew",
    "parse_parameters",
    "parse_profiles",
    "parse_statistics",
    "profiles_answer",
    "statistics_answer",
    "statistics_requests",
]

BREW, STATISTICS, PROFILES, SELECT_PROFILE = 0x83, 0xA2, 0xA4, 0xA9
WRITE_SETTING, READ_SETTING, SET_PROFILE_NAME, READ_RECIPE = 0x90, 0x95, 0xA5, 0xA6
F0, OF = 0xF0, 0x0F  # the first data byte of profile/brew and of monitor/statistics frames
START, STOP = 0x01, 0x02
PREPARE = 0x02  # the low two bits of a brew frame's mode byte: make it (1 would save it)
STATISTICS_AT_ONCE = 10  # the most counters the vendor app asks in one request
NAME_BYTES = 20
NAME_CHARS = NAME_BYTES // 2
WIDE = frozenset({1, 9, 15})  # parameters whose value takes two bytes
#: parameter names the recipe lists of the vendor's app support; others stay ``p<id>``
#: (0, 8 and 28 as sk7n4k3d/delonghi-ha and mmastrac/longshot name them)
PARAMETERS = {0: "temperature", 1: "coffee_ml", 2: "taste", 8: "double_shot", 9: "milk",
              15: "water_ml", 28: "accessory"}
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


def brew_mode(profile: int) -> int:
    """The last byte of a brew frame: the profile it is made for, and "prepare"."""
    return (profile & 0x3F) << 2 | PREPARE


def brew_request(recipe: int, values: Mapping[int, int], start: bool = True,
                 profile: int = 1) -> bytes:
    """The data of a brew frame: start ``recipe`` with ``values`` (in the order given:
    the app's order is the recipe's, ``recipes.Recipe.parameters``) as ``profile``, or
    stop it."""
    mode = bytes((brew_mode(profile),))
    if not start:
        return bytes((F0, recipe, STOP)) + mode
    return bytes((F0, recipe, START)) + parameters_bytes(values) + mode


def parse_brew(data: bytes) -> dict[str, Any]:
    """The fields of a brew request's data (or of its answer: recipe, op, status)."""
    if len(data) < 3 or data[0] != F0:
        raise FrameError(f"not ECAM brew data: {data.hex()}")
    fields: dict[str, Any] = {"recipe": data[1], "op": {START: "start", STOP: "stop"}.get(
        data[2], f"op {data[2]}")}
    if len(data) == 4 and data[3] & 0x03 != PREPARE:
        fields["result"] = data[3]
    elif len(data) >= 4:
        fields["profile"] = data[-1] >> 2
        if len(data) > 4:
            fields["parameters"] = _named(parse_parameters(data[3:-1]))
    return fields


def parameter_read(ident: int, count: int = 1) -> bytes:
    """The data of a parameter read (0x95): ``count`` parameters from ``ident``."""
    return bytes((OF,)) + ident.to_bytes(2, "big") + bytes((count,))


def statistics_requests(first: int, count: int) -> list[bytes]:
    """The data of the statistics reads (0xA2) for ``count`` counters from ``first``, in
    pieces of at most ``STATISTICS_AT_ONCE`` as the app asks."""
    return [bytes((OF,)) + start.to_bytes(2, "big") + bytes((min(STATISTICS_AT_ONCE,
                                                                  first + count - start),))
            for start in range(first, first + count, STATISTICS_AT_ONCE)]


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
