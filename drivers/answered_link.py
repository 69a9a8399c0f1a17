"""One request at a time, one answer each: the connection shape of families whose
protocol has no sequence numbers (Jura command lines, ECAM frames).

``AnsweredLink`` holds what such a connection shares: its observers, opening (waiting
for the device to appear) and closing, the link-lost state, and the answer slot. A
request marks what it waits for (``_expect``); the receive path offers each decoded
answer (``_offer``), which fills the slot when it matches or else goes to a bounded
inbox (lines or frames the machine sends unasked); ``_await`` waits for the slot.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import DeviceDisconnected, DeviceError, Timeout
from .records import Chunk, Observer, Record, deliver
from .relink import Say, open_when_present
from .transport import Transport

__all__ = ["INBOX_LIMIT", "AnsweredLink"]

INBOX_LIMIT = 1000
Key = TypeVar("Key")  # what a request waits for: a command line, a command byte
Answer = TypeVar("Answer")


class AnsweredLink(Generic[Key, Answer]):
    """The lifecycle and answer slot of a one-request-at-a-time connection."""

    def __init__(self, transport: Transport, timeout: float) -> None:
        self.transport = transport
        self.device = transport.device
        self.timeout = timeout
        self.dropped = 0  # unasked answers the full inbox pushed out
        self.wait = 0.0  # seconds the device may take to appear (a dropped link stays dropped)
        self.say: Say | None = None
        self._observers: list[Observer] = []
        self._answered = threading.Condition()
        self._waiting: Key | None = None
        self._answer: Answer | None = None
        self._inbox: deque[Answer] = deque(maxlen=INBOX_LIMIT)
        self._lost: DeviceError | None = None
        self._open = False

    # -- lifecycle --------------------------------------------------------

    def attach(self, observer: Observer) -> None:
        """Report every record from now on to ``observer`` (attach before open)."""
        self._observers.append(observer)

    @property
    def observers(self) -> tuple[Observer, ...]:
        return tuple(self._observers)

    def open(self) -> None:
        open_when_present(self.transport, self, self.wait, self.say)
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self.transport.close()
            self.lost(DeviceDisconnected(self.device, "connection closed by the bench"))

    @property
    def link_error(self) -> DeviceError | None:
        return self._lost

    # -- LinkEvents ---------------------------------------------------------

    def received(self, chunk: Chunk) -> None:
        """Split and decode ``chunk`` (the family's wire format), report its records and
        ``_offer`` each answer."""
        raise NotImplementedError

    def lost(self, error: DeviceError) -> None:
        with self._answered:
            self._lost = error
            self._answered.notify_all()

    def note(self, record: Record) -> None:
        self._report([record])

    # -- the answer slot -----------------------------------------------------

    def unsolicited(self) -> list[Answer]:
        """Answers nobody asked for, oldest first (taken from the inbox)."""
        with self._answered:
            taken = list(self._inbox)
            self._inbox.clear()
            return taken

    def _expect(self, key: Key, what: str) -> None:
        """Mark ``key`` as awaited, with an empty slot.

        Raises:
            DeviceDisconnected: the link is already lost (``what`` names the request).
        """
        with self._answered:
            if self._lost is not None:
                raise DeviceDisconnected(self.device, f"cannot send {what}: {self._lost}")
            self._waiting, self._answer = key, None

    def _done(self) -> None:
        with self._answered:
            self._waiting = None

    def _await(self, timeout: float, no_answer: str, what: str) -> Answer:
        """The answer in the slot, once there.

        Raises:
            Timeout: none within ``timeout`` (``no_answer`` says what to check).
            DeviceDisconnected: the link dropped meanwhile.
        """
        with self._answered:
            if not self._answered.wait_for(
                    lambda: self._answer is not None or self._lost is not None, timeout):
                raise Timeout(self.device, no_answer)
            if self._answer is None:
                raise DeviceDisconnected(self.device, f"link lost waiting for {what}: {self._lost}")
            return self._answer

    def _offer(self, answer: Answer, matches: Callable[[Key], bool]) -> Key | None:
        """Fill the slot with ``answer`` when a request waits for a key it ``matches``, and
        return that key; otherwise keep it in the inbox and return None."""
        with self._answered:
            key = self._waiting
            if key is not None and self._answer is None and matches(key):
                self._answer = answer
                self._answered.notify_all()
                return key
            if len(self._inbox) == self._inbox.maxlen:
                self.dropped += 1
            self._inbox.append(answer)
            return None

    def _report(self, records: list[Record]) -> None:
        deliver(self._observers, records)
