"""``brewbench push`` and ``brewbench query``, and the InfluxDB options other commands share.

``bench/cli/main.py`` wires them in::

    add_push_parser(commands)
    add_query_parser(commands)
    add_influx_options(run_parser, prefix="influx-")   # brewbench run --influx-url ...
    settings = settings_from_args(args, prefix="influx-")

The token and password are read only from ``INFLUX_TOKEN`` and ``INFLUX_PASSWORD``:
a command-line argument would show up in the process list and the shell history.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..influx.push import push
from ..influx.query import InfluxReader, Series
from ..influx.settings import DEFAULT_SPOOL, InfluxSettings, resolve

OPTIONS = (  # (name, metavar, help)
    ("url", "URL", "server URL, e.g. http://localhost:8086 (env INFLUX_URL)"),
    ("api", "v1|v2", "wire API: v1 (/write, db) or v2 (org, bucket); guessed from db/bucket"),
    ("db", "NAME", "InfluxDB 1.x database (env INFLUX_DB)"),
    ("rp", "NAME", "InfluxDB 1.x retention policy (env INFLUX_RP)"),
    ("username", "NAME", "InfluxDB 1.x user; the password comes from INFLUX_PASSWORD"),
    ("org", "NAME", "InfluxDB 2.x/3.x organisation (env INFLUX_ORG)"),
    ("bucket", "NAME", "InfluxDB 2.x/3.x bucket (env INFLUX_BUCKET); token from INFLUX_TOKEN"),
)


def add_influx_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """Add ``--<prefix>url`` ... ``--<prefix>bucket`` and ``--spool`` to ``parser``."""
    group = parser.add_argument_group("InfluxDB (default: INFLUX_* variables, then "
                                      "[tool.brewbench.influx] in pyproject.toml)")
    for name, metavar, text in OPTIONS:
        group.add_argument(f"--{prefix}{name}", dest=f"influx_{name}", metavar=metavar,
                           help=text, default=None)
    group.add_argument(f"--{prefix}spool", dest="influx_spool", type=Path, default=None,
                       metavar="DIR",
                       help="spool folder (env BREWBENCH_SPOOL; default brewbench-results/spool)")


def settings_from_args(args: argparse.Namespace, default_spool: Path | None = None,
                       prefix: str = "") -> InfluxSettings:
    """Settings from parsed options, the environment and ``pyproject.toml``.

    Args:
        args: parsed options of a parser given ``add_influx_options``.
        default_spool: the spool folder when nothing else names one.
        prefix: the prefix given to ``add_influx_options`` (messages name these options).

    Raises:
        InfluxConfigError: the settings are incomplete or contradict each other.
    """
    cli: dict[str, Any] = {name: getattr(args, f"influx_{name}", None) for name, _, _ in OPTIONS}
    cli["spool"] = getattr(args, "influx_spool", None)
    settings = resolve(cli, flags=prefix)
    if default_spool is not None and settings.spool == DEFAULT_SPOOL:
        settings = replace(settings, spool=default_spool)
    return settings


def add_push_parser(commands: Any) -> argparse.ArgumentParser:
    """``brewbench push``: replay the spool into a server."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "push", help="send spooled results to an InfluxDB server (safe to repeat)")
    add_influx_options(parser)
    parser.add_argument("--all", action="store_true",
                        help="send everything again, not only what the server has not taken")
    parser.set_defaults(func=cmd_push)
    return parser


def add_query_parser(commands: Any) -> argparse.ArgumentParser:
    """``brewbench query``: InfluxQL, or the collected categories per firmware of a model."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "query", help="read results back from InfluxDB (InfluxQL)")
    add_influx_options(parser)
    parser.add_argument("statement", nargs="?", help="an InfluxQL statement to run")
    parser.add_argument("--categories", metavar="MODEL",
                        help="list the data categories each firmware of MODEL emitted")
    parser.add_argument("--fields", action="store_true",
                        help="with --categories: each field, channel and action, with counts")
    parser.add_argument("--since", default="1970-01-01T00:00:00Z", metavar="TIME",
                        help="with --categories: only since this RFC 3339 time")
    parser.add_argument("--json", action="store_true",
                        help="one JSON document: the series (name, tags, columns, values), or "
                        "with --categories the firmware versions and what each emitted")
    parser.set_defaults(func=cmd_query)
    return parser


def cmd_push(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if not settings.url:
        print("brewbench push: no server: give --url (or set INFLUX_URL)", file=sys.stderr)
        return 2
    if not settings.spool.is_dir():
        print(f"brewbench push: no spool folder at {settings.spool}; give --spool DIR",
              file=sys.stderr)
        return 2
    print(f"pushing {settings.spool} to {settings.target}", file=sys.stderr)
    result = push(settings, resend=args.all, progress=_progress)
    print(f"\npushed {result.sent} point(s)" + (
        f", {result.quarantined} refused by the server (see {settings.spool}/quarantine.lp)"
        if result.quarantined else ""))
    return 1 if result.quarantined else 0


def cmd_query(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if not settings.url:
        print("brewbench query: no server: give --url (or set INFLUX_URL)", file=sys.stderr)
        return 2
    if not args.statement and not args.categories:
        print("brewbench query: give an InfluxQL statement or --categories MODEL",
              file=sys.stderr)
        return 2
    reader = InfluxReader(settings)
    try:
        if args.categories:
            return _emitted(reader, args.categories, args.since, args.fields, args.json)
        found = reader.query(args.statement)
    finally:
        reader.close()
    if args.json:
        _dump({"format": "brewbench-query/1", "series": [
            {"name": s.name, "tags": dict(s.tags), "columns": list(s.columns),
             "values": [list(v) for v in s.values]} for s in found]})
    for series in [] if args.json else found:
        print(format_series(series))
    return 0


def _emitted(reader: InfluxReader, model: str, since: str, fields: bool, as_json: bool) -> int:
    """What each firmware of ``model`` emitted; exit 1 when nothing was (a misspelt model
    looks just like that: the message names the models that did emit)."""
    if fields:
        counts = reader.emission_fields(model, since)
        firmwares: dict[str, Any] = {
            firmware: [{"category": c, "field": f, "channel": ch, "action": a, "count": n}
                       for (c, f, ch, a), n in sorted(counts[firmware].items())]
            for firmware in sorted(counts)}
    else:
        found = reader.emission_categories(model, since)
        firmwares = {firmware: sorted(found[firmware]) for firmware in sorted(found)}
    if as_json:
        _dump({"format": "brewbench-query/1", "model": model, "since": since,
               "firmware": firmwares})
    elif fields:
        for firmware, rows in firmwares.items():
            print(f"firmware {firmware}")
            for r in rows:
                print(f"  {r['category']:<12} {r['field']:<32} {r['channel']:<8} "
                      f"{r['action']:<10} {r['count']:>6}")
    else:
        for firmware, names in firmwares.items():
            print(f"{firmware:>12}  {', '.join(names)}")
    if not firmwares:
        known = ", ".join(reader.emitting_models()) or "none"
        print(f"brewbench query: no emissions of model {model!r} since {since} (models with "
              f"emissions: {known})", file=sys.stderr)
        return 1
    return 0


def _dump(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=1)
    print()


def format_series(series: Series) -> str:
    """A series as a plain text table."""
    title = series.name + "".join(f" {k}={v}" for k, v in sorted(series.tags.items()))
    rows = [[str(c) for c in series.columns]] + [["" if v is None else str(v) for v in row]
                                                  for row in series.values]
    widths = [max(len(r[i]) for r in rows) for i in range(len(series.columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join([title, *lines, ""])


def _progress(done: int, total: int) -> None:
    percent = 100 * done // total if total else 100
    print(f"\r{done}/{total} points ({percent}%)", end="", file=sys.stderr, flush=True)


__all__ = ["add_influx_options", "add_push_parser", "add_query_parser", "cmd_push", "cmd_query",
           "settings_from_args"]
