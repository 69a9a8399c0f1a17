"""Reading fields of a device's answer: a missing or mistyped field is a typed error.

A device is untrusted input, so no answer is indexed blindly: each field the
driver needs is read through one of these, which raise ``DeviceProtocolError``
naming the device, the answer, the field and what arrived instead of a bare
``KeyError`` or ``ValueError``. Optional fields (``docs/protocol.md`` marks
them *opt*) take their default when absent, but are still checked when present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import DeviceProtocolError, shown

_MISSING = object()


def text_field(device: str, action: str, body: Mapping[Any, Any], name: str,
               default: str | None = None) -> str:
    """``body[name]`` as text."""
    value = _get(device, action, body, name, default, "text")
    if not isinstance(value, str):
        raise _wrong(device, action, name, value, "text")
    return value


def int_field(device: str, action: str, body: Mapping[Any, Any], name: str,
              default: int | None = None) -> int:
    """``body[name]`` as an integer (a boolean is not one)."""
    value = _get(device, action, body, name, default, "int")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong(device, action, name, value, "int")
    return value


def text_list_field(device: str, action: str, body: Mapping[Any, Any], name: str,
                    default: list[str] | None = None) -> list[str]:
    """``body[name]`` as a list of texts."""
    value = _get(device, action, body, name, default, "list[text]")
    if not isinstance(value, list | tuple):
        raise _wrong(device, action, name, value, "list[text]")
    for item in value:
        if not isinstance(item, str):
            raise _wrong(device, action, f"{name}[]", item, "text")
    return list(value)


def _get(device: str, action: str, body: Mapping[Any, Any], name: str, default: Any,
         expected: str) -> Any:
    value = body.get(name, _MISSING)
    if value is not _MISSING:
        return value
    if default is not None:
        return default
    keys = sorted(shown(key, 20) if not isinstance(key, str) else key for key in body)[:12]
    raise DeviceProtocolError(device, action, name,
                              f"is missing (expected {expected}); the answer had keys {keys}")


def _wrong(device: str, action: str, name: str, value: Any, expected: str) -> DeviceProtocolError:
    return DeviceProtocolError(device, action, name, f"is {type(value).__name__} "
                               f"{shown(value)}, expected {expected}")


__all__ = ["int_field", "text_field", "text_list_field"]
