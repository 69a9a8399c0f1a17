"""``labgrid-client`` as the bench runs it: one command against one place, in bounded time,
its failures turned into one line that says what to do.

The bench talks to a labgrid coordinator through labgrid's own command line, in a
child process, rather than through ``labgrid.remote.client.ClientSession`` in its own:

- the command line is labgrid's documented interface; ``ClientSession`` is not, and its
  methods read an argparse namespace;
- ``ClientSession`` runs gRPC on an asyncio loop it stashes on the calling thread, which
  would be the pytest thread that also hosts bleak's and bumble's loops; a child keeps
  gRPC's threads and fork handlers out of the bench (pytest-xdist starts workers);
- a child can be killed, so a coordinator that accepts and never answers costs
  ``timeout`` seconds, not a hung run;
- a place stays acquired at the coordinator whether or not a client stays connected, so
  nothing needs a long-lived session: acquire, read the resources, release at the end.

Each command costs a Python start-up (about 0.6 s); a pytest session acquires a place
once and holds it for all its tests (bench/labgrid_place.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field

from ..drivers.errors import DeviceNotFound, DeviceSpecError

__all__ = [
    "DEFAULT_COORDINATOR",
    "Interrupted",
    "LabgridClient",
    "LabgridError",
    "PlaceHeld",
    "command_timeout",
    "coordinator_of",
]

DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid-client's own default
COORDINATOR_ENV = "LG_COORDINATOR"
TIMEOUT_S = 20.0
TIMEOUT_ENV = "BREWBENCH_LABGRID_TIMEOUT"
# labgrid-client's own words (labgrid 26); tests/test_labgrid.py checks each of them
HELD_BY = re.compile(r"already acquired by (?P<holder>\S+?)\.?(\s|$)")
HELD_BY_YOU = re.compile(r"You have already acquired place")
NO_PLACE = re.compile(r"place pattern \S+ matches nothing")
UNREACHABLE = re.compile(r"Could not connect to coordinator|coordinator is unavailable")


class LabgridError(DeviceNotFound):
    """A place cannot be had: unknown, unreachable, held, or without a serial port."""


class PlaceHeld(LabgridError):
    """Somebody holds the place; ``holder`` is labgrid's ``host/user``."""

    def __init__(self, device: str, message: str, holder: str) -> None:
        super().__init__(device, message)
        self.holder = holder


def coordinator_of(given: str | None, env: dict[str, str] | None = None) -> str:
    """The coordinator a spec means: its ``coordinator=``, else ``LG_COORDINATOR``, else
    labgrid's default, as labgrid-client picks it."""
    env = dict(os.environ) if env is None else env
    return given or env.get(COORDINATOR_ENV) or DEFAULT_COORDINATOR


def command_timeout(env: dict[str, str] | None = None) -> float:
    """Seconds one labgrid-client command may take: ``BREWBENCH_LABGRID_TIMEOUT``, else 20
    (labgrid-client itself gives up on a silent coordinator after about 20 s).

    Raises:
        DeviceSpecError: the variable is not a positive number.
    """
    text = (dict(os.environ) if env is None else env).get(TIMEOUT_ENV, "")
    if not text:
        return TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise DeviceSpecError(f"{TIMEOUT_ENV}={text!r} is not a positive number of seconds")
    return seconds


@dataclass(frozen=True)
class LabgridClient:
    """``labgrid-client`` against one coordinator (``HOST:PORT``), for the device spec
    ``device`` (which errors name)."""

    coordinator: str
    device: str
    timeout: float = field(default_factory=lambda: command_timeout())

    def run(self, place: str | None, *args: str) -> str:
        """Run one command (on ``place``) and return what it printed.

        Raises:
            PlaceHeld: someone holds the place.
            LabgridError: the coordinator cannot be reached, does not answer in time,
                knows no such place, or refused the command (labgrid's words kept).
        """
        if importlib.util.find_spec("labgrid") is None:
            raise LabgridError(self.device, "labgrid is not installed; pip install "
                               "'brewbench[labgrid]'")
        command = [sys.executable, "-m", "labgrid.remote.client", "-x", self.coordinator]
        if place is not None:
            command += ["-p", place]
        command += args
        what = f"labgrid-client {' '.join(command[5:])}"
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL, text=True)
        try:
            out, err = _finish(child, self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise LabgridError(self.device, f"labgrid coordinator {self.coordinator} did not answer "
                               f"{what} within {self.timeout:.0f} s") from exc
        except Interrupted as exc:
            exc.done = child.returncode == 0
            exc.said = exc.said if exc.done else ""
            raise
        if child.returncode != 0:
            raise self._error(place, what, err or out)
        return out

    def _error(self, place: str | None, what: str, said: str) -> LabgridError:
        line = _last_line(said)
        where = f"on coordinator {self.coordinator}"
        if UNREACHABLE.search(said):
            return LabgridError(self.device, f"labgrid coordinator {self.coordinator} is not reachable "
                                f"({line}); start labgrid-coordinator or set coordinator= / "
                                f"{COORDINATOR_ENV}")
        if NO_PLACE.search(said):
            return LabgridError(self.device, f"no labgrid place {place!r} {where} (labgrid-client -x "
                                f"{self.coordinator} places lists them)")
        held = HELD_BY.search(said)
        if held:
            holder = held["holder"]
            return PlaceHeld(self.device, f"labgrid place {place} is held by {holder} {where}; wait for it, "
                             f"or ask {holder.partition('/')[2] or holder} to release it", holder)
        if HELD_BY_YOU.search(said):
            return PlaceHeld(self.device, f"labgrid place {place} is already held by you {where} (another "
                             f"run or pytest worker, or a leftover): labgrid-client -p {place} "
                             "release frees a leftover", "you")
        return LabgridError(self.device, f"{what} failed {where}: {line}")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM came while a command ran; the command was let finish (so the
    bench knows whether an acquire went through): ``done`` and what it ``said``."""

    def __init__(self, said: str = "") -> None:
        super().__init__("interrupted")
        self.said, self.done = said, False


def _finish(child: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The child's output once it ends (killed past ``timeout``). Interrupted, it is still
    let finish: a command cut off half-way leaves the coordinator in a state nobody knows.

    Raises:
        subprocess.TimeoutExpired: it did not end within ``timeout``.
        Interrupted: a KeyboardInterrupt arrived meanwhile (after the child ended).
    """
    deadline = time.monotonic() + timeout
    interrupted = False
    while True:
        try:
            out, err = child.communicate(timeout=max(deadline - time.monotonic(), 0.01))
            break
        except KeyboardInterrupt:
            interrupted = True
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
    if interrupted:
        raise Interrupted(out)
    return out, err


def _last_line(text: str) -> str:
    """labgrid-client's message without its prefix (its last non-empty line)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "no message"
    return re.sub(r"^(labgrid-client: |Server error: )?(Error: )?", "", last)
