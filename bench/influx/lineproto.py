"""InfluxDB line protocol: the ``Point`` the bench logs and a fast encoder for it.

One point is one line::

    measurement,tag1=a,tag2=b field1=1i,field2="text",field3=0.5,field4=true 1700000000000000000

Escape rules (the same for InfluxDB 1.x, 2.x and 3.x):

- measurement: ``,`` and space are backslash-escaped;
- tag keys, tag values and field keys: ``,``, ``=`` and space are backslash-escaped;
- string field values are double-quoted, with ``"`` and ``\\`` backslash-escaped;
- integers carry an ``i`` suffix, floats are written in full precision, booleans
  as ``true``/``false``; timestamps are integer nanoseconds.

Some text cannot travel as it is, and is changed rather than refused or lost:

- a newline or carriage return anywhere (string values included) becomes a
  space, so one point is always one line, which the spool and its batches count on;
- a tag with an empty value is dropped (the server would refuse the line);
- a tag value ending in a backslash gets a space appended (no escape can end it);
- a backslash in a measurement, tag key or field key becomes ``/`` (InfluxDB reads
  backslashes there by other rules than in tag values; the bench's names have none);
- a measurement starting with ``#`` starts with ``_`` instead: the line would be a
  comment, which the server skips without a word.

NaN and infinities cannot be written and raise ``ValueError``. ``parse`` reads
lines back under the same rules (``tests/test_influx_lineproto.py`` checks both
against a real influxd).

The encoder caches the escaped ``measurement,tags`` prefix of every series it has
seen: the bench writes many points per series, so most of the escaping is done once.
``influxdb_client.Point`` escapes every part of every point again and is several
times slower (``benchmarks/influx_delivery.py`` measures both).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FieldValue = bool | int | float | str
Tags = tuple[tuple[str, str], ...]
Fields = tuple[tuple[str, FieldValue], ...]

_MEASUREMENT = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\ ", "\r": "\\ ",
                              "\\": "/"})
_KEY = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\ ", "\r": "\\ ",
                      "\\": "/"})  # measurement, tag and field names
_TAG_VALUE = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\ ", "\r": "\\ "})
_STRING = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": " ", "\r": " "})
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
                if '"' in text or "\\" in text or "\n" in text or "\r" in text:
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
        if prefix.startswith("#"):
            prefix = "_" + prefix[1:]  # a line starting with "#" is a comment: it would vanish
        if tags:
            prefix += "," + ",".join(f"{k.translate(_KEY)}={_unbackslashed(v).translate(_TAG_VALUE)}"
                                     for k, v in tags)
        if len(self._series) >= SERIES_CACHE_LIMIT:
            self._series.clear()
        self._series[series] = prefix
        return prefix


def _unbackslashed(name: str) -> str:
    """A tag value that does not end in a backslash, which no escape can express."""
    return name + " " if name.endswith("\\") else name


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


def parse(text: str) -> list[Point]:
    """Points from line protocol (a spool file, a quarantine file); ``#`` lines are comments.

    The inverse of ``LineEncoder`` under InfluxDB's own reading rules: in names and
    tags only ``\\,``, ``\\=`` and ``\\ `` are escapes (any other backslash is
    itself), in string fields ``\\"`` and ``\\\\``. Lines without a timestamp are
    refused: the bench always writes one.

    Raises:
        ValueError: a line is not line protocol; the message quotes it.
    """
    points = []
    for line in text.split("\n"):
        if line.strip() and not line.startswith("#"):
            try:
                points.append(_parse_line(line))
            except (ValueError, IndexError) as exc:
                raise ValueError(f"not line protocol: {line[:200]!r}") from exc
    return points


def _parse_line(line: str) -> Point:
    series, at = _scan(line, 0, " ")
    fields_text, at = _scan(line, at + 1, " ", quotes=True)
    parts = _split(series, ",")
    tags = []
    for part in parts[1:]:
        key, value = _split(part, "=", limit=1)
        tags.append((_unescape(key), _unescape(value)))
    fields = []
    for part in _split(fields_text, ",", quotes=True):
        key, raw = _split(part, "=", limit=1, quotes=True)
        fields.append((_unescape(key), _field_value(raw)))
    return Point(_unescape(parts[0]), tuple(tags), tuple(fields), int(line[at + 1:]))


def _scan(text: str, start: int, stop: str, quotes: bool = False) -> tuple[str, int]:
    """``text`` from ``start`` to the first unescaped ``stop`` outside quotes."""
    parts = _split(text[start:], stop, limit=1, quotes=quotes)
    if len(parts) < 2:
        raise ValueError(f"no {stop!r}")
    return parts[0], start + len(parts[0])


def _split(text: str, sep: str, limit: int = -1, quotes: bool = False) -> list[str]:
    """Split on ``sep`` where it is not escaped (nor quoted); escapes are kept.

    As InfluxDB reads it: outside strings a character is escaped when a backslash
    comes right before it; a string starts with a quote right after ``=``, and
    inside it a backslash escapes the next character.
    """
    parts: list[str] = []
    start, i, quoted = 0, 0, False
    while i < len(text):
        char = text[i]
        escaped = i > 0 and text[i - 1] == "\\"
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif quotes and char == '"' and _after_unescaped(text, i, "="):
            quoted = True  # a string value; a quote inside a key is just a character
        elif char == sep and not escaped and (limit < 0 or len(parts) < limit):
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _after_unescaped(text: str, i: int, char: str) -> bool:
    """Whether ``text[i]`` follows ``char`` that is not itself escaped (``\\=`` in a key)."""
    return i > 0 and text[i - 1] == char and not (i > 1 and text[i - 2] == "\\")


def _unescape(text: str, escapable: str = ", =") -> str:
    """``text`` with each backslash before one of ``escapable`` removed."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in escapable:
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


def _field_value(raw: str) -> FieldValue:
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise ValueError("unterminated string")
        return _unescape(raw[1:-1], '"\\')
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    if raw.endswith(("i", "u")):
        return int(raw[:-1])
    return float(raw)


def encode(points: Iterable[Point]) -> str:
    """Points as line protocol with a one-off encoder (use ``LineEncoder`` in loops)."""
    return LineEncoder().lines(points)


__all__ = ["FieldValue", "LineEncoder", "Point", "encode", "parse"]
