"""A ``Verification`` (bench.verify) as InfluxDB points and emission summaries.

    run_log.test(capture, ..., emissions=emission_summaries(result, redactor))
    sink.write(finding_points(result, tags, redactor) + violation_points(result, tags, redactor))
    sink.write(destination_points(result, tags))   # where uplink data went
    sink.write(voice_points(result, tags, redactor))  # recordings, and names heard in them

The summaries and points carry categories, field paths, counts and keyed hashes
(bench.verify.redact), never a value the device sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..verify.classify import Classified
from ..verify.contracts import Violation
from ..verify.hunter import Finding
from ..verify.inventory import collected_groups
from ..verify.redact import Redactor
from ..verify.residency import Place, destination_places
from ..verify.spoken import Heard, SpokenFinding
from ..verify.verification import Verification
from .lineproto import Point
from .points import EmissionSummary, complete_tags, point_for_finding, point_for_violation
from .schema import RunTags, make_point


def emission_summaries(result: Verification, redactor: Redactor) -> list[EmissionSummary]:
    """``emissions`` points' content: per action, channel, field and category, with
    contract flags; the hash is of the first value."""
    breaches = {(v.category, v.field, v.action, v.channel) for v in _violations(result)}
    contract = result.verdict.contract.source if result.verdict else ""
    first_start: dict[str, int] = {}
    for span in result.capture.actions:
        first_start.setdefault(span.name, span.started.wall_ns)
    out = []
    for key, items in collected_groups(result.classified).items():
        action, channel, path, category = key.action, key.channel, key.field, key.category
        first = items[0].emission
        distinct = len({redactor.digest(i.emission.value) for i in items})
        out.append(EmissionSummary(
            action, channel, path, category, len(items), distinct, first.message_type,
            redactor.digest(first.value), first_start.get(action, first.stamp.wall_ns),
            (category, path, action, channel) in breaches, contract))
    return out


def finding_points(result: Verification, tags: RunTags, redactor: Redactor) -> list[Point]:
    """One ``findings`` point per canary, encoding, action and channel; a canary heard
    in a recording has encoding ``spoken`` and, as offset, where it starts in the clip (ms)."""
    tags = complete_tags(tags, result.capture)
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in result.findings:
        key = (finding.action, finding.canary, finding.chain, finding.channel)
        groups.setdefault(key, []).append(finding)
    points = []
    for (action, canary, chain, channel), found in groups.items():
        head = result.capture.entries[found[0].entry].record
        value = result.classified[found[0].emissions[0]].emission.value
        points.append(point_for_finding(tags, action=action, canary=canary, encoding=chain,
                                        channel=channel, count=len(found),
                                        offset=found[0].offset, value_hash=redactor.digest(value),
                                        time_ns=head.stamp.wall_ns))
    return points + _spoken_points(result, tags, redactor)


def _spoken_points(result: Verification, tags: RunTags, redactor: Redactor) -> list[Point]:
    groups: dict[tuple[str, str, str], list[SpokenFinding]] = {}
    for finding in result.spoken:
        groups.setdefault((finding.action, finding.canary, finding.channel), []).append(finding)
    points = []
    for (action, canary, channel), found in groups.items():
        head = result.capture.entries[found[0].entry].record
        value = result.classified[found[0].emissions[0]].emission.value
        points.append(point_for_finding(tags, action=action, canary=canary, encoding=found[0].chain,
                                        channel=channel, count=len(found),
                                        offset=round(found[0].start_s * 1000),
                                        value_hash=redactor.digest(value),
                                        time_ns=head.stamp.wall_ns))
    return points


def voice_points(result: Verification, tags: RunTags, redactor: Redactor) -> list[Point]:
    """One ``voice`` point per action, channel and format of the recordings emitted."""
    tags = complete_tags(tags, result.capture)
    groups: dict[tuple[str, str, str], list[Heard]] = {}
    for heard in result.heard:
        clip = heard.clip
        groups.setdefault((clip.action, clip.channel, clip.info.format), []).append(heard)
    points = []
    for (action, channel, fmt), clips in groups.items():
        head = result.capture.entries[clips[0].clip.entry].record
        seconds = sum(h.transcript.duration_s if h.transcript else h.clip.info.duration_s or 0.0
                      for h in clips)
        points.append(make_point("voice", {**tags.tags(), "action": action, "channel": channel,
                                           "format": fmt},
                                 {**tags.fields(), "clips": len(clips), "seconds": float(seconds),
                                  "speech": sum(1 for h in clips if h.speech),
                                  "transcribed": sum(1 for h in clips if h.transcript),
                                  "spoken_findings": sum(len(h.findings) for h in clips),
                                  "value_hash": redactor.digest(clips[0].clip.data)},
                                 head.stamp.wall_ns))
    return points


def violation_points(result: Verification, tags: RunTags, redactor: Redactor) -> list[Point]:
    """One ``contract_violations`` point per breach of the contract."""
    if result.verdict is None:
        return []
    tags = complete_tags(tags, result.capture)
    first = {(item.emission.path, item.emission.action, item.emission.channel): item.emission
             for item in reversed(result.classified)}
    points = []
    for v in result.verdict.violations:
        emission = first[(v.field, v.action, v.channel)]
        points.append(point_for_violation(tags, action=v.action, category=v.category,
                                          field=v.field, channel=v.channel, count=v.count,
                                          contract=result.verdict.contract.source,
                                          value_hash=redactor.digest(emission.value),
                                          time_ns=emission.stamp.wall_ns))
    return points


def destination_points(result: Verification, tags: RunTags) -> list[Point]:
    """One ``uplink`` point per action, category, destination host and protocol."""
    tags = complete_tags(tags, result.capture)
    entries = result.capture.entries
    breaches = {(v.category, v.action, v.destination) for v in _violations(result) if v.destination}
    groups: dict[tuple[str, str, str, str], list[Classified]] = {}
    for item in result.classified:
        meta = entries[item.emission.entry].record.meta
        host = meta.get("host")
        if not host:
            continue
        for category in item.categories:
            key = (item.emission.action, category, str(host), str(meta.get("protocol", "")))
            groups.setdefault(key, []).append(item)
    places = destination_places(result.capture)
    return [make_point("uplink", {**tags.tags(), "action": action, "category": category,
                                  "destination": host, "protocol": protocol},
                       {**tags.fields(), "count": len(items), "fields": len({i.emission.path for i in items}),
                        "residency_breach": (category, action, host) in breaches,
                        **_place_fields(places.get(host))},
                       items[0].emission.stamp.wall_ns)
            for (action, category, host, protocol), items in groups.items()]


def _place_fields(place: Place | None) -> dict[str, str]:
    """Where the lab network placed a destination, as fields (none when it did not)."""
    if place is None:
        return {}
    return {key: str(place.get(key, "")) for key in ("address", "located", "registered", "operator")}


def _violations(result: Verification) -> Sequence[Violation]:
    return result.verdict.violations if result.verdict else []
