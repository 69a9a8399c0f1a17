"""The transport contract: a byte link to one device, read in the background.

A transport moves bytes and nothing else. Every chunk the device sends is
stamped the moment the read returns and handed to ``LinkEvents.received``; a
transport never waits for someone to ask, so nothing sent between two reads is
lost. Writing to it is the caller's thread; reading is the transport's.

Implementations: ``SerialTransport`` (pyserial), ``UsbTransport`` (pyusb),
``BleTransport`` (bleak). ``ReaderThread`` serves those whose library reads by
blocking calls.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Protocol

from .errors import DeviceDisconnected, DeviceError
from .records import Chunk, Record, Stamp

log = logging.getLogger(__name__)


class LinkEvents(Protocol):
    """What a transport reports to the connection above it."""

    def received(self, chunk: Chunk) -> None: ...

    def lost(self, error: DeviceError) -> None: ...

    def note(self, record: Record) -> None: ...


class Transport(abc.ABC):
    """A byte link to one device. Subclasses are safe to use as a reference."""

    channel: str = "link"
    #: Largest write the link takes in one piece; writes are split to it.
    max_write: int = 1 << 16

    def __init__(self, device: str) -> None:
        self.device = device

    @abc.abstractmethod
    def open(self, events: LinkEvents) -> None:
        """Connect and start delivering received bytes to ``events``.

        Raises:
            DeviceNotFound: nothing answers at this device.
        """

    @abc.abstractmethod
    def write(self, data: bytes) -> Stamp:
        """Send bytes; return when they were handed to the link.

        Raises:
            DeviceDisconnected: the link is gone.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Stop reading and release the device. Safe to call twice."""

    def describe(self) -> dict[str, str]:
        """Facts about the link worth tagging results with (transport, port...)."""
        return {"transport": self.channel}

    def exchange(self, send: Callable[[], None], done: Callable[[], bool],
                 timeout: float) -> bool:
        """Call ``send``, then read on the calling thread until ``done()`` or ``timeout``.

        A caller about to wait for an answer lends its thread, so the answer
        needs no hand-over from the reader thread (``ReaderThread.exchange``).
        Returns False without calling ``send`` when the transport cannot (the
        default); the caller then sends and waits as usual.

        Raises:
            DeviceError: whatever ``send`` raises.
        """
        return False


ReadSome = Callable[[], bytes]


class ReaderThread:
    """Runs ``read_some`` in a loop on its own thread and stamps what it returns.

    ``read_some`` blocks until at least one byte arrives or a short timeout passes
    (returning ``b""``); any exception it raises ends the link as lost unless the
    reader was asked to stop first.

    A transport that can wait for data without taking it passes ``wait_ready``
    (wait up to a timeout; True once bytes are ready, False on timeout or
    ``interrupt``) and a ``read_some`` that does not block. Then a thread about
    to wait for an answer can ``exchange``: while it reads, the reader thread
    parks, so the answer reaches the waiting thread straight from the link with
    no hand-over between threads. Only one thread reads at a time and each
    chunk is stamped the moment its read returns and delivered before the next
    read, so order and timing are the same whoever reads.
    """

    def __init__(self, device: str, read_some: ReadSome, events: LinkEvents,
                 wait_ready: Callable[[float], bool] | None = None,
                 interrupt: Callable[[], None] | None = None) -> None:
        self._device = device
        self._read_some = read_some
        self._events = events
        self._wait_ready = wait_ready
        self._interrupt = interrupt or _nothing
        self._stopping = threading.Event()
        self._baton = threading.Lock()  # held while reading and delivering, by either thread
        self._borrowing = threading.Lock()  # one caller at a time reads here
        self._lent = False  # a caller reads here; the reader thread parks
        self._borrower: int | None = None
        # The reader thread parks in select() on this pipe: no lock the caller could
        # find held when it comes back for the next exchange.
        self._park = os.pipe() if wait_ready is not None else None
        for fd in self._park or ():
            os.set_blocking(fd, False)
        self._thread = threading.Thread(target=self._run, name=f"reader {device}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._unpark()
        self._interrupt()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        # Let a caller reading here leave read_some before the link is released.
        if (self._borrower not in (None, threading.get_ident())
                and self._borrowing.acquire(timeout=5)):
            self._borrowing.release()
        park, self._park = self._park, None
        for fd in park or ():
            os.close(fd)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def exchange(self, send: Callable[[], None], done: Callable[[], bool],
                 timeout: float) -> bool:
        """Call ``send``, then read on the calling thread until ``done()`` or ``timeout``.

        Returns False, having neither sent nor read, when this reader cannot
        lend its reads (no ``wait_ready``, stopped, or another thread reads
        here already); the caller then sends and waits as usual.

        Raises:
            Exception: whatever ``send`` raises; the reader thread resumes.
        """
        wait_ready = self._wait_ready
        if wait_ready is None or self._stopping.is_set():
            return False
        if not self._borrowing.acquire(blocking=False):
            return False
        deadline = time.monotonic() + timeout
        self._borrower = threading.get_ident()
        self._lent = True
        try:
            self._interrupt()  # the reader thread parks while the device works on the answer
            send()
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if wait_ready(min(left, LENT_WAIT)) and not self._deliver():
                    break
        finally:
            self._lent = False
            self._unpark()
            self._borrower = None
            self._borrowing.release()
        return True

    def _run(self) -> None:
        wait_ready = self._wait_ready
        while not self._stopping.is_set():
            if self._lent:
                self._parked()
            elif wait_ready is None or (wait_ready(LENT_WAIT) and not self._lent):
                if not self._deliver():
                    return
                if self._lent:
                    self._interrupt()  # what it read may be the answer a caller waits for

    def _deliver(self) -> bool:
        """One read, stamped and delivered; False once the link is lost or stopping."""
        with self._baton:
            if self._stopping.is_set():
                return False
            try:
                data = self._read_some()
            except Exception as exc:  # any library failure ends the link the same way
                if not self._stopping.is_set():
                    self._stopping.set()
                    log.debug("reader for %s stopped: %r", self._device, exc)
                    self._events.lost(DeviceDisconnected(
                        self._device, f"link lost while reading ({exc}); check the cable "
                        "and that the device is powered, then reconnect"))
                return False
            if data:
                self._events.received(Chunk(data, Stamp.now()))
            return True

    def _parked(self) -> None:
        park = self._park
        if park is not None:
            ready, _, _ = select.select([park[0]], [], [], LENT_WAIT)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(park[0], 512)

    def _unpark(self) -> None:
        park = self._park
        if park is not None:
            with contextlib.suppress(OSError):  # full (a wake-up is pending) or closed
                os.write(park[1], b"!")


#: Longest a lent or parked wait lasts before looking again (stop, deadline).
LENT_WAIT = 0.05


def _nothing() -> None:
    pass
