"""An emulated Jura machine behind any byte link (a pty, a TCP socket).

It speaks what public reverse-engineering documents of Jura's service port:
9600 baud lines ending in CR LF, every byte as four obfuscated wire bytes
(``drivers/jura/wire.py``), upper-case commands answered in lower case:

    TY:          ty:<machine type>           AN:01, AN:02   ok:
    RT:<addr>    rt:<16 words in hex>        RE:<addr>      re:<word in hex>
    WE:<addr>,<word>   ok:                   IC:            ic:<flags in hex>
    FA:04..FA:09 ok: (makes a product, counts it)     FN:<xx>  ok:

Unknown commands get no answer at all, as on the machines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ...drivers.jura.lines import EOL, LineSplitter
from ...drivers.jura.wire import MACHINE_BASE, WireDecoder, encode

__all__ = ["MACHINE_TYPES", "EmulatedJura"]

Send = Callable[[bytes], None]
HangUp = Callable[[], None]

#: firmware -> what TY: answers (types seen in public captures)
MACHINE_TYPES = {"2.03": "EF532M V02.03", "1.25": "EF516M V01.25"}
WORDS = 0x400  # EEPROM words
#: product button -> EEPROM word that counts it
_COUNTS = {"FA:04": 0, "FA:05": 2, "FA:06": 4, "FA:07": 5}  # espresso, coffee (words 0, 2); latte, cappuccino
_CLEANING_WORD = 8
_ON_BUTTONS = frozenset({"FA:04", "FA:05", "FA:06", "FA:07", "FA:08", "FA:09", "FA:01"})


class EmulatedJura:
    """One emulated Jura machine; links ``attach`` it and ``feed`` it what the host wrote."""

    family = "jura"

    def __init__(self, firmware: str = "2.03", serial: str | None = None) -> None:
        if firmware not in MACHINE_TYPES:
            raise ValueError(f"no emulated Jura firmware {firmware!r}; known: "
                             f"{', '.join(sorted(MACHINE_TYPES))}")
        self.firmware = firmware
        self.serial = serial or ""
        self.machine_type = MACHINE_TYPES[firmware]
        self.eeprom = [0] * WORDS
        self.eeprom[_CLEANING_WORD] = 3
        self.input_flags = 0x0000
        self.powered = True
        self.unknown_commands = 0
        self._decoder = WireDecoder()
        self._lines = LineSplitter()
        self._send: Send | None = None
        self._hang_up: HangUp | None = None
        self._lock = threading.RLock()

    # -- link side ----------------------------------------------------------

    def attach(self, send: Send, hang_up: HangUp) -> None:
        with self._lock:
            self._send, self._hang_up = send, hang_up
            self._decoder, self._lines = WireDecoder(), LineSplitter()

    def detach(self) -> None:
        with self._lock:
            self._send = self._hang_up = None

    def feed(self, data: bytes) -> None:
        with self._lock:
            lines, _overflow = self._lines.split(self._decoder.feed(data))
            for raw in lines:
                answer = self.answer(raw.decode("ascii", "replace").strip())
                if answer is not None and self._send is not None:
                    self._send(encode(answer.encode("ascii") + EOL, MACHINE_BASE))

    # -- the protocol ---------------------------------------------------------

    def answer(self, command: str) -> str | None:
        """The answer line to ``command``, or None for one the machine does not know."""
        name, _, argument = command.partition(":")
        handler = {"TY": self._type, "AN": self._an, "FA": self._product, "FN": self._function,
                   "RT": self._read_words, "RE": self._read_word, "WE": self._write_word,
                   "IC": self._inputs}.get(name)
        result = handler(argument) if handler is not None else None
        if result is None:
            self.unknown_commands += 1
        return result

    def _type(self, _argument: str) -> str:
        return f"ty:{self.machine_type}"

    def _an(self, argument: str) -> str | None:
        if argument not in ("01", "02", "20", "21", "AA"):
            return None
        if argument == "02":
            self.powered = False
        return "ok:"

    def _product(self, argument: str) -> str | None:
        command = f"FA:{argument}"
        if command not in _ON_BUTTONS:
            return None
        word = _COUNTS.get(command)
        if word is not None:
            self.eeprom[word] = (self.eeprom[word] + 1) & 0xFFFF
        return "ok:"

    def _function(self, argument: str) -> str | None:
        return "ok:" if _hex(argument, 2) is not None else None

    def _read_words(self, argument: str) -> str | None:
        start = _hex(argument, 4)
        if start is None or start + 16 > WORDS:
            return None
        return "rt:" + "".join(f"{word:04X}" for word in self.eeprom[start:start + 16])

    def _read_word(self, argument: str) -> str | None:
        address = _hex(argument, 4)
        return None if address is None or address >= WORDS else f"re:{self.eeprom[address]:04X}"

    def _write_word(self, argument: str) -> str | None:
        address_text, _, value_text = argument.partition(",")
        address, value = _hex(address_text, 4), _hex(value_text, 4)
        if address is None or value is None or address >= WORDS:
            return None
        self.eeprom[address] = value
        return "ok:"

    def _inputs(self, _argument: str) -> str:
        return f"ic:{self.input_flags:04X}"


def _hex(text: str, digits: int) -> int | None:
    if len(text) != digits:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None
