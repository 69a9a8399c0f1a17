"""The sink: where the bench writes points. Spool first, then the server, never lost.

``open_sink(settings)`` returns an ``InfluxSink``. ``write(points)`` encodes them
and appends them to the spool before it returns, so a crash after it loses nothing.
With a server configured, a background thread sends the spooled points in batches
of ``batch_size``, or whatever has waited ``flush_interval`` seconds, and records
each batch the server accepted in the spool's ack journal. A server that is down,
slow or refusing (5xx, timeouts, auth errors) is retried with exponential backoff
(capped at ``max_backoff``) until ``close`` gives up; what is still unsent stays in
the spool for ``brewbench push``. A server that cannot even be connected to (refused,
no route, connect timeout: ``connect_timeout``, 1 s by default), or that has no such
database or refuses the credentials, costs ``close`` one more attempt, not its whole
timeout: waiting buys nothing there. ``stalled`` says why, for the run's one line.
A batch refused for good (HTTP 400/413/422) is split in halves until the refused line
is found; that line is quarantined with the server's message and the rest is delivered.

    sink = open_sink(resolve())
    sink.write(points_for_capture(capture, tags))
    sink.close()
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from .lineproto import LineEncoder, Point
from .settings import InfluxSettings
from .spool import Batch, Spool
from .writers import NOT_TRANSIENT, Rejected, Unavailable, Unreachable, Writer, writer_for

log = logging.getLogger(__name__)


@dataclass
class SinkStats:
    """What a sink did so far."""

    written: int = 0  # points spooled
    sent: int = 0  # points the server accepted
    quarantined: int = 0  # points the server refused for good
    retries: int = 0  # failed attempts that will be retried


class Delivery:
    """Sends spooled batches to one writer, quarantining lines refused for good."""

    def __init__(self, spool: Spool, writer: Writer, target_key: str) -> None:
        self.spool, self.writer, self.target_key = spool, writer, target_key

    def send(self, batch: Batch) -> tuple[int, int]:
        """Deliver ``batch`` and ack it; returns (points sent, points quarantined).

        Raises:
            Unavailable: nothing was acked; send the same batch again later.
        """
        try:
            self.writer.post(batch.body)
            sent, refused = batch.count, 0
        except Rejected as exc:
            if batch.count == 1:
                self.spool.quarantine(self.writer.target, batch.body, exc.reason)
                sent, refused = 0, 1
            else:
                sent, refused = self._bisect(batch.lines())
        self.spool.ack(self.target_key, batch)
        return sent, refused

    def _bisect(self, lines: list[bytes]) -> tuple[int, int]:
        """Find the refused lines by halves; re-sending accepted ones is harmless."""
        try:
            self.writer.post(b"".join(lines))
            return len(lines), 0
        except Rejected as exc:
            if len(lines) == 1:
                self.spool.quarantine(self.writer.target, lines[0], exc.reason)
                return 0, 1
        half = len(lines) // 2
        first, second = self._bisect(lines[:half]), self._bisect(lines[half:])
        return first[0] + second[0], first[1] + second[1]


class InfluxSink:
    """Spools every point and, with a server configured, delivers it in the background.

    Args:
        settings: where points go (``settings.url`` None: spool only).
        writer: the wire path; by default the one ``settings`` select.
    """

    def __init__(self, settings: InfluxSettings, writer: Writer | None = None) -> None:
        self.settings = settings
        self.spool = Spool(settings.spool)
        self.stats = SinkStats()
        self._encoder = LineEncoder()
        self._lock = threading.Condition()
        self._unsent = 0
        self._oldest = 0.0
        self._closing = False
        self._deadline = float("inf")
        self._thread: threading.Thread | None = None
        self._delivery: Delivery | None = None
        self._last_failure = ""
        # why the server cannot take points for now (unreachable, no such database,
        # credentials refused: nothing a few seconds mend); "" once it takes them
        self.stalled = ""
        self._tried_since_close = False
        if settings.url or writer is not None:
            self._delivery = Delivery(self.spool, writer or writer_for(settings),
                                      settings.target_key)
            self._thread = threading.Thread(target=self._run, name="brewbench-influx",
                                            daemon=True)
            self._thread.start()

    def __enter__(self) -> InfluxSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def unsent(self) -> int:
        """Points written to this sink that the server has not accepted yet."""
        return self._unsent if self._delivery else 0

    def write(self, points: Iterable[Point]) -> int:
        """Spool ``points`` (and queue them for the server); returns how many.

        Raises:
            ValueError: a point cannot be written as line protocol (nothing is spooled).
            OSError: the spool folder cannot be written.
            RuntimeError: the sink is closed.
        """
        points = list(points)
        if not points:
            return 0
        text = self._encoder.lines(points)
        with self._lock:
            if self._closing:
                raise RuntimeError("write after close")
            self.spool.append(text)
            self.stats.written += len(points)
            if self._delivery:
                if not self._unsent:
                    self._oldest = time.monotonic()
                self._unsent += len(points)
                if self._unsent >= self.settings.batch_size:
                    self._lock.notify()
        return len(points)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the server has every point written so far; False on timeout."""
        end = time.monotonic() + timeout
        with self._lock:
            self._oldest = 0.0  # whatever is pending is due now
            self._lock.notify()
            while self._unsent and self._delivery and time.monotonic() < end:
                self._lock.wait(min(0.05, max(0.0, end - time.monotonic())))
            return not (self._unsent and self._delivery)

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is pending for up to ``timeout`` seconds, then stop.

        Points the server did not take stay in the spool; the log says how to push them.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._lock.notify()
        if self._thread is not None:
            self._thread.join()
        self.spool.close()
        if self._delivery is not None:
            self._delivery.writer.close()
            if self._unsent:
                log.info("%d point(s) not yet accepted by %s stay in %s; "
                         "`brewbench push` sends them", self._unsent,
                         self.settings.target, self.spool.folder)

    # -- background delivery --------------------------------------------------

    def _run(self) -> None:
        assert self._delivery is not None
        acked = self.spool.acked(self._delivery.target_key)
        offsets: dict[str, int] = {}
        backoff, retry_at = 0.0, 0.0
        while self._wait_for_work(retry_at):
            batch = self._next_batch(acked, offsets)
            if batch is None:
                continue
            try:
                sent, refused = self._delivery.send(batch)
            except Unavailable as exc:
                backoff = self._backoff(backoff, exc)
                retry_at = time.monotonic() + backoff
                continue
            finally:
                self._tried_since_close = self._closing
            self.stalled = ""
            if backoff:
                log.warning("%s accepts points again", self.settings.target)
            backoff = retry_at = 0.0
            offsets[batch.segment.name] = batch.end
            with self._lock:
                self.stats.sent += sent
                self.stats.quarantined += refused
                self._unsent -= batch.count
                self._lock.notify_all()

    def _wait_for_work(self, retry_at: float) -> bool:
        """Sleep until a batch is due; False once closing and done or out of time."""
        settings = self.settings
        with self._lock:
            while True:
                now = time.monotonic()
                if self._closing and (not self._unsent or now >= self._deadline
                                      or (self.stalled and self._tried_since_close)):
                    return False
                if self._closing and self.stalled:
                    return True  # one more try now, not after the backoff: then stop
                if now < retry_at:
                    wait = retry_at - now  # backing off; close() still wakes us to check
                elif self._unsent and (self._closing or self._unsent >= settings.batch_size
                                       or now - self._oldest >= settings.flush_interval):
                    return True
                elif self._unsent:
                    wait = self._oldest + settings.flush_interval - now
                else:
                    wait = settings.flush_interval
                self._lock.wait(max(0.001, min(wait, self._deadline - now)))

    def _next_batch(self, acked: dict[str, int], offsets: dict[str, int]) -> Batch | None:
        batch = self._read_next(acked, offsets)
        if batch is None:
            with self._lock:  # re-check with writers held off, then the count is exact
                batch = self._read_next(acked, offsets)
                if batch is None:
                    self._unsent = 0
        return batch

    def _read_next(self, acked: dict[str, int], offsets: dict[str, int]) -> Batch | None:
        for segment in list(self.spool.written):
            start = offsets.get(segment.name, acked.get(segment.name, 0))
            batch = self.spool.read(segment, start, self.settings.batch_size)
            if batch.count:
                return batch
        return None

    def _backoff(self, previous: float, exc: Unavailable) -> float:
        with self._lock:
            self.stats.retries += 1
            self.stalled = exc.reason if _lasting(exc) else ""
        delay = min(self.settings.max_backoff, max(0.1, previous * 2))
        if exc.retry_after is not None:
            delay = min(self.settings.max_backoff, max(delay, exc.retry_after))
        if not previous or exc.reason != self._last_failure:
            # a server that is simply away is said once per session, by the caller
            # (RunLog.waiting); anything else is worth a warning as it happens
            log.log(logging.INFO if self.stalled else logging.WARNING,
                    "%s; points stay in the spool and are retried", exc)
        else:
            log.debug("still failing: %s", exc)
        self._last_failure = exc.reason
        return delay * random.uniform(0.8, 1.2)  # jitter: parallel workers do not retry in step


def _lasting(exc: Unavailable) -> bool:
    """A failure that waiting out ``close``'s timeout will not mend."""
    return isinstance(exc, Unreachable) or exc.status in NOT_TRANSIENT


def open_sink(settings: InfluxSettings) -> InfluxSink:
    """A sink for ``settings``: spool only without a url, spool + server with one."""
    return InfluxSink(settings)


__all__ = ["Delivery", "InfluxSink", "SinkStats", "open_sink"]
