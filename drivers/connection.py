"""A protocol connection: frames over a transport, responses matched to requests.

The connection decodes every chunk the transport delivers, reports each frame
(good or bad) to its observers, hands responses to the request waiting for
that sequence number and queues device-initiated messages (events, telemetry,
records) in arrival order.

With ``wait`` > 0 a device that is not there yet is waited for, up to ``wait``
seconds, and a link that drops is re-opened: the transport finds the device
again by its selector (it may have re-enumerated under a new path), a
``link.gap`` note records the gap (from, to, old and new path) before anything
the new link carries, and requests made meanwhile wait for it (up to ``wait``).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .answers import int_field, text_field
from .bad_runs import BadRun
from .errors import DeviceDisconnected, DeviceError, DeviceRejected, FrameError, Timeout
from .framing import FrameSplitter, oversize_error
from .messages import ErrorCode, Kind, Message, decode_wire, type_name
from .records import NOTE_KEY, RX, TX, BatchObserver, Chunk, Observer, Record, Stamp
from .relink import HeldEvents, Say, open_when_present
from .transport import Transport

DEFAULT_TIMEOUT = 3.0
MAX_INBOX = 10_000  # device-initiated messages waiting for take(); the oldest go first


class _Pending:
    """One request's answer slot: a held lock is cheaper to make and wait on than an Event."""

    __slots__ = ("_gate", "reply")

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self._gate.acquire()
        self.reply: Message | DeviceError | None = None

    def settle(self, reply: Message | DeviceError) -> None:
        """The first answer counts (call with the connection's lock held)."""
        if self.reply is None:
            self.reply = reply
            self._gate.release()

    def wait(self, timeout: float) -> bool:
        return self.reply is not None or self._gate.acquire(timeout=max(timeout, 0.0))


class Connection:
    """Request/response and device-initiated messages over one transport."""

    def __init__(self, transport: Transport, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.transport = transport
        self.device = transport.device
        self.timeout = timeout
        self.frame_errors = 0
        self.frames_decoded = 0
        self._observers: list[Observer] = []
        self._sinks: list[Callable[[list[Record]], None]] = []  # per observer, takes a batch
        self._splitter = FrameSplitter()
        self._pending: dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._seq = itertools.cycle(range(1, 0x10000))
        self._inbox: deque[Message] = deque()
        self.inbox_dropped = 0  # messages pushed out of a full inbox (they stay in the capture)
        self._dropped_noted = 0
        self._bad_run: BadRun | None = None
        self._arrived = threading.Condition()
        self._takers = 0  # threads waiting in take(); no one to wake when 0
        self._lost: DeviceError | None = None
        self._open = False
        self.wait = 0.0  # seconds a device may take to appear, or to come back after leaving
        self.say: Say | None = None  # told when the bench starts waiting for the device
        #: called on the relink thread once the link is back (a driver's handshake)
        self.relinked: Callable[[], None] | None = None
        self._where = ""  # where the device was found last (a path, a USB address)
        self._back = threading.Event()  # set while no relink is running
        self._back.set()
        self._relinker: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    def attach(self, observer: Observer) -> None:
        """Report every record from now on to ``observer`` (attach before open)."""
        self._observers.append(observer)
        self._sinks.append(observer.records if isinstance(observer, BatchObserver)
                           else _one_by_one(observer))

    @property
    def observers(self) -> tuple[Observer, ...]:
        return tuple(self._observers)

    def open(self) -> None:
        open_when_present(self.transport, self, self.wait, self.say)
        self._where = self.transport.locate()
        self._lost = None
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            relinker = self._relinker
            if relinker is not None and relinker is not threading.current_thread():
                relinker.join(timeout=self.wait + 5)
            self.transport.close()
            self._end_bad_run()
            self._note_inbox_overflow()
            self._fail_pending(DeviceDisconnected(self.device, "connection closed by the bench"))

    @property
    def link_error(self) -> DeviceError | None:
        """Why the link dropped, or None while it is up."""
        return self._lost

    # -- LinkEvents: called from the transport's reader --------------------

    def received(self, chunk: Chunk) -> None:
        """Decode, record and route every frame ``chunk`` completes.

        The hot path of every link: one batch of records per chunk, events queued
        before responses are handed over (a SYNC's records precede its response),
        and no wake-up unless someone waits in ``take``.
        """
        complete, dropped = self._splitter.split(chunk.data)
        stamp, channel = chunk.stamp, self.transport.channel
        records: list[Record] = []
        replies: list[Message] = []
        events: list[Message] = []
        for encoded in complete:
            try:
                message = decode_wire(encoded)
            except FrameError as exc:
                self._bad(encoded, str(exc), stamp)
                continue
            self.frames_decoded += 1
            if self._bad_run is not None:
                records.append(self._bad_run.record(channel))
                self._bad_run = None
            records.append(Record(channel, RX, stamp, encoded + b"\x00", message))
            (replies if message.kind in _REPLIES else events).append(message)
        if dropped is not None:
            self._bad(dropped, str(oversize_error()), stamp)
        if self._bad_run is not None and self._bad_run.is_old(stamp):
            records.append(self._bad_run.record(channel))
            self._bad_run = None
        if records:
            for sink in self._sinks:
                sink(records)
        if events:
            self._queue(events)
        for reply in replies:
            self._resolve(reply)

    def _bad(self, data: bytes, error: str, stamp: Stamp) -> None:
        """Fold undecodable bytes into the current run (bench.bad_runs)."""
        self.frame_errors += 1
        if self._bad_run is None:
            self._bad_run = BadRun(stamp, error)
        self._bad_run.add(data)

    def _end_bad_run(self) -> None:
        run, self._bad_run = self._bad_run, None
        if run is not None:
            self.note(run.record(self.transport.channel))

    def _queue(self, events: list[Message]) -> None:
        """Queue events for take(), pushing the oldest out of a full inbox and counting them."""
        with self._arrived:
            inbox = self._inbox
            inbox.extend(events)
            excess = len(inbox) - MAX_INBOX
            if excess > 0:
                self.inbox_dropped += excess
                for _ in range(excess):
                    inbox.popleft()
            if self._takers:
                self._arrived.notify_all()

    def _note_inbox_overflow(self) -> None:
        """Record how many events a full inbox pushed out since the last note, if any."""
        with self._arrived:
            dropped = self.inbox_dropped - self._dropped_noted
            self._dropped_noted += dropped
        if dropped > 0:
            self.note(Record(self.transport.channel, RX, Stamp.now(), b"",
                             meta={NOTE_KEY: "inbox_overflow", "dropped": dropped,
                                   "max_inbox": MAX_INBOX}))

    def lost(self, error: DeviceError) -> None:
        self._lost = error
        relink = self._open and self.wait > 0 and self._back.is_set()
        if relink:
            self._back.clear()  # before pending requests wake, so they see a relink running
        self._fail_pending(error)
        if relink:
            self._relinker = threading.Thread(target=self._relink, args=(error, Stamp.now()),
                                              name=f"relink {self.device}", daemon=True)
            self._relinker.start()

    def _relink(self, error: DeviceError, since: Stamp) -> None:
        """Find the device again and re-open the link; note the gap before anything new."""
        self.transport.close()
        held = HeldEvents(self)
        try:
            found = open_when_present(self.transport, held, self.wait,
                                      cancelled=lambda: not self._open)
        except DeviceError as exc:
            self._lost = DeviceDisconnected(self.device, f"{error}; it did not come back: {exc}")
            self._back.set()
            return
        if not self._open:  # the bench closed the connection meanwhile
            self.transport.close()
            self._back.set()
            return
        self._end_bad_run()
        self._splitter = FrameSplitter()  # a frame cut by the gap is not joined to the next
        old, self._where = self._where, self.transport.locate()
        self.note(Record(self.transport.channel, RX, found, b"", meta={
            NOTE_KEY: "link.gap", "from_mono_ns": since.mono_ns, "from_wall_ns": since.wall_ns,
            "to_mono_ns": found.mono_ns, "to_wall_ns": found.wall_ns,
            "seconds": round((found.mono_ns - since.mono_ns) / 1e9, 3), "old": old,
            "new": self._where, "cause": str(error)}))
        self._lost = None
        held.release()
        try:
            if self.relinked is not None:
                self.relinked()
        except DeviceError as exc:  # the handshake failed: the link is up, requests tell
            self.note(Record(self.transport.channel, RX, Stamp.now(), b"",
                             meta={NOTE_KEY: "link.handshake_failed", "error": str(exc)}))
        finally:
            self._back.set()

    def wait_for_link(self, timeout: float | None = None) -> bool:
        """Wait until no relink is running (up to ``timeout``, default ``wait`` + 5 s);
        True when the link is up."""
        self._back.wait(self.wait + 5 if timeout is None else timeout)
        return self._back.is_set() and self._lost is None

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
        if self._lost is not None and not self._back.is_set():
            self.wait_for_link()  # the device is being found again: wait for it
        if self._lost is not None:
            raise DeviceDisconnected(self.device, f"cannot send {type_name(type_code)}: {self._lost}")
        seq, pending = self._register()
        message = Message(Kind.REQUEST, type_code, seq, body or {})
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        before = (self.frames_decoded, self.frame_errors)
        try:
            self.send(message)
            return self._await(message, pending, timeout, deadline, before)
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
        Events pushed out of a full inbox (``MAX_INBOX``) since the last call are
        recorded first, as one note of how many.
        """
        self._note_inbox_overflow()
        with self._arrived:
            self._takers += 1
            try:
                self._arrived.wait_for(lambda: any(wanted(m) for m in self._inbox), timeout)
            finally:
                self._takers -= 1
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

    def _await(self, message: Message, pending: _Pending, timeout: float,
               deadline: float, before: tuple[int, int]) -> Message:
        if not pending.wait(deadline - time.monotonic()):
            raise Timeout(self.device, f"no answer to {message.type_name} (seq {message.seq}) "
                          f"within {timeout:g}s; {self._silence_hint(*before)}")
        reply = pending.reply
        if isinstance(reply, DeviceError):
            raise reply
        assert reply is not None
        if reply.kind is Kind.ERROR:
            action = f"ERROR to {message.type_name}"
            code = int_field(self.device, action, reply.body, "code", default=ErrorCode.INTERNAL)
            detail = text_field(self.device, action, reply.body, "message", default="")
            name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else "UNKNOWN"
            raise DeviceRejected(self.device, code, name, detail[:500])
        return reply

    def _silence_hint(self, decoded_before: int, errors_before: int) -> str:
        """What the frames seen while waiting say about why no answer came."""
        decoded = self.frames_decoded - decoded_before
        errors = self.frame_errors - errors_before
        if errors and not decoded:
            return (f"{errors} frame(s) arrived but none decoded (the device speaks another "
                    "protocol or corrupts its frames; see the capture's bad frames)")
        if decoded:
            return (f"{decoded} other message(s) arrived meanwhile, none answering this "
                    "request; the device may be busy or ignoring it, or raise the timeout")
        return ("nothing arrived; check the device is on and the baud rate/port are right, "
                "or raise the timeout")

    def _resolve(self, message: Message) -> None:
        with self._lock:
            pending = self._pending.get(message.seq)
            if pending is not None:
                pending.settle(message)

    def _fail_pending(self, error: DeviceError) -> None:
        with self._lock:
            for pending in self._pending.values():
                pending.settle(error)


_REPLIES = (Kind.RESPONSE, Kind.ERROR)


def _one_by_one(observer: Observer) -> Callable[[list[Record]], None]:
    """A batch sink for an observer that only takes records one at a time."""
    def sink(records: list[Record]) -> None:
        for record in records:
            observer.record(record)
    return sink
