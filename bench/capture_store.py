"""Where a capture's entries live: the newest in memory, the rest in a sealed spool file.

A capture may run for hours against a device that floods the link, so its
entries cannot all stay in memory. ``EntryStore`` keeps at most ``BLOCK`` of the
newest entries in a list; every full block is pickled, sealed with AES-GCM under
a key that exists only in this process, and appended to an anonymous temporary
file (unlinked at creation, mode 0600, gone when the process ends). What
reaches the disk is therefore unreadable to anyone but this process: no raw
value the device sent lands on disk in the clear, whatever is later asked of
the capture (it is saved redacted by default, bench.verify.capture_redaction).

The store behaves as a read-mostly sequence: ``len``, iteration in arrival
order, ``store[i]`` and slices, ``append`` and ``extend``. Memory held: the tail
(< ``BLOCK`` entries), one decoded block cached for reads, and 16 bytes of index
per block. Appending costs one list append; sealing a block (one pickle, one
encryption, one buffered write) happens every ``BLOCK`` entries on the
appending thread, so the reader thread never waits on anything but the page
cache.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, TypeVar, overload

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

Entry = TypeVar("Entry")  # bench.capture.Entry; any picklable item works

BLOCK = 512  # entries per sealed block


class EntryStore(Sequence[Entry]):
    """A capture's entries in arrival order, spooled to an encrypted temporary file."""

    def __init__(self, entries: Iterable[Entry] = (), block: int = BLOCK) -> None:
        self._block = block
        self._tail: list[Entry] = []
        self._offsets = array("q")  # start of each sealed block in the spool
        self._lengths = array("q")
        self._spool: IO[bytes] | None = None
        self._cipher: AESGCM | None = None
        self._cached: tuple[int, list[Entry]] = (-1, [])
        self._lock = threading.Lock()
        self.spooled_bytes = 0
        self.extend(entries)

    # -- writing -------------------------------------------------------------

    def append(self, entry: Entry) -> None:
        with self._lock:
            self._tail.append(entry)
            if len(self._tail) >= self._block:
                self._seal()

    def extend(self, entries: Iterable[Entry]) -> None:
        with self._lock:
            for entry in entries:
                self._tail.append(entry)
                if len(self._tail) >= self._block:
                    self._seal()

    def _seal(self) -> None:
        """Move the tail to the spool as one encrypted block (lock held)."""
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(prefix="brewbench-capture-")  # noqa: SIM115
            self._cipher = AESGCM(AESGCM.generate_key(bit_length=128))
        assert self._cipher is not None
        index = len(self._offsets)
        sealed = self._cipher.encrypt(_nonce(index), pickle.dumps(self._tail, protocol=5), None)
        self._offsets.append(self.spooled_bytes)
        self._lengths.append(len(sealed))
        self._spool.write(sealed)
        self.spooled_bytes += len(sealed)
        self._tail = []

    def close(self) -> None:
        """Forget the spooled entries and delete the spool."""
        with self._lock:
            if self._spool is not None:
                self._spool.close()
                self._spool = None
            self._offsets = array("q")
            self._lengths = array("q")
            self._tail = []
            self._cached = (-1, [])

    # -- reading -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets) * self._block + len(self._tail)

    def __iter__(self) -> Iterator[Entry]:
        total = len(self)
        for number in range((total + self._block - 1) // self._block):
            block = self._read_block(number)
            yield from block[: total - number * self._block]

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        total = len(self)
        if index < 0:
            index += total
        if not 0 <= index < total:
            raise IndexError("capture entry index out of range")
        return self._read_block(index // self._block)[index % self._block]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"EntryStore({len(self)} entries, {self.spooled_bytes} bytes spooled)"

    def _read_block(self, number: int) -> list[Entry]:
        with self._lock:
            if number >= len(self._offsets):
                return list(self._tail)
            if self._cached[0] == number:
                return self._cached[1]
            assert self._spool is not None and self._cipher is not None
            self._spool.flush()
            sealed = os.pread(self._spool.fileno(), self._lengths[number], self._offsets[number])
            block: list[Entry] = pickle.loads(self._cipher.decrypt(_nonce(number), sealed, None))
            self._cached = (number, block)
            return block

    def __reduce__(self) -> tuple[Any, ...]:
        return (EntryStore, (list(self), self._block))


def _nonce(block: int) -> bytes:
    """Each block is sealed once under a key of its own store: its number is a unique nonce."""
    return block.to_bytes(12, "big")


__all__ = ["BLOCK", "EntryStore"]
