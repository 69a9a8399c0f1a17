"""What a Jura machine's answer lines say, as named fields.

Answers echo their command in lower case: ``TY:`` is answered by
``ty:EF532M V02.03``, ``RT:0000`` by ``rt:`` and sixteen 16-bit words in hex,
``IC:`` by ``ic:`` and the input board's flags in hex; buttons and writes by
``ok:``. A machine in debug mode also sends ``ku:``/``Ku:`` lines of its own until
it is switched off (SkyFox277/esphome-jura docs/jura-protocol.md, ``FN:`` table).
EEPROM words and input flags are named only by the model's layout (``choice``);
fields that cannot be parsed are kept as text, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

from .choice import Layout

__all__ = ["DEBUG_ANSWERS", "READ_COMMANDS", "answers_command", "parse_answer"]

DEBUG_ANSWERS = frozenset({"ku", "Ku"})
#: Commands that only read, answered by their echo (so sending one again is harmless).
READ_COMMANDS = frozenset({"TY", "TL", "IC", "RT", "RE", "RR", "HZ", "CS", "CM"})
_HEX = re.compile(r"^[0-9A-Fa-f]*$")


def answers_command(line: str, command: str) -> bool:
    """Whether ``line`` is the answer to ``command``: its echo in lower case, or ``ok:``
    for a command that is not a read (a read's answer is always its echo)."""
    prefix, sep, _ = line.partition(":")
    name = command.partition(":")[0]
    if not sep:
        return False
    return prefix == name.lower() or (prefix == "ok" and name not in READ_COMMANDS)


def parse_answer(line: str, command: str = "", layout: Layout | None = None) -> dict[str, Any]:
    """Fields of one answer line; ``command`` is what it answers, when known."""
    prefix, sep, rest = line.partition(":")
    fields: dict[str, Any] = {"line": line}
    if not sep:
        return fields
    fields["answer"] = prefix
    if prefix == "ty":
        fields["machine_type"] = rest.strip()
    elif prefix in DEBUG_ANSWERS:
        fields["debug"] = rest
    elif prefix == "rt" and rest and _HEX.match(rest) and len(rest) % 4 == 0:
        fields.update(_eeprom(rest, command, layout))
    elif prefix == "re" and rest and _HEX.match(rest):
        fields["word"] = int(rest, 16)
    elif prefix == "ic" and rest and _HEX.match(rest):
        fields.update(_inputs(rest, layout))
    elif rest:
        fields["text"] = rest
    return fields


def _eeprom(hex_words: str, command: str, layout: Layout | None) -> dict[str, Any]:
    words = [int(hex_words[i:i + 4], 16) for i in range(0, len(hex_words), 4)]
    fields: dict[str, Any] = {"words": words}
    start = _address(command)
    if start is None or layout is None:
        return fields
    counters: dict[str, int] = {}
    maintenance: dict[str, int] = {}
    for offset, value in enumerate(words):
        if (name := layout.counters.get(start + offset)) is not None:
            counters[name] = value
        elif (name := layout.maintenance.get(start + offset)) is not None:
            maintenance[name] = value
    if counters:
        fields["counters"] = counters
    if maintenance:
        fields["maintenance"] = maintenance
    return fields


def _inputs(hex_flags: str, layout: Layout | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"input_flags": int(hex_flags, 16)}
    if layout is not None and layout.inputs and len(hex_flags) >= 2:
        first_byte = int(hex_flags[:2], 16)  # public sources read the first byte's bits
        fields["inputs"] = {flag.name: flag.read(first_byte) for flag in layout.inputs}
    return fields


def _address(command: str) -> int | None:
    _, _, argument = command.partition(":")
    try:
        return int(argument, 16) if argument else None
    except ValueError:
        return None
