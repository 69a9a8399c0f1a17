"""What a hostile or broken firmware sends: odd CBOR bodies and answers of the wrong shape.

``HOSTILE_BODIES`` are complete CBOR bodies (bytes), each one a valid frame body
that the codec decodes, holding a value a careless host cannot save or analyse.
``MALFORMED_ANSWERS`` are response bodies of the wrong shape, per request type.
Both are used by the ``hostile_bodies`` and ``malformed_answers`` faults.
"""

from __future__ import annotations

import math
from typing import Any

import cbor2

__all__ = ["HOSTILE_BODIES", "MALFORMED_ANSWERS", "MALFORMED_ERROR", "NESTING_DEPTH"]

#: nesting the codec still decodes (cbor2 refuses more than 400 levels)
NESTING_DEPTH = 300


def _event(name: str, value: Any, **options: Any) -> bytes:
    return cbor2.dumps({"event": f"hostile.{name}", "value": value}, **options)


def _self_reference() -> bytes:
    """A map that contains itself: CBOR tags 28 (shareable) and 29 (sharedref)."""
    body: dict[Any, Any] = {"event": "hostile.self_reference"}
    body["self"] = body
    return cbor2.dumps(body, value_sharing=True)


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"d": value}
    return value


#: name -> CBOR body (bytes), each decodable by the codec into a map
HOSTILE_BODIES: dict[str, bytes] = {
    "self_reference": _self_reference(),
    "shared_list": cbor2.dumps({"event": "hostile.shared_list",
                                "value": (shared := [1, 2]), "again": shared},
                               value_sharing=True),
    "huge_integer": _event("huge_integer", 10**7000 - 1),  # 7000 digits, CBOR tag 2
    "negative_huge_integer": _event("negative_huge_integer", -(10**7000)),
    "non_text_keys": cbor2.dumps({"event": "hostile.non_text_keys", 1: "one",
                                  b"\xff": "bytes", 2.5: "float", (1, 2): "array",
                                  None: "null", -1: "negative"}),
    "nan": _event("nan", math.nan),
    "infinity": _event("infinity", [math.inf, -math.inf]),
    "undefined": _event("undefined", cbor2.undefined),
    "deep_nesting": _event("deep_nesting", _nested(NESTING_DEPTH)),
    "unknown_tag": _event("unknown_tag", cbor2.CBORTag(40401, [b"\x00\xff", "x"])),
    "simple_value": _event("simple_value", cbor2.CBORSimpleValue(99)),
    "invalid_utf8_bytes": _event("invalid_utf8_bytes", b"\xc3\x28\xff\xfe" * 64),
}

#: request type name -> a response body of the wrong shape
MALFORMED_ANSWERS: dict[str, dict[str, Any]] = {
    "HELLO": {"version": "1", "max_frame": "big", "features": "brew"},
    "IDENTIFY": {"model": 500},  # manufacturer, serial and firmware missing
    "STATUS": {"state": 7, "water_ml": "lots", "temp_c": "hot", "errors": "none"},
    "BREW": {"order_id": "one", "duration_ms": None},
    "PAY": {"approved": "yes", "txn_id": 12},
    "PROVISION": {"ok": "sure"},
    "SYNC": {"sent": "all", "remaining": "many"},
    "READ_LOGS": {"lines": "not a list", "remaining": -1},
    "RESET": {"ok": [1]},
}

#: the error body sent instead of a well-formed one while ``ERROR`` is malformed
MALFORMED_ERROR: dict[str, Any] = {"code": "BAD_REQUEST", "message": 42}
