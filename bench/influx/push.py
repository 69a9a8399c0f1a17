"""Replay a spool into a server: ``brewbench push``.

Every segment of the spool folder is sent from where this destination's ack
journal says it stopped (or from the start with ``resend=True``). Sending the
same points twice is harmless: InfluxDB keeps one point per measurement, tag set
and timestamp, so a replay never duplicates anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .settings import InfluxSettings
from .sink import Delivery
from .spool import Batch, Spool
from .writers import NOT_TRANSIENT, Unavailable, Writer, writer_for

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (points done, points to do)


@dataclass(frozen=True)
class PushResult:
    """What a push did."""

    sent: int
    quarantined: int
    total: int


def push(settings: InfluxSettings, *, spool: Path | None = None, resend: bool = False,
         progress: Progress | None = None, attempts: int = 5,
         writer: Writer | None = None) -> PushResult:
    """Send every unsent point of a spool folder to the server ``settings`` name.

    Args:
        settings: the destination (and, unless ``spool`` is given, the spool folder).
        spool: the spool folder to replay.
        resend: send everything again, ignoring what the server already acknowledged.
        progress: called after each batch with (done, total).
        attempts: tries per batch while the server is unavailable, with backoff.
        writer: the wire path (default: the one ``settings`` select).

    Raises:
        Unavailable: the server stayed unavailable; the message says how much is left.
        FileNotFoundError: the spool folder does not exist.
    """
    folder = spool or settings.spool
    if not folder.is_dir():
        raise FileNotFoundError(f"no spool folder at {folder}")
    store = Spool(folder)
    delivery = Delivery(store, writer or writer_for(settings), settings.target_key)
    acked = {} if resend else store.acked(settings.target_key)
    segments = store.segments()
    total = sum(store.count(s, acked.get(s.name, 0)) for s in segments)
    done = sent = refused = 0
    try:
        for segment in segments:
            offset = acked.get(segment.name, 0)
            while (batch := store.read(segment, offset, settings.batch_size)).count:
                ok, bad = _send_with_retries(delivery, batch, attempts, settings.max_backoff,
                                             total - done)
                sent, refused, done = sent + ok, refused + bad, done + batch.count
                offset = batch.end
                if progress is not None:
                    progress(done, total)
    finally:
        delivery.writer.close()
    return PushResult(sent, refused, total)


def _send_with_retries(delivery: Delivery, batch: Batch, attempts: int, max_backoff: float,
                       left: int) -> tuple[int, int]:
    delay = 0.5
    for attempt in range(1, attempts + 1):
        try:
            return delivery.send(batch)
        except Unavailable as exc:
            if exc.status in NOT_TRANSIENT:
                raise Unavailable(exc.target, exc.status,
                                  f"{exc.reason}; {left} point(s) stay in the spool") from exc
            if attempt == attempts:
                raise Unavailable(exc.target, exc.status,
                                  f"{exc.reason}; {left} point(s) not pushed yet, they stay in "
                                  "the spool: run `brewbench push` again later") from exc
            log.warning("%s; retrying in %.1f s", exc, delay)
            time.sleep(delay)
            delay = min(max_backoff, delay * 2)
    raise AssertionError("unreachable")


__all__ = ["PushResult", "push"]
