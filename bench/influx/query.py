"""Read results back with InfluxQL over ``/query``: the one read path every version serves.

InfluxDB 1.x speaks InfluxQL natively; 2.x (through a DBRP mapping, ``db`` = bucket)
and 3.x serve it on the same v1 ``/query`` endpoint. Timestamps come back as
integer nanoseconds (``epoch=ns``), exactly as they were written.

    reader = InfluxReader(settings)
    reader.emission_categories(model="CM-500", since="2026-11-01T00:00:00Z")
    # {"1.0": {"device", "product"}, "2.1": {"device", "identity", "payment", ...}}
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3

from ...drivers.errors import BrewbenchError
from .settings import InfluxSettings
from .writers import auth_headers, classify, no_answer


class QueryError(BrewbenchError):
    """The server refused the query; the message is the server's."""


@dataclass(frozen=True)
class Series:
    """One series of a query result: a name, its GROUP BY tags and rows of values."""

    name: str
    columns: list[str]
    values: list[list[Any]]
    tags: dict[str, str] = field(default_factory=dict)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Each row as a column -> value mapping, with the series' tags merged in."""
        for values in self.values:
            yield {**self.tags, **dict(zip(self.columns, values, strict=False))}


def quote_ident(name: str) -> str:
    """An InfluxQL identifier in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_str(value: str) -> str:
    """An InfluxQL string literal in single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class InfluxReader:
    """InfluxQL queries against the database (1.x) or bucket (2.x/3.x) of ``settings``.

    Raises (from every method):
        Unavailable: no answer, or credentials refused.
        QueryError: the server refused the statement.
    """

    def __init__(self, settings: InfluxSettings) -> None:
        if not settings.url:
            raise ValueError("no InfluxDB url configured: nothing to query")
        self.settings = settings
        self.db = settings.db or settings.bucket
        self._url = settings.url.rstrip("/") + "/query"
        self._headers = auth_headers(settings)
        self._http = urllib3.PoolManager(retries=False,
                                         timeout=urllib3.Timeout(connect=settings.connect_timeout,
                                                                 read=settings.timeout))

    def close(self) -> None:
        self._http.clear()

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Series]:
        """Run one InfluxQL statement; ``$name`` placeholders are bound from ``params``."""
        fields = {"db": self.db, "q": statement, "epoch": "ns"}
        if self.settings.rp:
            fields["rp"] = self.settings.rp
        if params:
            fields["params"] = json.dumps(dict(params))
        try:
            response = self._http.request("POST", self._url, fields=fields, headers=self._headers,
                                          encode_multipart=False)
        except urllib3.exceptions.HTTPError as exc:  # refused, no route...: said as push says it
            raise no_answer(self.settings.target, exc) from exc
        if response.status >= 300 and response.status != 400:
            raise classify(self.settings.target, response.status, response.data)
        return _series(response.data)

    def execute(self, statement: str) -> None:
        """Run a statement for its effect (``CREATE DATABASE``, ``DROP ...``)."""
        self.query(statement)

    def count(self, measurement: str, run: str, field_name: str) -> int:
        """How many points of ``measurement`` carry ``run`` (counted on ``field_name``)."""
        series = self.query(f"SELECT COUNT({quote_ident(field_name)}) FROM "
                            f"{quote_ident(measurement)} WHERE run = $run", {"run": run})
        return int(series[0].values[0][1]) if series and series[0].values else 0

    def points(self, measurement: str, run: str) -> list[dict[str, Any]]:
        """Every point of ``measurement`` in ``run``, tags included, oldest first."""
        series = self.query(f"SELECT * FROM {quote_ident(measurement)} WHERE run = $run",
                            {"run": run})
        return [row for s in series for row in s.rows()]

    def emission_categories(self, model: str, since: str = "1970-01-01T00:00:00Z"
                            ) -> dict[str, set[str]]:
        """Per firmware version, the data categories a model emitted since an RFC 3339 time."""
        return {firmware: {key[0] for key in found}
                for firmware, found in self._emitted(model, since, ("category",)).items()}

    def emitting_models(self) -> list[str]:
        """The models that have ``emissions`` points, sorted."""
        return sorted({str(v[1]) for series in
                       self.query('SHOW TAG VALUES FROM "emissions" WITH KEY = "model"')
                       for v in series.values if len(v) > 1})

    def emission_fields(self, model: str, since: str = "1970-01-01T00:00:00Z"
                        ) -> dict[str, dict[tuple[str, ...], int]]:
        """Per firmware version, how often each (category, field, channel, action) was sent."""
        return self._emitted(model, since, ("category", "field", "channel", "action"))

    def _emitted(self, model: str, since: str, keys: tuple[str, ...]
                 ) -> dict[str, dict[tuple[str, ...], int]]:
        group = ", ".join(quote_ident(k) for k in ("firmware", *keys))
        series = self.query(f"SELECT SUM(\"count\") FROM emissions WHERE model = $model AND "
                            f"time >= $since GROUP BY {group}", {"model": model, "since": since})
        out: dict[str, dict[tuple[str, ...], int]] = defaultdict(dict)
        for s in series:
            total = sum(int(v[1] or 0) for v in s.values)
            if total:
                out[s.tags.get("firmware", "")][tuple(s.tags.get(k, "") for k in keys)] = total
        return dict(out)


def _series(body: bytes) -> list[Series]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise QueryError(f"not an InfluxQL answer: {body[:200]!r}") from exc
    if "error" in data:
        raise QueryError(str(data["error"]))
    out: list[Series] = []
    for result in data.get("results", []):
        if "error" in result:
            raise QueryError(str(result["error"]))
        for s in result.get("series", []):
            out.append(Series(s.get("name", ""), s.get("columns", []), s.get("values", []),
                              dict(s.get("tags") or {})))
    return out


__all__ = ["InfluxReader", "QueryError", "Series", "quote_ident", "quote_str"]
