"""InfluxDB line protocol: the ``Point`` the bench logs and a fast encoder for it.

One point is one line::

    measurement,tag1=a,tag2=b field1=1i,field2="text",field3=0.5,field4=true 1700000000000000000

Escape rules (the same for InfluxDB 1.x, 2.x and 3.x):

- measurement: ``,`` and space are backslash-escaped;
- tag keys, tag values and field keys: ``,``, ``=`` and space are backslash-escaped;
- string field values are double-quoted, with ``"`` and ``\\`` backslash-escaped;
- integers carry an ``i`` suffix, floats are written in full precision, booleans
  as ``true``/``false``; timestamps are integer nanoseconds.

Line protocol has no escape for a newline outside a string field, so a newline
in a measurement, tag or field key is written as a space. A tag with an empty
value is dropped (the server would refuse the line). NaN and infinities cannot be
written and raise ``ValueError``.

The encoder caches the escaped ``measurement,tags`` prefix of every series it has
seen: the bench writes many points per series, so most of the escaping is done once.
``influxdb_client.Point`` escapes every part of every point again and is several
times slower (``benchmarks/influx.py`` measures both).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FieldValue = bool | int | float | str
Tags = tuple[tuple[str, str], ...]
Fields = tuple[tuple[str, FieldValue], ...]

_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\n": " ", "\r": " "})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": " ", "\r": " "})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\"})
SERIES_CACHE_LIMIT = 50_000  # distinct series kept escaped; beyond that the cache restarts


@dataclass(frozen=True, slots=True)
class Point:
    """One line of line protocol: a measurement, its tags, typed fields and a ns timestamp.

    Build points with ``Point.of``, which sorts the tags (the order InfluxDB stores
    them in, so the server does less work) and drops empty tag values.
    """

    measurement: str
    tags: Tags
    fields: Fields
    time_ns: int

    @classmethod
    def of(cls, measurement: str, tags: Mapping[str, str], fields: Mapping[str, FieldValue],
           time_ns: int) -> Point:
        """A point from plain mappings.

        Raises:
            ValueError: the point has no field (line protocol needs at least one).
        """
        if not fields:
            raise ValueError(f"point of {measurement!r} at {time_ns} has no field")
        return cls(measurement, tuple(sorted((k, v) for k, v in tags.items() if v != "")),
                   tuple(fields.items()), int(time_ns))

    def tag(self, key: str, default: str = "") -> str:
        """The value of tag ``key``, or ``default``."""
        return next((v for k, v in self.tags if k == key), default)

    def field(self, key: str) -> FieldValue | None:
        """The value of field ``key``, or None."""
        return next((v for k, v in self.fields if k == key), None)


class LineEncoder:
    """Turns points into line protocol; keep one per writer to reuse its series cache."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, Tags], str] = {}
        self._keys: dict[str, str] = {}

    def line(self, point: Point) -> str:
        """One point as one line, without the trailing newline.

        Raises:
            ValueError: a field value is NaN, infinite or of an unsupported type.
        """
        prefix = self._series.get((point.measurement, point.tags))
        if prefix is None:
            prefix = self._prefix((point.measurement, point.tags))
        keys = self._keys
        parts = []
        for key, value in point.fields:  # the common types inline: this loop is the hot path
            escaped = keys.get(key)
            if escaped is None:
                escaped = keys[key] = key.translate(_KEY)
            kind = type(value)
            if kind is str:
                text: str = value  # type: ignore[assignment]
                if '"' in text or "\\" in text:
                    text = text.translate(_STRING)
                parts.append(f'{escaped}="{text}"')
            elif kind is float:
                number = repr(value)
                if "n" in number:  # nan, inf: the only float reprs with an "n"
                    raise ValueError(f"line protocol cannot carry the float {value!r}")
                parts.append(f"{escaped}={number}")
            elif kind is int:
                parts.append(f"{escaped}={value}i")
            else:
                parts.append(f"{escaped}={_value(value)}")
        return f"{prefix} {','.join(parts)} {point.time_ns}"

    def lines(self, points: Iterable[Point]) -> str:
        """Points as newline-terminated lines, ready to append to a spool or POST."""
        text = "\n".join(map(self.line, points))
        return text + "\n" if text else ""

    def _prefix(self, series: tuple[str, Tags]) -> str:
        measurement, tags = series
        prefix = measurement.translate(_MEASUREMENT)
        if tags:
            prefix += "," + ",".join(f"{k.translate(_KEY)}={v.translate(_KEY)}" for k, v in tags)
        if len(self._series) >= SERIES_CACHE_LIMIT:
            self._series.clear()
        self._series[series] = prefix
        return prefix


def _value(value: FieldValue) -> str:
    kind = type(value)
    if kind is str:
        return f'"{value.translate(_STRING)}"'  # type: ignore[union-attr]
    if kind is int:
        return f"{value}i"
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(f"line protocol cannot carry the float {value!r}")
        return repr(value)
    if kind is bool:
        return "true" if value else "false"
    # subclasses (IntEnum, str enums, numpy-free floats) take the slow path
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return _value(base(value))
    raise ValueError(f"unsupported field type {kind.__name__} ({value!r})")


def encode(points: Iterable[Point]) -> str:
    """Points as line protocol with a one-off encoder (use ``LineEncoder`` in loops)."""
    return LineEncoder().lines(points)


__all__ = ["FieldValue", "LineEncoder", "Point", "encode"]
