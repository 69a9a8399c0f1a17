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
import logging
import threading
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

    def locate(self) -> str:
        """Where the device is now (a port path, a USB address), found by the spec's
        selector where it has one; a device that re-enumerates gets a new one.

        Raises:
            DeviceNotFound: a selector that finds nothing (transports that can tell).
        """
        facts = self.describe()
        return facts.get("port") or facts.get("address") or self.device


ReadSome = Callable[[], bytes]


class ReaderThread:
    """Runs ``read_some`` in a loop on its own thread and stamps what it returns.

    ``read_some`` blocks until at least one byte arrives or a short timeout passes
    (returning ``b""``); any exception it raises ends the link as lost unless the
    reader was asked to stop first.
    """

    def __init__(self, device: str, read_some: ReadSome, events: LinkEvents) -> None:
        self._device = device
        self._read_some = read_some
        self._events = events
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"reader {device}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                data = self._read_some()
            except Exception as exc:  # any library failure ends the link the same way
                if not self._stopping.is_set():
                    log.debug("reader for %s stopped: %r", self._device, exc)
                    self._events.lost(DeviceDisconnected(
                        self._device, f"link lost while reading ({exc}); check the cable "
                        "and that the device is powered, then reconnect"))
                return
            if data:
                self._events.received(Chunk(data, Stamp.now()))
