"""Files shipped inside the package: the CM-500 data contract and the Grafana dashboard.

They are package data (``brewbench.contracts``, ``brewbench.dashboards``), read with
importlib.resources, so they are found the same way from a checkout, an editable
install or a wheel, wherever site-packages is.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["CONTRACT", "DASHBOARD", "REGIONS", "contract_text", "dashboard_text", "regions_text",
           "write_contract"]

CONTRACT = "cm-500.toml"  # the emulated CM-500's data contract
DASHBOARD = "brewbench.json"  # the Grafana dashboard (InfluxQL)
REGIONS = "regions.toml"  # where cloud hosts are, by host glob


def contract_text() -> str:
    """The shipped CM-500 data contract, as TOML."""
    return files("brewbench.contracts").joinpath(CONTRACT).read_text(encoding="utf-8")


def regions_text() -> str:
    """The shipped region table (host globs per region), as TOML."""
    return files("brewbench.contracts").joinpath(REGIONS).read_text(encoding="utf-8")


def dashboard_text() -> str:
    """The shipped Grafana dashboard, as JSON."""
    return files("brewbench.dashboards").joinpath(DASHBOARD).read_text(encoding="utf-8")


def write_contract(path: Path) -> Path:
    """A copy of the shipped contract at ``path`` (a real file, even from a zipped install)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(contract_text(), encoding="utf-8")
    return path
