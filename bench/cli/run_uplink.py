"""``brewbench run --uplink``: the bench's cloud, one per device.

Each device gets a real ``mosquitto`` (bench/uplink/servers.py) and a tap of its own,
so its cloud messages land in its own capture on channel ``uplink``; a shared broker
would hand one device's retained messages to the next device's tap. The broker runs
from a private temporary folder: its persistence file would hold the raw values the
device publishes, so it is mode 0700 and removed with the device; the broker dies
with the bench (even a SIGKILL of it), and a folder a killed run left behind is
removed by the next run (its ``owner`` file names a process that is gone). An emulated
machine is pointed at the tap by the bench; a real one must be pointed at the broker
and endpoint printed here by the lab (docs/uplink.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..influx.servers import ServerError, _binary
from ..uplink.servers import MOSQUITTO, Mosquitto
from ..uplink.tap import UplinkTap

PREFIX = "brewbench-uplink-"
OWNER = "owner"  # the pid of the run that made the folder


def remove_stale_folders(root: Path | None = None) -> list[Path]:
    """Remove the broker folders of runs that were killed (their owner is gone); which."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(PREFIX + "*"):
        with contextlib.suppress(OSError, ValueError):
            if folder.stat().st_uid == os.getuid() and not _alive(
                    int((folder / OWNER).read_text().strip() or "0")):
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class UplinkUnavailable(Exception):
    """The broker could not start (not installed, or it would not run): one line says why."""


def check_broker(wanted: bool) -> None:
    """Before any device runs: the broker is installed when the uplink is wanted.

    Raises:
        UplinkUnavailable: mosquitto is not on PATH.
    """
    if wanted:
        try:
            _binary(MOSQUITTO)
        except FileNotFoundError as exc:
            raise UplinkUnavailable(str(exc)) from exc


@contextlib.contextmanager
def device_uplink(wanted: bool) -> Iterator[UplinkTap | None]:
    """A tap on a fresh broker for one device when ``wanted``, stopped at its end.

    Raises:
        UplinkUnavailable: mosquitto is not on PATH or failed to start.
    """
    if not wanted:
        yield None
        return
    remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=PREFIX) as folder:  # mode 0700
        (Path(folder) / OWNER).write_text(str(os.getpid()))
        try:
            broker = Mosquitto(Path(folder)).__enter__()
        except (FileNotFoundError, ServerError) as exc:
            raise UplinkUnavailable(str(exc)) from exc
        try:
            host, port = broker.address
            tap = UplinkTap(broker.address, broker_log=broker.log_path)
            web_host, web_port = tap.endpoint
            print(f"   uplink: MQTT broker mqtt://{host}:{port}, HTTP endpoint "
                  f"http://{web_host}:{web_port}/ (point a real machine's cloud at them)")
            yield tap
        finally:
            broker.stop()
