"""Where the night's points are: a server took them, or they wait in the spool.

Each target's pytest logs to the InfluxDB of ``INFLUX_*`` / ``[tool.brewbench.influx]``
through the spool of the results folder (fixtures/influx_servers.py ``open_run_log``),
so after the night the spool's ack journal says how many points that server has not
taken: it was not configured, refused, unreachable, or died in the night.
"""

from __future__ import annotations

from pathlib import Path

from ..influx.settings import DEFAULT_SPOOL, InfluxSettings
from ..influx.spool import Spool

__all__ = ["spool_folder", "waiting_points"]


def spool_folder(influx: InfluxSettings, results_root: Path, project: Path | None) -> Path:
    """The spool the suite's pytest runs write to (the rule of ``open_run_log``)."""
    if influx.spool == DEFAULT_SPOOL:
        return results_root / "spool"
    return influx.spool if influx.spool.is_absolute() else (project or results_root) / influx.spool


def waiting_points(influx: InfluxSettings | None, results_root: Path,
                   project: Path | None) -> str:
    """One line: how many points wait in the spool and the command that sends them;
    "" when a server took every point."""
    influx = influx or InfluxSettings()
    folder = spool_folder(influx, results_root, project)
    if not folder.is_dir():
        return ""
    waiting = Spool(folder).unsent(influx.target_key)
    if not waiting:
        return ""
    if not influx.url:
        return (f"{waiting} point(s) wait in the spool {folder} (no InfluxDB configured); "
                f"send them with `brewbench push --url URL --db NAME --spool {folder}`")
    return (f"{waiting} point(s) wait in the spool {folder} ({influx.target} did not take "
            f"them: down, unreachable or refusing); `brewbench push --spool {folder}` sends them")
