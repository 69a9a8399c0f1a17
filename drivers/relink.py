"""Finding a device again: waiting for it to appear, and holding a re-opened link's
first bytes until the gap before them is on record.

A device found by a selector (``serial+usb://VID:PID?serial=SN``, ``usb://...``)
may not be there yet when a run starts, and comes back under a new path after a
reset or a re-plug. ``open_when_present`` opens a transport, looking again every
``POLL`` seconds while nothing matches, up to a bound; ``HeldEvents`` lets the
connection record the gap before anything the re-opened link delivers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import DeviceError, DeviceNotFound
from .records import Chunk, Record, Stamp
from .transport import LinkEvents, Transport

POLL = 0.05  # seconds between two looks for a device that is not there (yet)
Say = Callable[[str], None]


def open_when_present(transport: Transport, events: LinkEvents, wait: float,
                      say: Say | None = None, cancelled: Callable[[], bool] = lambda: False,
                      ) -> Stamp:
    """Open ``transport``; while its device is not found, look again until ``wait``
    seconds have passed. The first miss is announced through ``say`` (once).

    Returns:
        When the attempt that succeeded started (nothing it delivers is older).

    Raises:
        DeviceNotFound: still not there after ``wait`` seconds (naming the bound and
            the last reason), or at once with ``wait`` 0; also when ``cancelled``.
    """
    deadline = time.monotonic() + wait
    announced = False
    while True:
        attempt = Stamp.now()
        try:
            transport.open(events)
            return attempt
        except DeviceNotFound as exc:
            if wait <= 0:
                raise
            reason = str(exc).removeprefix(f"{exc.device}: ")
            if time.monotonic() >= deadline or cancelled():
                raise DeviceNotFound(transport.device, f"did not appear within {wait:g} s "
                                     f"(last look: {reason})") from exc
            if not announced and say is not None:
                say(f"waiting up to {wait:g} s for {transport.device} …")
                announced = True
        time.sleep(min(POLL, max(deadline - time.monotonic(), 0.0)))


class HeldEvents:
    """``LinkEvents`` that hold what a re-opened link delivers until ``release``,
    then pass everything (held first, in order) to ``target``."""

    def __init__(self, target: LinkEvents) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._held: list[Callable[[], None]] | None = []

    def received(self, chunk: Chunk) -> None:
        self._hold_or_pass(lambda: self._target.received(chunk))

    def lost(self, error: DeviceError) -> None:
        self._hold_or_pass(lambda: self._target.lost(error))

    def note(self, record: Record) -> None:
        self._hold_or_pass(lambda: self._target.note(record))

    def _hold_or_pass(self, deliver: Callable[[], None]) -> None:
        with self._lock:
            if self._held is not None:
                self._held.append(deliver)
                return
        deliver()

    def release(self) -> None:
        """Deliver what was held, in order; from now on everything passes straight on."""
        while True:
            with self._lock:
                held = self._held or []
                if not held:
                    self._held = None
                    return
                self._held = []
            for deliver in held:
                deliver()
