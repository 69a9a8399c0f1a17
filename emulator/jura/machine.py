"""An emulated Jura machine behind any byte link (a pty, a TCP socket).

It speaks what public reverse-engineering documents of Jura's service port:
9600 baud lines ending in CR LF, every byte as four obfuscated wire bytes
(``drivers/jura/wire.py``) sent about 8 ms apart (``pacer``), upper-case commands
answered in lower case:

    TY:          ty:<machine type>           AN:01, AN:02   ok:
    RT:<addr>    rt:<16 words in hex>        RE:<addr>      re:<word in hex>
    WE:<addr>,<word>   ok:                   IC:            ic:<flags in hex>
    FA:<button>  ok: (the model's product; counted)  FN:<xx>  ok:
    FN:8A, FN:89 ok:, then ku:/Ku: debug lines until AN:02

Which buttons make what is the model's (``models``, one table per public source);
a button the model does not have, and any unknown command, gets no answer at all,
as on the machines. ``made`` lists the products made, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ...drivers.jura.lines import EOL
from ...drivers.jura.wire import MACHINE_BASE, encode
from ...drivers.jura.wire_lines import WireLineFramer
from .models import EMULATED_MODELS, FIRMWARE_MODELS, emulated_model
from .pacer import MACHINE_PACE, Pacer

__all__ = ["MACHINE_TYPES", "EmulatedJura"]

Send = Callable[[bytes], None]
HangUp = Callable[[], None]

#: firmware -> what TY: answers
MACHINE_TYPES = {firmware: EMULATED_MODELS[model].machine_type
                 for firmware, model in FIRMWARE_MODELS.items()}
WORDS = 0x400  # EEPROM words
#: FN: codes that start the debug output: 8A in SkyFox277/esphome-jura docs/jura-protocol.md
#: ("Debug mode on (machine sends ku:/Ku: clock bytes)"), 89 in other public reports
DEBUG_ON = frozenset({"89", "8A"})


class EmulatedJura:
    """One emulated Jura machine; links ``attach`` it and ``feed`` it what the host wrote."""

    family = "jura"

    def __init__(self, firmware: str | None = None, serial: str | None = None,
                 model: str | None = None, pace: float = MACHINE_PACE) -> None:
        self.model = emulated_model(model, firmware)
        self.firmware = self.model.machine_type.split()[-1]
        self.serial = serial or ""
        self.machine_type = self.model.machine_type
        self.pace = pace
        self.eeprom = [0] * WORDS
        for word, value in self.model.eeprom.items():
            self.eeprom[word] = value
        self.input_flags = self.model.idle_inputs
        self.powered = True
        self.debug = False
        self.unknown_commands = 0
        #: answers to leave out, one per command from now on (public dumps report
        #: intermittent timeouts on some reads)
        self.skip_answers = 0
        self.made: list[str] = []
        self._debug_ticks = 0
        self._framer = WireLineFramer()
        self._pacer: Pacer | None = None
        self._hang_up: HangUp | None = None
        self._lock = threading.RLock()

    # -- link side ----------------------------------------------------------

    def attach(self, send: Send, hang_up: HangUp) -> None:
        with self._lock:
            self._stop_pacer()
            self._pacer = Pacer(send, self.pace, self._debug_line)
            self._hang_up = hang_up
            self._framer = WireLineFramer()

    def detach(self) -> None:
        with self._lock:
            self._stop_pacer()
            self._hang_up = None

    def feed(self, data: bytes) -> None:
        with self._lock:
            for line in self._framer.feed(data):
                if not line.complete:
                    continue
                answer = self.answer(line.payload.decode("ascii", "replace").strip())
                if answer is not None and self.skip_answers > 0:
                    self.skip_answers -= 1
                    continue
                if answer is not None and self._pacer is not None:
                    self._pacer.put(encode(answer.encode("ascii") + EOL, MACHINE_BASE))

    def _stop_pacer(self) -> None:
        if self._pacer is not None:
            self._pacer.stop()
            self._pacer = None

    def _debug_line(self) -> bytes | None:
        """A machine in debug mode keeps talking (``ku:`` lines) while nobody asks."""
        if not self.debug:
            return None
        self._debug_ticks += 1
        prefix = "ku" if self._debug_ticks % 2 else "Ku"
        return encode(f"{prefix}:{self._debug_ticks & 0xFF:02X}".encode() + EOL, MACHINE_BASE)

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
        if argument not in ("01", "02", "20", "21"):
            return None
        if argument == "02":
            self.powered, self.debug = False, False
        return "ok:"

    def _product(self, argument: str) -> str | None:
        button = self.model.buttons.get(f"FA:{argument}")
        if button is None:
            return None
        self.made.append(button.makes)
        if button.counts is not None:
            self.eeprom[button.counts] = (self.eeprom[button.counts] + 1) & 0xFFFF
        return "ok:"

    def _function(self, argument: str) -> str | None:
        if _hex(argument, 2) is None:
            return None
        if argument in DEBUG_ON:
            self.debug = True
        return "ok:"

    def _read_words(self, argument: str) -> str | None:
        start = _hex(argument, 4)
        if start is None or start + 16 > WORDS:
            return None
        return "rt:" + "".join(f"{word:04X}" for word in self.eeprom[start:start + 16])

    def _read_word(self, argument: str) -> str | None:
        # RE:10 (SkyFox277/esphome-jura) and RE:0010 (PromyLOPh/juramote) are both seen
        address = _hex(argument, 2) if len(argument) == 2 else _hex(argument, 4)
        return None if address is None or address >= WORDS else f"re:{self.eeprom[address]:04X}"

    def _write_word(self, argument: str) -> str | None:
        address_text, _, value_text = argument.partition(",")
        address, value = _hex(address_text, len(address_text)), _hex(value_text, 4)
        if address is None or value is None or address >= WORDS or len(address_text) not in (2, 4):
            return None
        self.eeprom[address] = value
        return "ok:"

    def _inputs(self, _argument: str) -> str:
        return f"ic:{self.input_flags}"


def _hex(text: str, digits: int) -> int | None:
    if len(text) != digits or not text:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None
