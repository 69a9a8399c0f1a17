"""What a Jura machine's answer lines say, as named fields.

Answers echo their command in lower case: ``TY:`` is answered by
``ty:EF532M V02.03``, ``RT:0000`` by ``rt:`` and sixteen 16-bit words in hex,
``IC:`` by ``ic:`` and the input board's flags in hex; most others by ``ok:``.
Fields that cannot be parsed are kept as text, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["COUNTER_WORDS", "parse_answer"]

#: EEPROM words 0x00.. that count products and cleanings on the F-series and E-series
#: machines public projects document; other models may differ (the words stay in ``words``).
COUNTER_WORDS = {0: "espresso", 1: "double_espresso", 2: "coffee", 3: "double_coffee",
                 8: "cleanings"}
_MAINTENANCE = frozenset({"cleanings"})
_HEX = re.compile(r"^[0-9A-Fa-f]*$")


def parse_answer(line: str, command: str = "") -> dict[str, Any]:
    """Fields of one answer line; ``command`` is what it answers, when known."""
    prefix, sep, rest = line.partition(":")
    fields: dict[str, Any] = {"line": line}
    if not sep:
        return fields
    fields["answer"] = prefix
    if prefix == "ty":
        fields["machine_type"] = rest.strip()
    elif prefix == "rt" and _HEX.match(rest) and len(rest) % 4 == 0:
        fields.update(_eeprom(rest, command))
    elif prefix in ("re", "ic") and _HEX.match(rest) and rest:
        fields["word" if prefix == "re" else "input_flags"] = int(rest, 16)
    elif rest:
        fields["text"] = rest
    return fields


def _eeprom(hex_words: str, command: str) -> dict[str, Any]:
    words = [int(hex_words[i:i + 4], 16) for i in range(0, len(hex_words), 4)]
    fields: dict[str, Any] = {"words": words}
    start = _address(command)
    if start is None:
        return fields
    counters: dict[str, int] = {}
    maintenance: dict[str, int] = {}
    for offset, value in enumerate(words):
        name = COUNTER_WORDS.get(start + offset)
        if name is not None:
            (maintenance if name in _MAINTENANCE else counters)[name] = value
    if counters:
        fields["counters"] = counters
    if maintenance:
        fields["maintenance"] = maintenance
    return fields


def _address(command: str) -> int | None:
    _, _, argument = command.partition(":")
    try:
        return int(argument, 16) if argument else None
    except ValueError:
        return None
