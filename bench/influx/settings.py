"""Where bench results go: InfluxDB connection settings and the local spool folder.

Settings come from three places; the first one that sets a value wins:

1. the command line (``--influx-url`` ... or the same keys given to ``resolve``);
2. the standard environment variables ``INFLUX_URL`` (or ``INFLUX_HOST``),
   ``INFLUX_TOKEN``, ``INFLUX_ORG``, ``INFLUX_BUCKET``, ``INFLUX_DB``, ``INFLUX_RP``,
   ``INFLUX_USERNAME``, ``INFLUX_PASSWORD``, plus ``BREWBENCH_SPOOL``;
3. ``[tool.brewbench.influx]`` in the project's ``pyproject.toml`` (``url``, ``org``,
   ``bucket``, ``db``, ``rp``, ``username``, ``spool``, ``batch_size``,
   ``flush_interval``, ``timeout``, ``connect_timeout``). Secrets (token, password) are never read from
   that file: it is usually committed.

The wire path follows from what is set: ``bucket`` (with ``org`` and ``token``)
selects InfluxDB 2.x/3.x through ``influxdb-client``; ``db`` selects the 1.x
``/write`` API. ``api = "v1"|"v2"`` forces one. No ``url`` means no server: points
only go to the spool, for ``brewbench push`` to replay later.

The token and password are kept out of ``repr`` and of every message.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ...drivers.errors import BrewbenchError

DEFAULT_SPOOL = Path("brewbench-results") / "spool"
ENV = {
    "url": ("INFLUX_URL", "INFLUX_HOST"), "token": ("INFLUX_TOKEN",), "org": ("INFLUX_ORG",),
    "bucket": ("INFLUX_BUCKET",), "db": ("INFLUX_DB", "INFLUX_DATABASE"), "rp": ("INFLUX_RP",),
    "username": ("INFLUX_USERNAME", "INFLUX_USER"), "password": ("INFLUX_PASSWORD",),
    "spool": ("BREWBENCH_SPOOL",),
}
SECRETS = frozenset({"token", "password"})


class InfluxConfigError(BrewbenchError, ValueError):
    """The InfluxDB settings contradict each other or a value is malformed."""


@dataclass(frozen=True)
class InfluxSettings:
    """Resolved settings for one sink. ``url=None`` means spool only."""

    url: str | None = None
    api: str = ""  # "v1" or "v2"; "" while no server is configured
    org: str = ""
    bucket: str = ""
    db: str = ""
    rp: str = ""
    username: str = ""
    token: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    spool: Path = DEFAULT_SPOOL
    batch_size: int = 5000  # points per POST
    flush_interval: float = 1.0  # seconds a point may wait for its batch to fill
    timeout: float = 10.0  # seconds per HTTP request
    connect_timeout: float = 1.0  # seconds to reach the server: one that is away costs no more
    max_backoff: float = 30.0  # seconds between retries, at most

    @property
    def target(self) -> str:
        """Where points go, safe to print: no token, no password."""
        if not self.url:
            return f"spool {self.spool}"
        where = f"bucket {self.bucket!r} (org {self.org!r})" if self.api == "v2" else \
            f"db {self.db!r}" + (f" rp {self.rp!r}" if self.rp else "")
        return f"{self.url} {where}"

    @property
    def target_key(self) -> str:
        """A stable name for the destination, used to remember what it acknowledged."""
        url = (self.url or "").rstrip("/")
        base = f"{self.api}|{url}|{self.org}|{self.bucket}|{self.db}|{self.rp}"
        return hashlib.sha256(base.encode()).hexdigest()[:16]


def resolve(cli: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None,
            pyproject: Path | None = None, flags: str | None = "influx-") -> InfluxSettings:
    """Settings from the command line, then the environment, then ``pyproject.toml``.

    Args:
        cli: values given on the command line; None values count as not given.
        env: the environment (default ``os.environ``).
        pyproject: the file holding ``[tool.brewbench.influx]`` (default: the nearest
            ``pyproject.toml`` from the working directory up).
        flags: the prefix of the command's own options (``--influx-db`` on ``run``,
            ``--db`` on ``push``: ``""``), so a message names options the user can give;
            None where there is no command line (pytest).

    Raises:
        InfluxConfigError: the settings name no usable server or contradict each other.
    """
    env = os.environ if env is None else env
    merged: dict[str, Any] = dict(_from_pyproject(pyproject or find_pyproject()))
    for key, names in ENV.items():
        value = next((env[n] for n in names if env.get(n)), None)
        if value is not None:
            merged[key] = value
    merged.update({k: v for k, v in (cli or {}).items() if v is not None and v != ""})
    return _build(merged, flags)


def _build(values: Mapping[str, Any], flags: str | None = "influx-") -> InfluxSettings:
    known = {f.name: f for f in fields(InfluxSettings)}
    unknown = set(values) - set(known)
    if unknown:
        raise InfluxConfigError(f"unknown InfluxDB setting(s): {', '.join(sorted(unknown))}; "
                                f"known: {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        default = known[key].default
        try:
            kwargs[key] = _coerce(default, value)
        except (TypeError, ValueError) as exc:
            raise InfluxConfigError(f"InfluxDB setting {key}: cannot use {value!r}") from exc
    settings = InfluxSettings(**kwargs)
    return _with_api(settings, _Ask(flags))


def _coerce(default: Any, value: Any) -> Any:
    if isinstance(default, Path):
        return Path(value).expanduser()
    if isinstance(default, bool) or default is None:
        return value
    return type(default)(value)


class _Ask:
    """How a message names a setting: the command's option and the variable, or the
    variable and the pyproject key where there is no command line."""

    def __init__(self, flags: str | None) -> None:
        self.flags = flags

    def __call__(self, name: str) -> str:
        variable = ENV.get(name, ("",))[0]
        if self.flags is None:
            return " or ".join(filter(None, (variable, f"{name} in [tool.brewbench.influx]")))
        return "/".join(filter(None, (f"--{self.flags}{name}", variable)))


def _with_api(s: InfluxSettings, ask: _Ask) -> InfluxSettings:
    if not s.url:
        return replace(s, api="")
    if not s.url.startswith(("http://", "https://")):
        raise InfluxConfigError(f"InfluxDB url {s.url!r} must start with http:// or https://")
    api = s.api or ("v2" if s.bucket and not s.db else "v1" if s.db and not s.bucket else "")
    if not api:
        both = f" (both were given: add {ask('api')} v1 or v2)" if s.bucket else ""
        raise InfluxConfigError(
            f"{s.url}: say where points go: {ask('db')} for InfluxDB 1.x, or {ask('bucket')} "
            f"with {ask('org')} and INFLUX_TOKEN for InfluxDB 2.x/3.x{both}")
    if api not in ("v1", "v2"):
        raise InfluxConfigError(f"InfluxDB api {api!r}: use v1 or v2")
    if api == "v2" and not (s.bucket and s.org):
        raise InfluxConfigError(f"{s.url}: InfluxDB 2.x/3.x needs both a bucket and an org "
                                f"({ask('bucket')}, {ask('org')})")
    if api == "v1" and not s.db:
        raise InfluxConfigError(f"{s.url}: InfluxDB 1.x needs a database ({ask('db')})")
    if s.batch_size < 1 or s.flush_interval <= 0 or s.timeout <= 0 or s.connect_timeout <= 0:
        raise InfluxConfigError("batch_size, flush_interval, timeout and connect_timeout must "
                                "be positive")
    return replace(s, api=api)


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` from ``start`` (the working directory) up: the project's."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _from_pyproject(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InfluxConfigError(f"{path}: cannot read [tool.brewbench.influx]: {exc}") from exc
    table = data.get("tool", {}).get("brewbench", {}).get("influx", {})
    if not isinstance(table, dict):
        raise InfluxConfigError(f"{path}: [tool.brewbench.influx] must be a table")
    leaked = SECRETS & set(table)
    if leaked:
        raise InfluxConfigError(f"{path}: [tool.brewbench.influx] must not hold "
                                f"{', '.join(sorted(leaked))}; use INFLUX_TOKEN/INFLUX_PASSWORD")
    if "spool" in table:
        table["spool"] = str(path.parent / Path(table["spool"]).expanduser())
    return dict(table)


__all__ = ["DEFAULT_SPOOL", "InfluxConfigError", "InfluxSettings", "resolve"]
