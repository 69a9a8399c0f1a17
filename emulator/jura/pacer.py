"""A machine's pace: wire bytes leave one at a time, about 8 ms apart.

Public captures of Jura service ports show the machine's wire bytes with about
8 ms between them (ryanalden/esphome-jura-component and its successors write
theirs the same way), so an answer of 70 characters takes over two seconds. The
emulator sends at that pace, on a thread of its own, so that a host is tested
against the timing it will meet, and the link's reader is never held up.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

__all__ = ["MACHINE_PACE", "Pacer"]

MACHINE_PACE = 0.008
QUEUE_LIMIT = 64  # answers waiting to be sent; a host that floods the machine loses the rest
Send = Callable[[bytes], None]


class Pacer:
    """Sends queued wire bytes one by one, ``pace`` seconds apart; ``idle`` (when given)
    is asked for a line to send after ``idle_every`` seconds of nothing to send."""

    def __init__(self, send: Send, pace: float = MACHINE_PACE,
                 idle: Callable[[], bytes | None] | None = None, idle_every: float = 0.5) -> None:
        self._send = send
        self.pace = pace
        self._idle = idle
        self._idle_every = idle_every
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUE_LIMIT)
        self.dropped = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jura pacer", daemon=True)
        self._thread.start()

    def put(self, wire: bytes) -> None:
        try:
            self._queue.put_nowait(wire)
        except queue.Full:
            self.dropped += 1

    def stop(self) -> None:
        """Stop after the byte being sent; what is still queued is not sent."""
        self._stopped.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            try:
                wire = self._queue.get(timeout=self._idle_every)
            except queue.Empty:
                wire = self._idle() if self._idle is not None else None
                if wire is None:
                    continue
            if wire is None:
                return
            if not self._paced(wire):
                return

    def _paced(self, wire: bytes) -> bool:
        for i in range(len(wire)):
            if self._stopped.is_set():
                return False
            try:
                self._send(wire[i:i + 1])
            except OSError:
                return False  # the link is gone
            if self.pace > 0:
                time.sleep(self.pace)
        return True
