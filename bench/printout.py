"""Human-readable summaries of a capture, per action."""

from __future__ import annotations

import bisect
from collections import Counter
from pathlib import Path
from typing import TextIO

from ..drivers.records import NOTE_KEY
from .capture import Capture
from .capture_budget import describe
from .uplink.losses import uplink_losses
from .values import key_text
from .verify.verification import Verification


def print_capture(capture: Capture, out: TextIO, result: Verification | None = None,
                  saved: Path | None = None) -> None:
    """Per action: outcome, duration, and the message types and fields the device emitted;
    with a verification, the data categories collected and the planted values found
    (where in ``saved``, the capture file, by line number).

    Field values are not printed: they may be personal or payment data.
    """
    print(f"   device: {_identity(capture)}", file=out)
    emitted_per_span = _emitted_per_span(capture)
    for span, (emitted, fields) in zip(capture.actions, emitted_per_span, strict=True):
        what = ", ".join(
            f"{label}x{count} {{{', '.join(sorted(fields.get(label, ())))}}}"
            for label, count in emitted.items())
        print(f"   {span.name:<10} {span.outcome:<5} {span.duration_s * 1000:7.1f} ms  "
              f"{what or '(nothing)'}", file=out)
    _print_link_events(capture, out)
    if capture.frame_errors:
        print(f"   bad frames: {capture.frame_errors}", file=out)
    _print_bounds(capture, out)
    if result is not None:
        _print_verification(result, out, saved)


def _identity(capture: Capture) -> str:
    """What the device said it is; a tap or an imported log never asked it."""
    meta = {key: capture.meta.get(key) or "?"  # missing or empty (a Jura has no serial)
            for key in ("manufacturer", "model", "serial", "firmware", "transport")}
    if all(meta[key] == "?" for key in ("manufacturer", "model", "serial", "firmware")):
        return f"not identified ({capture.device}, over {meta['transport']}: listened to, not asked)"
    return (f"{meta['manufacturer']} {meta['model']} serial {meta['serial']} "
            f"firmware {meta['firmware']} over {meta['transport']}")


def _emitted_per_span(capture: Capture) -> list[tuple[Counter[str], dict[str, set[str]]]]:
    """Per action span, the message types received and their fields, in one pass over
    the entries (a flooded capture holds many of them)."""
    spans = capture.actions
    starts = [span.started.mono_ns for span in spans]
    out: list[tuple[Counter[str], dict[str, set[str]]]] = [(Counter(), {}) for _ in spans]
    for entry in capture.entries:
        record = entry.record
        if record.direction != "rx" or NOTE_KEY in record.meta:
            continue
        index = bisect.bisect_right(starts, record.stamp.mono_ns) - 1
        if index < 0 or not _within(record.stamp.mono_ns, index, capture):
            continue
        emitted, fields = out[index]
        message = record.message
        label = (message.type_name if message else "BAD_FRAME" if record.error is not None
                 else f"{record.channel}:{record.meta.get('answer', 'link')}")
        emitted[label] += 1
        # a hostile body may have keys of any type: shown as path elements
        fields.setdefault(label, set()).update(
            (key_text(key) for key in message.body) if message else
            (k for k in record.meta if k != "line"))
    return out


def _print_bounds(capture: Capture, out: TextIO) -> None:
    """What the capture did not keep, and events the inbox had to drop (docs/reliability.md)."""
    overflow = capture.meta.get("overflow")
    if overflow:
        for line in describe(overflow):
            print(f"   not kept: {line} (counted, not analysed)", file=out)
    for line in uplink_losses(capture.meta):
        print(f"   uplink: {line}", file=out)
    dropped = sum(int(e.record.meta.get("dropped", 0)) for e in capture.notes()
                  if e.record.meta.get(NOTE_KEY) == "inbox_overflow")
    if dropped:
        print(f"   events dropped by a full inbox: {dropped} (kept in the capture)", file=out)


def _print_verification(result: Verification, out: TextIO, saved: Path | None) -> None:
    """Which categories each action's emissions fell in, then every canary found."""
    per_action: dict[str, set[str]] = {}
    for item in result.classified:
        per_action.setdefault(item.emission.action, set()).update(item.categories)
    print("   collected:", file=out)
    for action, found in per_action.items():
        print(f"     {action:<10} {', '.join(sorted(found))}", file=out)
    where = f" (lines of {saved})" if saved and result.findings else ""
    print(f"   planted values found: {len(result.findings)}{where}", file=out)
    lines = result.capture.entry_lines() if saved else []
    for f in result.findings:
        place = f"line {lines[f.entry]}" if saved else f"entry {f.entry}"
        split = f" (split over {len(f.emissions)} frames)" if len(f.emissions) > 1 else ""
        print(f"     {f.canary} as {f.chain} in {f.path} on {f.channel} during {f.action}, "
              f"{place} byte {f.offset}{split}", file=out)
    _print_heard(result, out)
    for said in result.said:  # the words are the planted value: where, never what
        text = said.emission
        print(f"   {said.canary} as said, without its run tag, in {text.path} on {text.channel} "
              f"during {text.action} (a transcript)", file=out)
    for problem in result.problems:
        print(f"   not analysed: {problem}", file=out)
    for line in result.not_analysed:
        print(f"   not fully analysed: {line}", file=out)


def _print_heard(result: Verification, out: TextIO) -> None:
    """Every recording, and the planted values heard in it (bench.verify.spoken)."""
    if not result.heard:
        return
    print(f"   recordings: {len(result.heard)}, planted values heard: {len(result.spoken)}", file=out)
    for heard in result.heard:
        clip = heard.clip
        seconds = heard.seconds or clip.info.duration_s
        length = f"{seconds:.1f} s, " if seconds else ""
        kind = ("speech, transcribed" if heard.transcript else
                "speech" if heard.speech else "not speech")
        print(f"     {clip.describe()} during {clip.action}: {length}{kind}", file=out)
        for f in heard.findings:  # where and how, not the phones heard: they are the value
            lead = f", {f.margin:.2f} above the best decoy" if f.margin is not None else ""
            print(f"       {f.canary} spoken at {f.start_s:.2f}-{f.end_s:.2f} s, heard by "
                  f"{f.method} (score {f.score:.2f}{lead}, p {f.p:.3f})", file=out)


def _print_link_events(capture: Capture, out: TextIO) -> None:
    """Per channel: how many link-level records (advertisements, GATT reads...) and their keys."""
    counts = Counter[str]()
    keys: dict[str, set[str]] = {}
    for entry in capture.link_events():
        channel = entry.record.channel
        counts[channel] += 1
        keys.setdefault(channel, set()).update(
            key for key, value in entry.record.meta.items() if value not in (None, "", {}, []))
    for channel, count in sorted(counts.items()):
        print(f"   {channel:<10} {count} link record(s) {{{', '.join(sorted(keys[channel]))}}}",
              file=out)


def _within(mono_ns: int, index: int, capture: Capture) -> bool:
    span = capture.actions[index]
    end = span.ended.mono_ns if span.ended else float("inf")
    return span.started.mono_ns <= mono_ns <= end
