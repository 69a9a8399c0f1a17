"""``brewbench config``: the settings in force here, and where each came from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..influx.settings import InfluxConfigError
from ..influx.settings import resolve as resolve_influx
from ..lab import find_lab
from ..project_settings import project_layers, resolve_settings
from ..table import format_table

__all__ = ["add_config_parser"]


def add_config_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "config", help="show the settings in force and where each came from",
        description="Show the bench settings `brewbench run`, `brewbench nightly` and pytest "
        "use in this folder: the command line wins, then the pytest ini file, then "
        "[tool.brewbench] in pyproject.toml, then the defaults.")
    parser.add_argument("--json", action="store_true",
                        help="one JSON document: {settings: {key: {value, source}}, influx, lab}")
    parser.set_defaults(func=cmd_config)


def cmd_config(args: argparse.Namespace) -> int:
    settings = resolve_settings(project_layers({}))
    lab = find_lab()
    try:
        influx = resolve_influx(flags=None).target
    except InfluxConfigError as exc:
        influx = f"not usable: {exc}"
    if args.json:
        document = {"settings": {key: {"value": _plain(getattr(settings, key)), "source": source}
                                 for key, _, source in settings.rows()},
                    "influx": influx, "lab": str(lab.path) if lab.path else None}
        print(json.dumps(document, indent=1))
        return 0
    print(format_table(["setting", "value", "from"], [list(row) for row in settings.rows()]))
    print(f"influx: {influx}")
    print(f"lab file: {lab.path or 'none'}")
    return 0


def _plain(value: Any) -> Any:
    """A setting as JSON has it: paths as strings, device tuples as lists."""
    if isinstance(value, tuple):
        return list(value)
    return value if value is None or isinstance(value, bool | int | float) else str(value)
