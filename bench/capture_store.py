"""Where a capture's entries live: the newest in memory, the rest in a sealed spool file.

A capture may run for hours against a device that floods the link, so its
entries cannot all stay in memory. ``EntryStore`` keeps the newest in memory as
they are: the tail (< ``BLOCK`` entries) and a window of the newest full blocks
(at most ``WINDOW`` blocks and ``WINDOW_BYTES``). A block that falls out of the
window is pickled (as plain tuples), sealed with AES-GCM under a key that
exists only in this process, and appended to an anonymous temporary file
(unlinked at creation, mode 0600, gone when the process ends). What reaches the
disk is therefore unreadable to anyone but this process: no raw value the
device sent lands on disk in the clear, whatever is later asked of the capture
(it is saved redacted by default, bench.verify.capture_redaction).

The store behaves as a read-mostly sequence: ``len``, iteration in arrival
order, ``store[i]`` and slices, ``append`` and ``extend``. Memory held: the
tail, the window, one sealed block decoded for reads, and 16 bytes of index per
block. A capture that fits the window never touches the disk and reads back at
list speed; appending costs one list append, and sealing (one pickle, one
encryption, one buffered write per block) runs on the appending thread only
once a capture outgrows the window, so the reader thread pays no hand-off per
record and never waits on anything but the page cache.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import tempfile
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, TypeVar, overload

import cbor2
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

Entry = TypeVar("Entry")  # bench.capture.Entry; any picklable item works

BLOCK = 512  # entries per block
WINDOW = 48  # newest full blocks kept in memory as they are (24,576 entries) ...
WINDOW_BYTES = 16 << 20  # ... unless they weigh more than this (raw bytes + 256 per entry)
ENTRY_WEIGHT = 256  # what an entry costs in memory besides its raw bytes, roughly


class EntryStore(Sequence[Entry]):
    """A capture's entries in arrival order; those past the window sealed in a spool file."""

    def __init__(self, entries: Iterable[Entry] = (), block: int = BLOCK,
                 pack: Callable[[Entry], Any] | None = None,
                 unpack: Callable[[Any], Entry] | None = None,
                 weigh: Callable[[Entry], int] | None = None) -> None:
        """``pack`` turns an entry into plain values (tuples, dicts, bytes) that pickle
        fast; ``unpack`` turns them back. An entry nothing can pickle is stored as
        ``("$unstorable", why)`` and ``unpack`` must accept that too. ``weigh`` says
        what an entry holds in memory (default ``ENTRY_WEIGHT``)."""
        self._block = block
        self._pack: Callable[[Entry], Any] = pack or _same
        self._unpack: Callable[[Any], Entry] = unpack or _same
        self._weigh: Callable[[Entry], int] = weigh or (lambda _entry: ENTRY_WEIGHT)
        self._tail: list[Entry] = []
        self._offsets = array("q")  # per full block: where it starts in the spool, or -1
        self._lengths = array("q")
        self._window: dict[int, tuple[list[Entry], int]] = {}  # oldest first: block, weight
        self._window_bytes = 0
        self._spool: IO[bytes] | None = None
        self._cipher: AESGCM | None = None
        self._cached: tuple[int, list[Entry]] = (-1, [])
        self._lock = threading.Lock()
        self.spooled_bytes = 0
        self._count = 0  # one int, so len() is exact while another thread appends
        self.extend(entries)

    # -- writing -------------------------------------------------------------

    def append(self, entry: Entry) -> None:
        with self._lock:
            self._tail.append(entry)
            if len(self._tail) >= self._block:
                self._close_block()
            self._count += 1

    def extend(self, entries: Iterable[Entry]) -> None:
        items = entries if isinstance(entries, list) else list(entries)
        with self._lock:
            start = 0
            while start < len(items):
                room = self._block - len(self._tail)
                self._tail.extend(items[start : start + room])
                start += room
                if len(self._tail) >= self._block:
                    self._close_block()
            self._count += len(items)

    def _close_block(self) -> None:
        """The full tail joins the window; what falls out of it is sealed (lock held)."""
        weight = sum(map(self._weigh, self._tail))
        self._window[len(self._offsets)] = (self._tail, weight)
        self._offsets.append(-1)
        self._lengths.append(0)
        self._window_bytes += weight
        self._tail = []
        while len(self._window) > WINDOW or self._window_bytes > WINDOW_BYTES:
            self._seal(next(iter(self._window)))

    def _seal(self, number: int) -> None:
        """Move block ``number`` from the window to the spool, encrypted (lock held)."""
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(prefix="brewbench-capture-")  # noqa: SIM115
            self._cipher = AESGCM(AESGCM.generate_key(bit_length=128))
        assert self._cipher is not None
        block, weight = self._window.pop(number)
        self._window_bytes -= weight
        sealed = self._cipher.encrypt(_nonce(number), self._pickle(block), None)
        self._spool.write(sealed)
        self._offsets[number] = self.spooled_bytes
        self._lengths[number] = len(sealed)
        self.spooled_bytes += len(sealed)

    def _pickle(self, entries: list[Entry]) -> bytes:
        packed = [self._pack(entry) for entry in entries]
        try:
            return _dumps(packed)
        except (pickle.PicklingError, TypeError, ValueError, RecursionError):
            # One value nothing can pickle (a self-referencing structure, say) must not
            # cost the others: each is pickled alone and a failure becomes a stand-in.
            return _dumps([_storable(item) for item in packed])

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
            self._window = {}
            self._window_bytes = 0
            self._count = 0

    # -- reading -------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

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
            kept = self._window.get(number)
            if kept is not None:
                return kept[0]
            if self._cached[0] == number:
                return self._cached[1]
            assert self._spool is not None and self._cipher is not None
            self._spool.flush()
            sealed = os.pread(self._spool.fileno(), self._lengths[number], self._offsets[number])
            packed = pickle.loads(self._cipher.decrypt(_nonce(number), sealed, None))
            block = [self._unpack(item) for item in packed]
            self._cached = (number, block)
            return block



def _same(item: Any) -> Any:
    return item


def _undefined() -> Any:
    return cbor2.undefined


# cbor2's own value types (what a device's CBOR may decode to) pickle by these.
_REDUCERS = dict(copyreg.dispatch_table)
_REDUCERS[cbor2.CBORTag] = lambda tag: (cbor2.CBORTag, (tag.tag, tag.value))
_REDUCERS[cbor2.CBORSimpleValue] = lambda simple: (cbor2.CBORSimpleValue, (simple.value,))
_REDUCERS[type(cbor2.undefined)] = lambda _u: (_undefined, ())


def _dumps(value: Any) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=5)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(value)
    return out.getvalue()


def _storable(item: Any) -> Any:
    """``item`` if it pickles, else a tuple saying why it could not be kept."""
    try:
        _dumps(item)
    except (pickle.PicklingError, TypeError, ValueError, RecursionError) as exc:
        return ("$unstorable", f"{type(exc).__name__}: {str(exc)[:200]}")
    return item


def _nonce(block: int) -> bytes:
    """Each block is sealed once under a key of its own store: its number is a unique nonce."""
    return block.to_bytes(12, "big")


__all__ = ["BLOCK", "EntryStore"]
