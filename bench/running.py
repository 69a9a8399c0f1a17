"""Where ``brewbench emulate`` says which emulated machines it runs, for ``brewbench devices``.

Each running emulator writes one small JSON file (its device spec, what it is) under
``$XDG_RUNTIME_DIR/brewbench/emulators`` (a per-user folder in the temp dir without
it), named by its process id, and removes it when it stops. A file whose process is
gone (the emulator was killed) is ignored and cleaned up by the next listing.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunningEmulator", "announce", "registry_folder", "running_emulators"]


@dataclass(frozen=True)
class RunningEmulator:
    """One emulator some process serves: its device spec and a line saying what it is."""

    spec: str
    description: str
    pid: int


def registry_folder() -> Path:
    """The per-user folder of running emulators' files."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path(tempfile.gettempdir()) / f"brewbench-{os.getuid()}"
    return base / "brewbench" / "emulators"


@contextlib.contextmanager
def announce(spec: str, description: str) -> Iterator[Path]:
    """Register this process's emulator while the block runs (best effort: a folder
    that cannot be written costs the listing, never the emulator)."""
    path = registry_folder() / f"{os.getpid()}.json"
    entry = {"spec": spec, "description": description, "pid": os.getpid()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(json.dumps(entry), encoding="utf-8")
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def running_emulators(folder: Path | None = None) -> list[RunningEmulator]:
    """The emulators whose process still runs, oldest process id first."""
    folder = registry_folder() if folder is None else folder
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        entry = _read(path)
        if entry is None:
            continue
        if not _alive(entry.pid):
            with contextlib.suppress(OSError):
                path.unlink()  # its emulator was killed before it could clean up
            continue
        found.append(entry)
    return sorted(found, key=lambda e: e.pid)


def _read(path: Path) -> RunningEmulator | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunningEmulator(str(data["spec"]), str(data["description"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half-written or foreign: not an emulator we can name


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process with that id: alive, just not ours to signal
    return True
