"""The previous night, read back: from the results folder, or from InfluxDB.

A nightly run keeps ``summary.json`` in its results folder; the newest earlier one
is the previous night. A bench host whose folder was wiped (or a fresh CI runner)
still has its history in InfluxDB when one is configured: then the previous run is
the newest other run there by its recorded time, and its inventory is summed from
``emissions``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ...drivers.errors import BrewbenchError
from ..influx.query import InfluxReader
from ..influx.settings import InfluxSettings
from ..verify.inventory import Collected, Inventory
from .plan import Target
from .summary import previous_inventories

log = logging.getLogger(__name__)
History = tuple[str | None, dict[str, Inventory]]


def previous_night(results_root: Path, run_id: str, targets: Sequence[Target],
                   influx: InfluxSettings | None) -> History:
    """The previous run's id and its inventories by target slug (empty when none)."""
    found = previous_inventories(results_root, run_id)
    if found[0] is not None or influx is None or not influx.url:
        return found
    try:
        return _from_influx(influx, run_id, targets)
    except BrewbenchError as exc:  # the report says "no previous night"; the run goes on
        log.warning("previous night not read back from InfluxDB: %s", exc)  # exc names it
        return None, {}


def _from_influx(settings: InfluxSettings, run_id: str, targets: Sequence[Target]) -> History:
    reader = InfluxReader(settings)
    try:
        # the newest other run by the time it recorded, not by its id ("mon" < "tue")
        runs = [(int(when or 0), str(value))
                for series in reader.query('SELECT "run"::field FROM "runs"')
                for when, value in series.values if value and value != run_id]
        if not runs:
            return None, {}
        previous = max(runs)[1]
        series = reader.query('SELECT SUM("count") FROM "emissions" WHERE "run" = $run GROUP BY '
                              '"firmware", "device", "category", "field", "channel", "action"',
                              {"run": previous})
    finally:
        reader.close()
    slugs = {(t.firmware, t.spec): t.slug for t in targets}
    inventories: dict[str, Inventory] = {}
    for s in series:
        slug = slugs.get((s.tags.get("firmware", ""), s.tags.get("device", "")))
        total = sum(int(v[1] or 0) for v in s.values)
        if slug is not None and total:
            key = Collected(s.tags["category"], s.tags["field"], s.tags["channel"], s.tags["action"])
            inventories.setdefault(slug, Counter())[key] += total
    return previous, inventories
