"""A protocol connection: frames over a transport, responses matched to requests.

The connection decodes every chunk the transport delivers, reports each frame
(good or bad) to its observers, hands responses to the request waiting for
that sequence number and queues device-initiated messages (events, telemetry,
records) in arrival order.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from .errors import DeviceDisconnected, DeviceError, DeviceRejected, FrameError, Timeout
from .framing import Delimited, FrameSplitter
from .messages import ErrorCode, Kind, Message, decode_message, type_name
from .records import RX, TX, Chunk, Observer, Record, Stamp
from .transport import Transport

DEFAULT_TIMEOUT = 3.0


class _Pending:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: Message | DeviceError | None = None


class Connection:
    """Request/response and device-initiated messages over one transport."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.transport = transport
        self.device = transport.device
        self.timeout = timeout
        self.frame_errors = 0
        self._observers: list[Observer] = []
        self._splitter = FrameSplitter()
        self._pending: dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._seq = itertools.cycle(range(1, 0x10000))
        self._inbox: deque[Message] = deque()
        self._arrived = threading.Condition()
        self._lost: DeviceError | None = None
        self._open = False

    # -- lifecycle -------------------------------------------------------

    def attach(self, observer: Observer) -> None:
        """Report every record from now on to ``observer`` (attach before open)."""
        self._observers.append(observer)

    @property
    def observers(self) -> tuple[Observer, ...]:
        return tuple(self._observers)

    def open(self) -> None:
        self.transport.open(self)
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self.transport.close()
            self._fail_pending(DeviceDisconnected(self.device, "connection closed by the bench"))

    @property
    def link_error(self) -> DeviceError | None:
        """Why the link dropped, or None while it is up."""
        return self._lost

    # -- LinkEvents: called from the transport's reader --------------------

    def received(self, chunk: Chunk) -> None:
        for span in self._splitter.feed(chunk.data):
            self._dispatch(span, chunk.stamp)

    def lost(self, error: DeviceError) -> None:
        self._lost = error
        self._fail_pending(error)

    def note(self, record: Record) -> None:
        for observer in self._observers:
            observer.record(record)

    # -- requests ---------------------------------------------------------

    def request(self, type_code: int, body: dict[str, Any] | None = None,
                timeout: float | None = None) -> Message:
        """Send a request and wait for its response.

        Raises:
            DeviceRejected: the device answered with an error message.
            Timeout: no answer in time.
            DeviceDisconnected: the link dropped before the answer.
        """
        if self._lost is not None:
            raise DeviceDisconnected(self.device, f"cannot send {type_name(type_code)}: {self._lost}")
        seq, pending = self._register()
        message = Message(Kind.REQUEST, type_code, seq, body or {})
        try:
            self.send(message)
            return self._await(message, pending, self.timeout if timeout is None else timeout)
        finally:
            with self._lock:
                self._pending.pop(seq, None)

    def send(self, message: Message) -> None:
        """Write one message and report it as a TX record."""
        raw = message.encode()
        with self._write_lock:
            # Recorded before the write so that the answer can never precede it.
            self.note(Record(self.transport.channel, TX, Stamp.now(), raw, message))
            self._write(raw)

    def take(self, wanted: Callable[[Message], bool] = lambda _m: True,
             timeout: float = 0.0) -> list[Message]:
        """Remove and return the device-initiated messages ``wanted`` picks, oldest first.

        Waits up to ``timeout`` seconds for at least one; the others stay queued in order.
        """
        with self._arrived:
            self._arrived.wait_for(lambda: any(wanted(m) for m in self._inbox), timeout)
            taken = [m for m in self._inbox if wanted(m)]
            if taken:
                kept = [m for m in self._inbox if not wanted(m)]
                self._inbox.clear()
                self._inbox.extend(kept)
            return taken

    # -- internals --------------------------------------------------------

    def _write(self, raw: bytes) -> None:
        step = self.transport.max_write
        for start in range(0, len(raw), step):
            self.transport.write(raw[start : start + step])

    def _register(self) -> tuple[int, _Pending]:
        with self._lock:
            seq = next(self._seq)
            while seq in self._pending:
                seq = next(self._seq)
            pending = self._pending[seq] = _Pending()
        return seq, pending

    def _await(self, message: Message, pending: _Pending, timeout: float) -> Message:
        if not pending.done.wait(timeout):
            raise Timeout(self.device, f"no answer to {message.type_name} (seq {message.seq}) "
                          f"within {timeout:g}s; check the device is on and the baud rate/port "
                          "are right, or raise the timeout")
        reply = pending.reply
        if isinstance(reply, DeviceError):
            raise reply
        assert reply is not None
        if reply.kind is Kind.ERROR:
            code = int(reply.body.get("code", ErrorCode.INTERNAL))
            name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else "UNKNOWN"
            raise DeviceRejected(self.device, code, name, str(reply.body.get("message", "")))
        return reply

    def _dispatch(self, span: Delimited, stamp: Stamp) -> None:
        channel = self.transport.channel
        if span.frame is None:
            self._bad_frame(span.encoded, stamp, str(span.error))
            return
        try:
            message = decode_message(span.frame)
        except FrameError as exc:
            self._bad_frame(span.encoded, stamp, str(exc))
            return
        self.note(Record(channel, RX, stamp, span.encoded + b"\x00", message))
        if message.kind in (Kind.RESPONSE, Kind.ERROR):
            self._resolve(message)
        else:
            with self._arrived:
                self._inbox.append(message)
                self._arrived.notify_all()

    def _bad_frame(self, raw: bytes, stamp: Stamp, error: str) -> None:
        self.frame_errors += 1
        self.note(Record(self.transport.channel, RX, stamp, raw, error=error))

    def _resolve(self, message: Message) -> None:
        with self._lock:
            pending = self._pending.get(message.seq)
        if pending is not None:
            pending.reply = message
            pending.done.set()

    def _fail_pending(self, error: DeviceError) -> None:
        with self._lock:
            waiting = list(self._pending.values())
        for pending in waiting:
            pending.reply = error
            pending.done.set()
