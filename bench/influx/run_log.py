"""Log one run (a pytest session or a ``brewbench run``) to the sink: the small API.

    run_log = RunLog.open(settings, run="20261128T021500-ab12", kind="pytest")
    run_log.test(capture, test="tests/test_pay.py::test_card", outcome="passed",
                 duration_s=1.2, started_ns=t0)
    run_log.close()   # writes the ``runs`` summary point and flushes (or leaves it spooled)

Each ``test`` call writes the capture's ``actions`` and ``emissions`` points and
one ``tests`` point. Nothing here raises because a server is away: the sink
spools and retries; only a spool that cannot be written (full disk) raises.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ... import __version__
from ..capture import Capture
from ..verify.redact import LabKeyError, Redactor
from .points import (
    EmissionSummary,
    complete_tags,
    point_for_run,
    point_for_test,
    points_for_capture,
)
from .schema import RunTags
from .settings import InfluxSettings
from .sink import InfluxSink, open_sink

log = logging.getLogger(__name__)

OUTCOMES = ("passed", "failed", "skipped", "error")


class RunLog:
    """Collects the points of one run into a sink and summarises the run at the end.

    Args:
        sink: where points go.
        run: the run id every point is tagged with.
        kind: ``pytest``, ``run`` or ``nightly``.
    """

    def __init__(self, sink: InfluxSink, run: str, kind: str,
                 redactor: Redactor | None = None) -> None:
        self.sink, self.run, self.kind = sink, run, kind
        self._redactor = redactor
        self._no_key = False
        self.outcomes: Counter[str] = Counter()
        self.devices: set[str] = set()
        self.started_ns = time.time_ns()
        self._start = time.monotonic()

    @classmethod
    def open(cls, settings: InfluxSettings, run: str, kind: str,
             redactor: Redactor | None = None) -> RunLog:
        """A run log writing to a new sink for ``settings``.

        ``redactor`` hashes emitted values; by default the lab key's (``bench.redact``).
        """
        return cls(open_sink(settings), run, kind, redactor)

    @property
    def redactor(self) -> Redactor | None:
        """The lab key's redactor, loaded on first use; None (no hashes) if it cannot be."""
        if self._redactor is None and not self._no_key:
            try:
                self._redactor = Redactor.from_lab_key()
            except (LabKeyError, ValueError) as exc:
                log.warning("no lab key (%s): emission points carry no value hashes", exc)
                self._no_key = True
        return self._redactor

    def test(self, capture: Capture | None, *, test: str, outcome: str, duration_s: float,
             started_ns: int, error_type: str = "",
             emissions: Iterable[EmissionSummary] | None = None) -> int:
        """Log one test of one device (``capture`` None for a test without a device).

        Returns:
            How many points were written.

        Raises:
            ValueError: ``outcome`` is not passed, failed, skipped or error.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"test outcome {outcome!r}: use one of {', '.join(OUTCOMES)}")
        tags = RunTags(run=self.run, test=test)
        points = []
        if capture is not None:
            tags = complete_tags(tags, capture)
            self.devices.add(tags.device)
            points = points_for_capture(capture, tags, emissions=emissions,
                                        redactor=None if emissions is not None else self.redactor)
        points.append(point_for_test(tags, outcome, duration_s=duration_s, started_ns=started_ns,
                                     error_type=error_type))
        self.outcomes[outcome] += 1
        return self.sink.write(points)

    def tally(self) -> dict[str, object]:
        """What the ``runs`` point counts, as plain data another process can ``merge``
        (a pytest-xdist worker's share of a run, sent to the controller)."""
        return {"outcomes": dict(self.outcomes), "devices": sorted(self.devices)}

    def began(self, started_ns: int, monotonic: float) -> None:
        """Date the run from an earlier start (``time.time_ns()``, ``time.monotonic()``):
        a log opened only at the end of a run it summarises."""
        self.started_ns, self._start = started_ns, monotonic

    def merge(self, tally: Mapping[str, Any]) -> None:
        """Count another process's ``tally`` of the same run into this run's summary."""
        self.outcomes.update({str(k): int(v) for k, v in dict(tally.get("outcomes", {})).items()})
        self.devices.update(str(d) for d in tally.get("devices", ()))

    def close(self, timeout: float = 30.0, summary: bool = True) -> None:
        """Write the ``runs`` point (unless ``summary`` is False) and close the sink."""
        if summary:
            self.sink.write([point_for_run(
                self.run, started_ns=self.started_ns, kind=self.kind,
                tests=sum(self.outcomes.values()), passed=self.outcomes["passed"],
                failed=self.outcomes["failed"], skipped=self.outcomes["skipped"],
                errors=self.outcomes["error"], devices=len(self.devices),
                duration_s=time.monotonic() - self._start, version=__version__)])
        self.sink.close(timeout)  # a server that is not there costs one more try, not timeout

    def waiting(self) -> str:
        """After ``close``: one line saying which points wait in the spool, why, and the
        command that sends them; "" when the server took every point."""
        sink = self.sink
        spool = sink.spool.folder
        if not sink.settings.url:
            return (f"{sink.stats.written} point(s) wait in the spool {spool}; send them with "
                    f"`brewbench push --url URL --db NAME --spool {spool}` (or set INFLUX_URL)")
        if not sink.unsent:
            return ""
        why = (f"{sink.settings.target}: {sink.stalled}" if sink.stalled
               else f"not taken by {sink.settings.target}")
        return (f"{sink.unsent} point(s) wait in the spool {spool} ({why}); "
                f"`brewbench push --spool {spool}` sends them")


__all__ = ["OUTCOMES", "RunLog"]
