"""Request bodies the emulated machine accepts: field types, defaults and ranges.

One table per request type, as docs/protocol.md, section 5, states them: a
field of the wrong type, missing when required, or out of range is refused
with BAD_REQUEST naming the field; unknown fields are kept (and ignored, unless
a firmware collects them); absent optional fields take their default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..drivers.messages import MsgType

__all__ = ["REQUIRED", "RULES", "BadField", "Rule", "check_body"]

REQUIRED: Any = object()


class BadField(ValueError):
    """A request field the machine refuses; the text names the field."""


@dataclass(frozen=True)
class Rule:
    """One request field: its type (``text``, ``int``, ``float``, ``list[int]``,
    ``list[text]``, ``map``), its default (``REQUIRED`` if it must be present),
    an inclusive range for ints and the values a text may take."""

    type: str
    default: Any = None
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    fields: Mapping[str, Rule] = field(default_factory=dict)


def _text(default: Any = None, choices: tuple[str, ...] = ()) -> Rule:
    return Rule("text", default, choices=choices)


CARD = {"number": _text(), "expiry": _text(), "holder": _text()}
LOCATION = {"lat": Rule("float"), "lon": Rule("float")}
NETWORK = {"ssid": _text(), "psk": _text()}
PLACE = ("owner", "organisation", "site", "floor", "email")

#: request type -> field -> rule
RULES: dict[int, dict[str, Rule]] = {
    MsgType.HELLO: {"versions": Rule("list[int]", REQUIRED),
                    "max_frame": Rule("int", 8192, low=1024), "client": _text()},
    MsgType.IDENTIFY: {},
    MsgType.STATUS: {},
    MsgType.BREW: {"drink": _text(REQUIRED), "strength": Rule("int", 3, 1, 5),
                   "size_ml": Rule("int", 200, 1, 2000), "milk": _text(),
                   "ingredients": Rule("list[text]", [])},
    MsgType.PAY: {"method": _text(REQUIRED, ("card", "cash", "qr", "free")),
                  "amount_cents": Rule("int", 0, low=0), "currency": _text("EUR"),
                  "card": Rule("map", fields=CARD), "routing": _text()},
    MsgType.PROVISION: {"machine_name": _text(REQUIRED), **{name: _text() for name in PLACE},
                        "location": Rule("map", fields=LOCATION),
                        "network": Rule("map", fields=NETWORK)},
    MsgType.SYNC: {"max_records": Rule("int", 32, 1, 64)},
    MsgType.READ_LOGS: {"from": Rule("int", 0, low=0)},
    MsgType.RESET: {"mode": _text("soft", ("soft", "factory", "reboot"))},
}


def check_body(type_code: int, body: Mapping[Any, Any]) -> dict[str, Any]:
    """``body`` with defaults filled in; BadField names the first field refused."""
    return _check_map(body, RULES.get(type_code, {}), "")


def _check_map(body: Mapping[Any, Any], rules: Mapping[str, Rule], path: str) -> dict[str, Any]:
    odd = next((key for key in body if not isinstance(key, str)), None)
    if odd is not None:
        raise BadField(f"{path or 'body'} has a key that is not text: a {_kind(odd)}")
    checked = dict(body)
    for name, rule in rules.items():
        value = body.get(name)
        if value is None:  # absent and CBOR null alike
            if rule.default is REQUIRED:
                raise BadField(f"{path}{name} is required")
            checked[name] = rule.default
            continue
        checked[name] = _check(value, rule, f"{path}{name}")
    return checked


def _check(value: Any, rule: Rule, name: str) -> Any:
    kind = rule.type
    if kind == "map":
        if not isinstance(value, Mapping):
            raise BadField(f"{name} must be a map, got a {_kind(value)}")
        return _check_map(value, rule.fields, f"{name}.")
    if kind.startswith("list["):
        item = Rule(kind[5:-1])
        if not isinstance(value, list):
            raise BadField(f"{name} must be a {kind}, got a {_kind(value)}")
        return [_check(v, item, f"{name}[{i}]") for i, v in enumerate(value)]
    if kind == "text":
        return _check_text(value, rule, name)
    if kind == "int":
        return _check_int(value, rule, name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadField(f"{name} must be a finite float, got a {_kind(value)}")
    return float(value)


def _check_text(value: Any, rule: Rule, name: str) -> str:
    if not isinstance(value, str):
        raise BadField(f"{name} must be text, got a {_kind(value)}")
    if rule.default is REQUIRED and not value:
        raise BadField(f"{name} must not be empty")
    if rule.choices and value not in rule.choices:
        raise BadField(f"{name} must be one of {', '.join(rule.choices)}, got {value[:40]!r}")
    return value


def _check_int(value: Any, rule: Rule, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadField(f"{name} must be an int, got a {_kind(value)}")
    low = -math.inf if rule.low is None else rule.low
    high = math.inf if rule.high is None else rule.high
    if not low <= value <= high:
        bounds = f"{rule.low}..{rule.high}" if rule.high is not None else f">= {rule.low}"
        raise BadField(f"{name} must be {bounds}, got {'a huge int' if _huge(value) else value}")
    return value


def _huge(value: int) -> bool:
    return value.bit_length() > 64


def _kind(value: Any) -> str:
    """The CBOR name of a value's type, for messages."""
    names = {bool: "bool", int: "int", float: "float", str: "text", bytes: "bytes",
             list: "list", dict: "map", type(None): "null"}
    return names.get(type(value), type(value).__name__)
