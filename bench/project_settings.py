"""The bench settings of a lab project, read in one place for every command.

``brewbench run``, ``brewbench nightly``, ``brewbench config`` and the pytest plugin
all take the same six settings from the same layers; the first layer that gives a
value wins:

1. the command line (``--device``, ``--contract`` ... on ``run``; ``--brewbench-*``
   under pytest);
2. the pytest ini file: ``brewbench_devices``, ``brewbench_contract`` ... in
   ``pytest.ini``, ``[tool.pytest.ini_options]``, ``tox.ini`` or ``setup.cfg``;
3. ``[tool.brewbench]`` in the project's ``pyproject.toml`` (``devices``,
   ``contract``, ``raw_captures``, ``results``, ``timeout``, ``wait``);
4. the defaults.

A relative path is taken from the folder of the file that named it, so a project
behaves the same from any of its folders; one given on the command line, or a default,
stays as typed (the working directory's), and messages show it so.
Every resolved value remembers where it came from, for ``brewbench config``.
"""

from __future__ import annotations

import configparser
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..drivers.errors import BrewbenchError
from .devices import DEFAULT_SPEC
from .influx.settings import find_pyproject

__all__ = ["DEFAULTS", "INI_NAMES", "TABLE_KEYS", "BenchConfig", "Layer", "SettingsError",
           "ini_layer", "project_layers", "read_table", "resolve_settings"]

# The keys of [tool.brewbench]; ``influx`` is its own table (bench.influx.settings) and
# ``lab`` names the lab file (bench.lab).
TABLE_KEYS = ("contract", "devices", "influx", "lab", "raw_captures", "results", "timeout",
              "wait")
DEFAULTS: Mapping[str, Any] = {"devices": (DEFAULT_SPEC,), "results": "brewbench-results",
                               "timeout": 3.0, "raw_captures": False, "contract": None,
                               "wait": 0.0}
INI_NAMES = {key: f"brewbench_{key}" for key in DEFAULTS}  # the pytest ini names
PATHS = frozenset({"results", "contract"})


class SettingsError(BrewbenchError):
    """A setting is malformed (the message names the setting and where it was given)."""


@dataclass(frozen=True)
class Layer:
    """Values from one place, and the folder its relative paths are taken from."""

    source: str  # "command line", "pytest.ini", "[tool.brewbench] in /lab/pyproject.toml"
    values: Mapping[str, Any]
    folder: Path | None  # None: relative paths stay as given (the working directory's)
    flags: Mapping[str, str] = field(default_factory=dict)  # key -> its option, in messages


@dataclass(frozen=True)
class BenchConfig:
    """The settings in force; ``sources`` says, per key, which layer gave it."""

    devices: tuple[str, ...]
    results: Path  # the results root (a run's folder is results/run id)
    timeout: float
    raw_captures: bool
    contract: Path | None
    wait: float
    sources: Mapping[str, str] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, str]]:
        """(key, value, source) per setting, as ``brewbench config`` prints them."""
        return [(key, _shown(getattr(self, key)), self.sources[key]) for key in DEFAULTS]


def resolve_settings(layers: Sequence[Layer]) -> BenchConfig:
    """The first value per key over ``layers`` (None and "" count as not given).

    Raises:
        SettingsError: a value of the wrong kind, or a timeout/wait out of range.
    """
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, default in DEFAULTS.items():
        layer = next((la for la in layers if _given(la.values.get(key))), None)
        raw = default if layer is None else layer.values[key]
        sources[key] = "default" if layer is None else layer.source
        chosen[key] = _checked(key, raw, _Where(key, layer), layer.folder if layer else None)
    return BenchConfig(chosen["devices"], chosen["results"], chosen["timeout"],
                       chosen["raw_captures"], chosen["contract"], chosen["wait"], sources)


def project_layers(cli: Mapping[str, Any], pyproject: Path | None = None,
                   cwd: Path | None = None, flags: Mapping[str, str] | None = None) -> list[Layer]:
    """The layers of a command run in a project: ``cli``, then the pytest ini file and
    ``[tool.brewbench]`` of ``pyproject`` (default: the nearest from ``cwd`` up);
    ``flags`` names the command's options in messages."""
    here = (cwd or Path.cwd()).resolve()
    pyproject = pyproject if pyproject is not None else find_pyproject(here)
    layers = [Layer("command line", cli, None, flags or {})]
    if pyproject is not None:
        folder = pyproject.parent.resolve()
        ini = ini_layer(folder, pyproject)
        if ini is not None:
            layers.append(ini)
        layers.append(Layer(f"[tool.brewbench] in {pyproject}", read_table(pyproject), folder))
    return layers


def read_table(pyproject: Path) -> dict[str, Any]:
    """``[tool.brewbench]`` of ``pyproject`` ({} when the file or table is absent).

    Raises:
        SettingsError: not TOML, not a table, or a key it does not know (a typo such as
            ``device = ...`` would otherwise test the default device in silence).
    """
    if not pyproject.is_file():
        return {}
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{pyproject}: not valid TOML ({exc}); fix it or remove "
                            "[tool.brewbench]") from exc
    table = data.get("tool", {}).get("brewbench", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{pyproject}: [tool.brewbench] must be a table")
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        raise SettingsError(f"{pyproject}: [tool.brewbench] has unknown key(s) "
                            f"{', '.join(unknown)}; known keys: {', '.join(TABLE_KEYS)}")
    return table


def ini_layer(folder: Path, pyproject: Path | None = None) -> Layer | None:
    """The ``brewbench_*`` values of the pytest ini file in ``folder``, found as pytest
    finds it (pytest.ini, .pytest.ini, pyproject.toml, tox.ini, setup.cfg: the first
    that holds a pytest section); None when there is none."""
    for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest")):
        if (folder / name).is_file():
            return _ini_file(folder / name, section)
    if pyproject is not None and pyproject.is_file():
        options = _pytest_table(pyproject)
        if options is not None:
            values = {key: options.get(ini) for key, ini in INI_NAMES.items()}
            return Layer(f"[tool.pytest.ini_options] in {pyproject}", values, folder)
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        if (folder / name).is_file():
            found = _ini_file(folder / name, section, required=False)
            if found is not None:
                return found
    return None


def _ini_file(path: Path, section: str, required: bool = True) -> Layer | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise SettingsError(f"{path}: not a readable ini file ({exc})") from exc
    if not parser.has_section(section):
        return Layer(str(path), {}, path.parent) if required else None
    values: dict[str, Any] = {key: parser.get(section, ini, fallback=None)
                              for key, ini in INI_NAMES.items()}
    if values["devices"]:
        values["devices"] = str(values["devices"]).split()
    return Layer(str(path), values, path.parent)


def _pytest_table(pyproject: Path) -> Mapping[str, Any] | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # read_table reports a broken file in one line
    options = data.get("tool", {}).get("pytest", {}).get("ini_options")
    return options if isinstance(options, dict) else None


class _Where:
    """How a message names a setting: its option when the command line gave it, else
    ``brewbench KEY`` and, at the end, the file it was read from."""

    def __init__(self, key: str, layer: Layer | None) -> None:
        flag = layer.flags.get(key) if layer else None
        self.name = flag or f"brewbench {key}"
        self.origin = "" if flag or layer is None else f" (in {layer.source})"

    def __call__(self, value: Any, problem: str) -> str:
        return f"{self.name} {value!r}{problem}{self.origin}"


def _checked(key: str, value: Any, where: _Where, folder: Path | None) -> Any:
    """``value`` of ``key`` in the type the bench uses, or one line naming ``where`` it
    was given."""
    if key == "devices":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) and i for i in items):
            raise SettingsError(where(value, f": give device specs or lab names, e.g. "
                                      f"[\"{DEFAULT_SPEC}\"]"))
        return tuple(items)
    if key in PATHS:
        if value is None:
            return None
        if not isinstance(value, str | Path):
            raise SettingsError(where(value, ": give a path"))
        path = Path(value).expanduser()
        return path if path.is_absolute() or folder is None else folder / path
    if key == "raw_captures":
        return _boolean(where, value)
    return _seconds(where, value, positive=key == "timeout")


def _boolean(where: _Where, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise SettingsError(where(value, ": give true or false"))


def _seconds(where: _Where, value: Any, positive: bool) -> float:
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError) as exc:
        raise SettingsError(where(value, " is not a number of seconds")) from exc
    low_ok = seconds > 0 if positive else seconds >= 0
    if not (low_ok and math.isfinite(seconds)):
        want = "more than 0" if positive else "0 or more"
        raise SettingsError(where(value, f": give {want} seconds"))
    return seconds


def _given(value: Any) -> bool:
    """Unlike ``or``, keeps 0 and False; an empty list (an ini default) is not given."""
    return value is not None and value != "" and value != [] and value != ()


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)
