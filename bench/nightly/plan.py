"""What a nightly run covers: one target per firmware version and device.

Emulated machines need only versions and transports. Real devices come from a
bench config file (TOML)::

    flash = "fwtool --port {device} write {image}"   # {image} and {device} are filled in
    flash_timeout = 600

    [[device]]
    spec = "serial:///dev/ttyUSB0"
    name = "lobby"                                   # optional, defaults to the spec

    [[firmware]]
    version = "2.1"
    image = "images/cm500-2.1.bin"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ...drivers.errors import BrewbenchError
from ...drivers.specs import slug


class PlanError(BrewbenchError):
    """The nightly plan or its config file is wrong; the message says where."""


@dataclass(frozen=True)
class Target:
    """One firmware version on one device."""

    firmware: str
    spec: str
    transport: str
    device: str
    image: str | None = None

    @property
    def slug(self) -> str:
        return f"{self.firmware}-{self.transport}-{slug(self.device)}"


@dataclass(frozen=True)
class Plan:
    targets: tuple[Target, ...]
    flash: str | None = None
    flash_timeout: float = 600.0


def emulated_plan(firmwares: list[str], transports: list[str]) -> Plan:
    """Every firmware on every emulated transport, firmware-major order."""
    return Plan(tuple(Target(fw, f"emu://?firmware={fw}&transport={tr}", tr, f"emu-{tr}")
                      for fw in firmwares for tr in transports))


def config_plan(path: Path, only: list[str] | None = None) -> Plan:
    """The plan a bench config file describes, optionally limited to some versions.

    Raises:
        PlanError: the file is missing, not TOML, or lacks devices/firmware/flash.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PlanError(f"bench config {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:  # a folder, no permission, a binary file
        raise PlanError(f"bench config {path} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"bench config {path} is not valid TOML: {exc}") from exc
    devices, firmwares = data.get("device", []), data.get("firmware", [])
    if not devices or not firmwares:
        raise PlanError(f"bench config {path} needs at least one [[device]] and one [[firmware]]")
    flash = data.get("flash")
    if not isinstance(flash, str) or "{image}" not in flash:
        raise PlanError(f"bench config {path}: flash must be a command with {{image}} "
                        "(and usually {device}) in it")
    targets = []
    for fw in firmwares:
        if only and str(fw.get("version")) not in only:
            continue
        for dev in devices:
            spec = _required(dev, "spec", path, "[[device]]")
            targets.append(Target(_required(fw, "version", path, "[[firmware]]"), spec,
                                  spec.split(":", 1)[0], str(dev.get("name", spec)),
                                  _required(fw, "image", path, "[[firmware]]")))
    return Plan(tuple(targets), flash, float(data.get("flash_timeout", 600)))


def _required(table: dict[str, object], key: str, path: Path, where: str) -> str:
    value = table.get(key)
    if value is None or value == "":
        raise PlanError(f"bench config {path}: every {where} needs {key} =")
    return str(value)

