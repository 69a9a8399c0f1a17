"""The spool: append-only line-protocol files that hold every point until a server has it.

Layout of a spool folder::

    20261128T021500-4242-a1b2-0001.lp   points, one line each, only ever appended to
    acks-<target>.log                   "<segment> <byte offset>" per accepted batch
    quarantine.lp                       lines a server refused for good, each after a
                                        "# <time> <target>: <server message>" comment

Each writer (a process, or one sink) appends to its own segment files, so parallel
test workers never interleave half lines. A destination's ack journal records how
far into each segment that destination has accepted the points; appending one short
line per batch keeps it safe to share between processes. The spool itself is never
rewritten: it is the local record of the run, and ``brewbench push`` can replay it
into any other server. Line protocol makes the replay idempotent: a point with the
same measurement, tags and timestamp overwrites itself instead of adding a duplicate.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...drivers.errors import BrewbenchError

log = logging.getLogger(__name__)

SEGMENT_BYTES = 64 * 1024 * 1024  # a new segment file after this many bytes
READ_BYTES = 4 * 1024 * 1024  # read at most this much per batch
SUFFIX = ".lp"
QUARANTINE = "quarantine.lp"


@dataclass(frozen=True, slots=True)
class Batch:
    """Complete lines read from one segment (``count`` of them), and where they end."""

    segment: Path
    body: bytes
    count: int
    start: int
    end: int

    def lines(self) -> list[bytes]:
        """The lines one by one, each with its newline (only ``\\n`` ends a line)."""
        return [line + b"\n" for line in self.body.split(b"\n")[:-1]]


class SpoolError(BrewbenchError, OSError):
    """The spool folder cannot take more points (full disk, no rights); says how many were lost."""


def write_all(fd: int, data: bytes) -> int:
    """Write ``data``, retrying short writes; returns how many bytes were written.

    Stops short (returning less than ``len(data)``) only when the disk is full
    after some bytes went out; raises ``OSError`` when nothing could be written.
    """
    view = memoryview(data)
    done = 0
    while done < len(data):
        try:
            count = os.write(fd, view[done:])
        except OSError as exc:
            if exc.errno != errno.ENOSPC or not done:
                raise
            return done
        if count == 0:
            return done
        done += count
    return done


def _write_fully(fd: int, data: bytes, folder: Path) -> None:
    if write_all(fd, data) < len(data):
        raise SpoolError(f"spool {folder}: the disk is full")


class Spool:
    """One spool folder: appends points, reads them back, remembers what each server took.

    Args:
        folder: the spool folder, created if missing.
        fsync: force every append to disk (slower; survives power loss, not just crashes).
        segment_bytes: size after which appends go to a new segment file.
    """

    def __init__(self, folder: Path, *, fsync: bool = False,
                 segment_bytes: int = SEGMENT_BYTES) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.segment_bytes = segment_bytes
        self.written: list[Path] = []  # this writer's segments, oldest first
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self._prefix = f"{stamp}-{os.getpid()}-{secrets.token_hex(2)}"
        self._file: int | None = None
        self._size = 0
        self._lock = threading.Lock()

    # -- writing ------------------------------------------------------------

    def append(self, text: str) -> None:
        """Append complete, newline-terminated lines; they are on disk when this returns.

        Short writes are retried. When the disk fills up midway, the lines that
        were written whole stay and the torn one is cut, so every segment stays
        parseable line protocol.

        Raises:
            SpoolError: the folder cannot be written (full disk, permissions); the
                message says how many points were not kept.
        """
        if not text:
            return
        data = text.encode("utf-8")
        with self._lock:
            try:
                if self._file is None or self._size >= self.segment_bytes:
                    self._rotate()
                assert self._file is not None
                written = write_all(self._file, data)
            except OSError as exc:
                raise self._failed(exc, data, 0) from exc
            if written < len(data):
                # Keep the whole lines that made it (a reader may already have sent them)
                # and cut the torn one, so the segment stays parseable line protocol.
                kept = data.rfind(b"\n", 0, written) + 1
                os.ftruncate(self._file, self._size + kept)
                self._size += kept
                raise self._failed(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), data, kept)
            self._size += len(data)
            if self.fsync:
                os.fsync(self._file)

    def _failed(self, exc: OSError, data: bytes, kept: int) -> SpoolError:
        lost = data.count(b"\n") - data.count(b"\n", 0, kept)
        reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        return SpoolError(f"spool {self.folder}: {reason}; {lost} point(s) not kept "
                          "(free space, or point --influx-spool elsewhere)")

    def close(self) -> None:
        """Close the current segment (later appends start a new one)."""
        with self._lock:
            if self._file is not None:
                os.fsync(self._file)
                os.close(self._file)
                self._file = None

    def _rotate(self) -> None:
        if self._file is not None:
            os.close(self._file)
        path = self.folder / f"{self._prefix}-{len(self.written) + 1:04d}{SUFFIX}"
        self._file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = 0
        self.written.append(path)

    # -- reading ------------------------------------------------------------

    def segments(self) -> list[Path]:
        """Every segment in the folder (any writer's), oldest first."""
        return sorted(p for p in self.folder.glob(f"*{SUFFIX}") if p.name != QUARANTINE)

    @staticmethod
    def read(segment: Path, offset: int, max_lines: int) -> Batch:
        """Up to ``max_lines`` complete lines of ``segment`` from byte ``offset``."""
        with segment.open("rb") as source:
            source.seek(offset)
            data = source.read(READ_BYTES)
            while b"\n" not in data and (more := source.read(READ_BYTES)):
                data += more  # one huge line: keep reading to its end
        body = data[:data.rfind(b"\n") + 1]  # a line still being written is left for later
        count = body.count(b"\n")
        if count > max_lines:
            cut = -1
            for _ in range(max_lines):
                cut = body.find(b"\n", cut + 1)
            body, count = body[:cut + 1], max_lines
        return Batch(segment, body, count, offset, offset + len(body))

    def unsent(self, target: str) -> int:
        """How many points of the whole folder ``target`` has not accepted."""
        acked = self.acked(target)
        return sum(self.count(s, acked.get(s.name, 0)) for s in self.segments())

    @staticmethod
    def count(segment: Path, offset: int = 0) -> int:
        """How many complete lines ``segment`` holds after byte ``offset``."""
        total = 0
        with segment.open("rb") as source:
            source.seek(offset)
            while block := source.read(READ_BYTES):
                total += block.count(b"\n")
        return total

    # -- acknowledgements ---------------------------------------------------

    def acked(self, target: str) -> dict[str, int]:
        """Per segment name, the byte offset up to which ``target`` accepted the points."""
        journal = self._journal(target)
        offsets: dict[str, int] = {}
        if not journal.exists():
            return offsets
        for line in journal.read_text(encoding="utf-8").splitlines():
            name, _, offset = line.rpartition(" ")
            if name and offset.isdigit():
                offsets[name] = max(offsets.get(name, 0), int(offset))
        return offsets

    def ack(self, target: str, batch: Batch) -> None:
        """Record that ``target`` accepted (or quarantined) everything up to ``batch.end``."""
        entry = f"{batch.segment.name} {batch.end}\n".encode()
        fd = os.open(self._journal(target), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            _write_fully(fd, entry, self.folder)
        finally:
            os.close(fd)

    def quarantine(self, target: str, line: bytes, message: str) -> None:
        """Keep a line the server refused for good, with the server's reason."""
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        reason = " ".join(message.split())[:500]
        entry = f"# {when} {target}: {reason}\n".encode() + line.rstrip(b"\n") + b"\n"
        fd = os.open(self.folder / QUARANTINE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            _write_fully(fd, entry, self.folder)
        finally:
            os.close(fd)
        log.warning("InfluxDB refused a point for good; kept in %s: %s",
                    self.folder / QUARANTINE, reason)

    def _journal(self, target: str) -> Path:
        return self.folder / f"acks-{target}.log"


__all__ = ["QUARANTINE", "Batch", "Spool", "SpoolError", "write_all"]
