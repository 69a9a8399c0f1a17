"""The two wire paths to a server, behind one ``Writer`` interface.

- ``V1Writer``: InfluxDB 1.x ``POST /write?db=..&rp=..&precision=ns`` with basic auth
  (username/password) or, for a 2.x server's v1 compatibility API, a token.
- ``V2Writer``: InfluxDB 2.x/3.x through ``influxdb-client``'s synchronous write API
  (org, bucket, token). Also what VictoriaMetrics accepts on ``/api/v2/write``.

Both take a body of ready line protocol and either return (the server accepted it)
or raise one of two errors, so the sink decides what happens next:

    WriteError
    ├── Unavailable   try again later: timeout, 5xx, 429, auth refused, database not
    │   │             found. Nothing is lost; the spool keeps the points.
    │   └── Unreachable   no connection at all (refused, no route, no name, connect
    │                     timeout): nothing listens there now, so a closing sink stops
    │                     waiting for it at once.
    └── Rejected      these lines will never be accepted (400 malformed point, 413 too
                      large, 422 unprocessable): split the batch and quarantine the culprit.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol
from urllib.parse import urlencode

import urllib3

from ...drivers.errors import BrewbenchError
from .settings import InfluxSettings

REJECTED = frozenset({400, 413, 422})
AUTH = frozenset({401, 403})
# A missing database or refused credentials do not mend themselves in seconds: push and
# a closing sink say so at once instead of retrying.
NOT_TRANSIENT = AUTH | {404}


class WriteError(BrewbenchError):
    """A batch was not written. ``status`` is the HTTP status, 0 without a response."""

    def __init__(self, target: str, status: int, message: str,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{target}: {message}")
        self.target = target
        self.status = status
        self.reason = message
        self.retry_after = retry_after


class Unavailable(WriteError):
    """The server did not take the batch now; it may later."""


class Unreachable(Unavailable):
    """No connection could be made: refused, no route or name, or the connect timed out."""


class Rejected(WriteError):
    """The server refused the batch for good."""


class Writer(Protocol):
    """Posts line protocol to one destination."""

    target: str

    def post(self, body: bytes) -> None:
        """Send newline-separated lines with ns timestamps.

        Raises:
            Unavailable: try again later.
            Rejected: the lines will never be accepted as they are.
        """
        ...

    def close(self) -> None: ...


def writer_for(settings: InfluxSettings) -> Writer:
    """The writer for the server ``settings`` name.

    Raises:
        ValueError: ``settings`` name no server (spool only).
    """
    if not settings.url:
        raise ValueError("no InfluxDB url configured: points stay in the spool")
    return V2Writer(settings) if settings.api == "v2" else V1Writer(settings)


class V1Writer:
    """InfluxDB 1.x ``/write``."""

    def __init__(self, settings: InfluxSettings) -> None:
        assert settings.url
        self.target = settings.target
        query = {"db": settings.db, "precision": "ns"}
        if settings.rp:
            query["rp"] = settings.rp
        self._url = f"{settings.url.rstrip('/')}/write?{urlencode(query)}"
        self._headers = {"Content-Type": "text/plain; charset=utf-8", **auth_headers(settings)}
        timeout = urllib3.Timeout(connect=settings.connect_timeout, read=settings.timeout)
        self._pool = urllib3.PoolManager(timeout=timeout, retries=False, maxsize=2)

    def post(self, body: bytes) -> None:
        try:
            response = self._pool.request("POST", self._url, body=body, headers=self._headers)
        except urllib3.exceptions.HTTPError as exc:
            raise no_answer(self.target, exc) from exc
        if response.status >= 300:
            raise classify(self.target, response.status, response.data,
                           response.headers.get("Retry-After"))

    def close(self) -> None:
        self._pool.clear()


class V2Writer:
    """InfluxDB 2.x/3.x through ``influxdb_client.WriteApi`` (synchronous)."""

    def __init__(self, settings: InfluxSettings) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.domain.write_precision import WritePrecision

        assert settings.url
        self.target = settings.target
        # (connect, read) in ms: a server that is not there is known within a second
        timeouts: Any = (settings.connect_timeout * 1000, settings.timeout * 1000)
        self._client = InfluxDBClient(url=settings.url, token=settings.token, org=settings.org,
                                      timeout=timeouts, retries=False)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self._bucket, self._org = settings.bucket, settings.org
        self._precision: Any = WritePrecision.NS

    def post(self, body: bytes) -> None:
        from influxdb_client.rest import ApiException

        try:
            self._write.write(self._bucket, self._org, record=body,
                              write_precision=self._precision)
        except ApiException as exc:
            headers: Any = exc.headers or {}
            raise classify(self.target, int(exc.status or 0), exc.body or b"",
                           headers.get("Retry-After")) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise no_answer(self.target, exc) from exc

    def close(self) -> None:
        self._write.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


def no_answer(target: str, exc: BaseException) -> Unavailable:
    """The error for a request that got no HTTP answer: ``Unreachable`` when not even a
    connection was made (urllib3 names the cause itself, or in ``reason`` after a retry)."""
    cause = getattr(exc, "reason", None) or exc
    if isinstance(cause, urllib3.exceptions.ConnectTimeoutError | ConnectionError):
        return Unreachable(target, 0, f"no answer, unreachable ({_why(cause)})")
    return Unavailable(target, 0, f"no answer ({type(exc).__name__})")


def _why(cause: BaseException) -> str:
    """Refused, no route, no such host or timed out: the words a lab engineer checks."""
    text = str(cause).lower()
    for needle, words in (("refused", "connection refused"), ("resolution", "no such host"),
                          ("name or service", "no such host"), ("no route", "no route to host"),
                          ("unreachable", "network unreachable")):
        if needle in text:
            return words
    if isinstance(cause, urllib3.exceptions.ConnectTimeoutError):
        return "connect timed out"
    return type(cause).__name__


def classify(target: str, status: int, body: bytes | str,
             retry_after: str | None = None) -> WriteError:
    """The error for an HTTP status and the server's message."""
    message = _server_message(body) or f"HTTP {status}"
    delay = float(retry_after) if retry_after and retry_after.isdigit() else None
    if status in REJECTED:
        return Rejected(target, status, f"refused the points (HTTP {status}): {message}")
    if status in AUTH:
        return Unavailable(target, status, f"refused the credentials (HTTP {status}): {message}; "
                           "check INFLUX_TOKEN / INFLUX_USERNAME and INFLUX_PASSWORD")
    if status == 404:
        return Unavailable(target, status, f"not found (HTTP 404): {message}; "
                           "check the database/bucket name and that it exists")
    return Unavailable(target, status, f"HTTP {status}: {message}", delay)


def _server_message(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:500]
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or data)[:500]
    return str(data)[:500]


def auth_headers(settings: InfluxSettings) -> dict[str, str]:
    if settings.username:
        pair = f"{settings.username}:{settings.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    if settings.token:
        return {"Authorization": f"Token {settings.token}"}
    return {}


__all__ = ["NOT_TRANSIENT", "Rejected", "Unavailable", "Unreachable", "V1Writer", "V2Writer",
           "WriteError", "Writer", "auth_headers", "classify", "no_answer", "writer_for"]
