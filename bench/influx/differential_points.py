"""A differential analysis (bench.verify.differential) as InfluxDB points.

One ``differential_findings`` point per finding: which planted values a field
follows, where, and whether the data contract allows it. Values appear only as
keyed hashes (bench.verify.redact); docs/influxdb.md describes the measurement.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..verify.differential import DifferentialResult, DiffFinding
from ..verify.redact import Redactor
from .lineproto import Point
from .points import complete_tags
from .schema import RunTags, make_point


def differential_points(result: DifferentialResult, tags: RunTags, redactor: Redactor, *,
                        beyond: Sequence[DiffFinding] = (), contract: str = "") -> list[Point]:
    """The findings of ``result``; those in ``beyond`` are marked as not allowed by
    ``contract`` (bench.verify.differential.findings_beyond)."""
    baseline = result.captures[result.design.baselines[0]]
    tags = complete_tags(tags, baseline)
    outside = {id(f) for f in beyond}
    points = []
    for f in result.findings:
        start, end = f.span or (0, -1)
        points.append(make_point("differential_findings", {
            **tags.as_dict(), "action": f.action, "canary": "+".join(f.canaries),
            "field": f.path, "channel": f.channel, "status": f.status}, {
            "count": f.count, "categories": ",".join(f.categories), "exact": f.exact,
            "span_start": start, "span_end": end, "runs": len(result.design.runs),
            "design": result.design.kind, "value_hash": redactor.digest(f.emission.value),
            "beyond_contract": id(f) in outside, "contract": contract}, f.emission.stamp.wall_ns))
    return points


__all__ = ["differential_points"]
