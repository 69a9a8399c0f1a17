"""A lab file: names for the devices of a lab, so tests and runs say ``lobby``, not a spec.

    # lab.toml
    [devices]
    lobby = "serial+usb://1209:c0fe?serial=BB0001"
    bench-2 = "serial:///dev/ttyUSB0?family=jura"

Found by ``BREWBENCH_LAB`` (a path), else ``[tool.brewbench] lab = "lab.toml"`` in the
project's pyproject.toml (relative to that file). ``resolve_device`` is the one place
where a name becomes a spec, for the pytest plugin and the command line alike: a text
with ``://`` is a spec already; any other is a name the lab file must know.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..drivers.errors import DeviceSpecError
from .influx.settings import find_pyproject

__all__ = ["LAB_ENV", "Lab", "find_lab", "load_lab", "resolve_device", "resolve_devices"]

LAB_ENV = "BREWBENCH_LAB"


@dataclass(frozen=True)
class Lab:
    """The named devices of a lab file (none without one)."""

    path: Path | None = None
    devices: Mapping[str, str] = field(default_factory=dict)


def find_lab(pyproject: Path | None = None, env: Mapping[str, str] | None = None) -> Lab:
    """The lab of ``BREWBENCH_LAB``, else of ``[tool.brewbench] lab`` in ``pyproject``
    (default: the nearest pyproject.toml from the working directory up); an empty lab
    when neither names one.

    Raises:
        DeviceSpecError: the file named is missing, not TOML, or not a lab file.
    """
    env = os.environ if env is None else env
    if env.get(LAB_ENV):
        return load_lab(Path(env[LAB_ENV]).expanduser(), f"{LAB_ENV}={env[LAB_ENV]}")
    pyproject = find_pyproject() if pyproject is None else pyproject
    named = _table(pyproject).get("lab") if pyproject is not None else None
    if named is None:
        return Lab()
    if not isinstance(named, str) or not named:
        raise DeviceSpecError(f"{pyproject}: [tool.brewbench] lab must be a file name")
    assert pyproject is not None
    return load_lab(pyproject.parent / Path(named).expanduser(),
                    f"[tool.brewbench] lab in {pyproject}")


def load_lab(path: Path, named_by: str = "") -> Lab:
    """Read a lab file's ``[devices]`` table.

    Raises:
        DeviceSpecError: missing, not TOML, or ``[devices]`` is not a table of spec strings.
    """
    where = f" (named by {named_by})" if named_by else ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else None
        raise DeviceSpecError(f"lab file {path}{where} cannot be read: "
                              f"{reason or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DeviceSpecError(f"lab file {path}{where} is not valid TOML: {exc}") from exc
    devices = data.get("devices", {})
    if not isinstance(devices, dict):
        raise DeviceSpecError(f"lab file {path}: [devices] must be a table of name = \"spec\"")
    for name, spec in devices.items():
        if not isinstance(spec, str) or "://" not in spec:
            raise DeviceSpecError(f"lab file {path}: devices.{name} must be a device spec string "
                                  "such as \"serial:///dev/ttyUSB0\"")
    return Lab(path, dict(devices))


def resolve_device(text: str, lab: Lab) -> str:
    """The spec ``text`` stands for: itself when it is a spec, else the lab's device of
    that name.

    Raises:
        DeviceSpecError: a name the lab does not know (the message lists the known names).
    """
    if "://" in text:
        return text
    spec = lab.devices.get(text)
    if spec is not None:
        return spec
    if lab.path is None:
        raise DeviceSpecError(f"{text!r} is neither a device spec (e.g. serial:///dev/ttyUSB0) "
                              f"nor a named device: no lab file is set ({LAB_ENV}=FILE or "
                              "[tool.brewbench] lab = \"lab.toml\")")
    known = ", ".join(sorted(lab.devices)) or "none"
    raise DeviceSpecError(f"no device named {text!r} in the lab file {lab.path}; known: {known}")


def resolve_devices(texts: Iterable[str], lab: Lab) -> list[str]:
    """``resolve_device`` for each of ``texts``, in order."""
    return [resolve_device(text, lab) for text in texts]


def _table(pyproject: Path) -> dict[str, Any]:
    """``[tool.brewbench]`` of ``pyproject`` ({} when absent or unreadable: the plugin and
    the settings reader report a broken pyproject.toml themselves)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("tool", {}).get("brewbench", {})
    return table if isinstance(table, dict) else {}
