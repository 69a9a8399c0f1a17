"""An emulated ECAM machine: answers request frames as the public captures show.

It keeps what the host can read and change: the status (ready, water spout on),
four profiles with names and icons, every profile's recipe quantities, the
statistics counters (a brew counts in its recipe's counter and the published
totals) and the parameters (settings). It answers the requests the vendor app
sends as public projects captured them (a parameter read carries its count:
``0d 08 95 0f 00 32 01 5d df``), and ``brews`` lists the recipes it started and
the profile each was made for. Frames that fail their CRC, commands it does not
know and layouts no machine takes get no answer, so the host times out as it
would with a real machine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ...drivers.ecam.commands import (
    BREW,
    F0,
    NAME_BYTES,
    OF,
    PROFILES,
    READ_RECIPE,
    READ_SETTING,
    SELECT_PROFILE,
    SET_PROFILE_NAME,
    STATISTICS,
    WRITE_SETTING,
    parameters_bytes,
    profiles_answer,
    statistics_answer,
)
from ...drivers.ecam.frames import ANSWER, EcamSplitter, decode, encode
from ...drivers.ecam.monitor import MONITOR
from ...drivers.ecam.recipes import RECIPE_COUNTER_BASE, RECIPES, Recipe
from ...drivers.errors import FrameError

__all__ = ["MODELS", "EmulatedEcam"]

Send = Callable[[bytes], None]
HangUp = Callable[[], None]
Handler = Callable[[bytes], "bytes | None"]

#: firmware -> model the emulated machine says it is
MODELS = {"1.0": "ECAM 650.75.MS"}
#: the status data of a ready machine with its water spout in (a published frame)
READY = bytes.fromhex("0f010500000007000000000000 00".replace(" ", ""))
#: ... and of one that has just started a coffee (Arbuzov const.py START_COFFEE: 07 04)
STARTING = bytes.fromhex("0f01050000000704000000000000")
MILK = frozenset({r.number for r in RECIPES if r.milk and r.coffee_ml})
OK = 0
GUEST = 4
POWER = 0x84
MAX_PARAMETERS = 58  # what one answer frame holds (4 bytes each)
UNANSWERED = frozenset({POWER})  # requests a machine takes without an answer frame


class EmulatedEcam:
    """One emulated ECAM machine; a link ``attach``-es it and ``feed``-s it what the host wrote."""

    family = "ecam"

    def __init__(self, firmware: str = "1.0", serial: str | None = None) -> None:
        if firmware not in MODELS:
            raise ValueError(f"no emulated ECAM firmware {firmware!r}; known: "
                             f"{', '.join(sorted(MODELS))}")
        self.firmware = firmware
        self.model = MODELS[firmware]
        self.serial = serial or "1538752"
        self.device_name = f"D{self.serial}"[:16]
        self.profiles: dict[int, tuple[str, int]] = {
            1: ("Profile 1", 0), 2: ("Profile 2", 1), 3: ("Profile 3", 2), 4: ("Guest", 3)}
        self.active_profile = 1
        self.recipes = {p: {r.number: _defaults(r) for r in RECIPES} for p in self.profiles}
        self.statistics: dict[int, int] = {105: 2, 106: 48_000, 108: 1, 115: 30, 3000: 250,
                                           3001: 120, 3080: 370}
        self.settings = {0x32: 3, 0x3D: 1, 0x3E: 1, 0x3F: 0}
        self.status_data = READY
        self.brews: list[tuple[int, int]] = []  # (recipe, profile) of each brew started
        self._starting = False  # the next status shows the brew under way
        self.powered_on = 0  # power-on requests (0x84 0f 02 01) taken
        self.unknown_commands = 0
        self._splitter = EcamSplitter()
        self._send: Send | None = None
        self._lock = threading.RLock()
        self._handlers: dict[int, Handler] = {
            MONITOR: self._monitor, BREW: self._brew,
            STATISTICS: self._statistics, PROFILES: self._profiles,
            SELECT_PROFILE: self._select, SET_PROFILE_NAME: self._name,
            READ_RECIPE: self._recipe, READ_SETTING: self._read_setting,
            WRITE_SETTING: self._write_setting, POWER: self._power,
        }

    # -- link side ----------------------------------------------------------

    def attach(self, send: Send, hang_up: HangUp) -> None:
        with self._lock:
            self._send, self._splitter = send, EcamSplitter()
            self._starting = False  # a host connecting later finds the drink long made

    def detach(self) -> None:
        with self._lock:
            self._send = None

    def feed(self, data: bytes) -> None:
        with self._lock:
            frames, _skipped = self._splitter.feed(data)
            for raw in frames:
                answer = self.answer(raw)
                if answer is not None and self._send is not None:
                    self._send(answer)

    # -- the protocol ---------------------------------------------------------

    def answer(self, raw: bytes) -> bytes | None:
        """The answer frame to request frame ``raw``, or None (no answer)."""
        try:
            frame = decode(raw)
        except FrameError:
            return None
        handler = self._handlers.get(frame.command) if frame.is_request else None
        data = handler(frame.data) if handler is not None else None
        if data is None:
            self.unknown_commands += 1
            return None
        if frame.command in UNANSWERED:
            return None  # taken: the app expects no answer frame to it
        return encode(frame.command, data, ANSWER)

    def _brew(self, data: bytes) -> bytes | None:
        if len(data) < 4 or data[0] != F0:
            return None
        recipe, op = data[1], data[2]
        if op == 1:
            self._count(recipe)
            self.brews.append((recipe, data[-1] >> 2))  # the mode byte: profile << 2 | 2
            self._starting = True
        return bytes((F0, recipe, op, OK))

    def _monitor(self, _data: bytes) -> bytes:
        """The status; right after a brew starts, once, the published "coffee starting"
        one (state 7 with a step under way: dispensing, not ready)."""
        if self._starting and self.status_data == READY:
            self._starting = False
            return STARTING
        return self.status_data

    def _power(self, data: bytes) -> bytes | None:
        """The app's power-on request (``0d 07 84 0f 02 01 55 12``) gets no answer frame:
        the status that follows shows the machine turning on."""
        if data != bytes((OF, 0x02, 0x01)):
            return None
        self.powered_on += 1
        return b""

    def _count(self, recipe: int) -> None:
        stats = self.statistics
        total = 3001 if recipe in MILK else 3000
        for ident in (RECIPE_COUNTER_BASE + recipe, total, 3080):
            stats[ident] = stats.get(ident, 0) + 1

    def _statistics(self, data: bytes) -> bytes | None:
        if len(data) != 4 or data[0] != OF:
            return None
        first, count = int.from_bytes(data[1:3], "big"), min(data[3], 41)
        return statistics_answer({i: self.statistics.get(i, 0) for i in range(first, first + count)})

    def _profiles(self, data: bytes) -> bytes | None:
        if len(data) != 3 or data[0] != F0 or not 1 <= data[1] <= data[2]:
            return None
        wanted = range(data[1], data[2] + 1)
        return profiles_answer({p: self.profiles[p] for p in wanted if p in self.profiles})

    def _select(self, data: bytes) -> bytes | None:
        """Profiles 1-3 are selected with status 0, the guest (4) with 1, as the answers
        published in Arbuzov/home_assistant_delonghi_primadonna DEBUG_NOTES.md show."""
        if len(data) != 2 or data[0] != F0:
            return None
        known = data[1] in self.profiles
        if known:
            self.active_profile = data[1]
        return bytes((F0, data[1], OK if known and data[1] != GUEST else 1))

    def _name(self, data: bytes) -> bytes | None:
        if len(data) != 3 + NAME_BYTES or data[0] != F0:
            return None
        number = data[1]
        if number not in self.profiles:
            return bytes((F0, number, 1))
        name = data[2:2 + NAME_BYTES].decode("utf-16-be", "replace").rstrip("\0")
        self.profiles[number] = (name, data[-1])
        return bytes((F0, number, OK))

    def _recipe(self, data: bytes) -> bytes | None:
        if len(data) != 3 or data[0] != F0:
            return None
        values = self.recipes.get(data[1], {}).get(data[2])
        if values is None:
            return None
        return bytes((F0, data[1], data[2])) + parameters_bytes(values)

    def _read_setting(self, data: bytes) -> bytes | None:
        """``0f | id | count`` -> ``0f | id | value (4)`` for each of ``count`` parameters
        from ``id`` (a parameter the machine was never set keeps 0)."""
        if len(data) != 4 or data[0] != OF or not 1 <= data[3] <= MAX_PARAMETERS:
            return None
        first = int.from_bytes(data[1:3], "big")
        values = b"".join(self.settings.get(ident, 0).to_bytes(4, "big")
                          for ident in range(first, first + data[3]))
        return data[:3] + values

    def _write_setting(self, data: bytes) -> bytes | None:
        if len(data) != 7 or data[0] != OF:
            return None
        self.settings[int.from_bytes(data[1:3], "big")] = int.from_bytes(data[3:], "big")
        return bytes((OF,)) + data[1:3] + bytes((OK,))


def _defaults(recipe: Recipe) -> dict[int, int]:
    """A recipe's stored quantities: coffee, milk and water parameters that it has."""
    pairs = ((1, recipe.coffee_ml), (9, recipe.milk), (15, recipe.water_ml))
    return {ident: value for ident, value in pairs if value}
