"""Saving captures without the sensitive data they hold.

``save_capture`` is the default way to write a capture to disk: every value
classified as sensitive (payment, identity, location, voice, or unknown, in
either direction: the bench's own PROVISION and PAY requests carry the
planted values too) is replaced by a keyed-hash token (bench.redact), and a
frame that carried one loses its raw bytes; ``meta`` keeps their length
(``raw_len``) so offsets still add up. Everything else is kept as captured.
Raw captures are written only with ``raw=True``.

A redacted capture loads with ``Capture.load`` like any other; the tokens keep
the category labels, so ``brewbench inventory`` still reports them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...drivers.messages import Message
from ...drivers.records import TX, Record
from ..capture import Capture, Entry
from .canaries import CanarySet
from .classify import CANARY, CONTENT, Classified, classify
from .emissions import LINK, RAW_TOKEN, Emission, emissions, link_details, map_leaves
from .hunter import Finding, hunter_for
from .redact import Redactor

log = logging.getLogger(__name__)


def classify_capture(capture: Capture, canaries: CanarySet | None = None, *,
                     received: Sequence[Classified] | None = None
                     ) -> tuple[list[Classified], list[Finding]]:
    """Classify both directions of a capture, hunting canaries when they are given.

    ``received``: what the device emitted, classified already (``verify`` does it), so
    only what the bench sent is classified here and no record is analysed twice.
    """
    found = emissions(capture, direction=None if received is None else TX)
    findings = hunter_for(canaries.canaries).hunt(found) if canaries else []
    names = canaries.names() if canaries else ()
    return [*(received or ()), *classify(found, findings, names)], findings


def redact_capture(capture: Capture, redactor: Redactor,
                   classified: Sequence[Classified] | None = None,
                   addresses: Mapping[int, Mapping[str, Any]] | None = None) -> Capture:
    """A copy of ``capture`` with sensitive values tokenised and their frames' raw bytes dropped.

    ``classified`` must cover both directions (``classify_capture`` does): a
    record without classified emissions is kept as it is.
    """
    if classified is None:
        classified = classify_capture(capture)[0]
    per_entry: dict[int, list[Classified]] = defaultdict(list)
    for item in classified:
        per_entry[item.emission.entry].append(item)
    out = Capture(capture.device, dict(capture.meta), actions=list(capture.actions))
    out.meta["redaction"] = {"hash": "hmac-sha256", "key_id": redactor.key_id}
    for index, entry in enumerate(capture.entries):
        items = per_entry.get(index, [])
        record = entry.record
        if any(item.sensitive for item in items):
            try:
                record = _redact_record(record, items, redactor)
            except Exception:  # a body too odd to copy is redacted whole, never kept raw
                record = _redact_whole(record, items, redactor)
        if addresses and index in addresses:  # a topic or URL that holds a planted value
            record = dataclasses.replace(record, meta={**record.meta, **addresses[index]})
        out.entries.append(Entry(entry.action, record))
    return out


def _redact_record(record: Record, items: list[Classified], redactor: Redactor) -> Record:
    tokens = iter([redactor.token(i.emission.value, i.labels) if i.sensitive else None
                   for i in items])
    meta: dict[str, Any] = {**record.meta, "raw_len": len(record.raw)}
    message = record.message
    if message is not None:
        body = map_leaves(message.body, lambda value: _next(tokens, value))
        message = Message(message.kind, message.type, message.seq, body)
    else:
        meta[RAW_TOKEN] = _next(tokens, record.raw)  # raw first, as emissions() lists it
        details = link_details(record.meta)
        meta.update(map_leaves(details, lambda value: _next(tokens, value)) if details else {})
    return Record(record.channel, record.direction, record.stamp, b"", message, record.error,
                  meta)


def _redact_whole(record: Record, items: list[Classified], redactor: Redactor) -> Record:
    """The record with its whole body (or raw bytes) replaced by one token."""
    labels = [label for item in items if item.sensitive for label in item.labels]
    meta: dict[str, Any] = {"raw_len": len(record.raw)}
    message = record.message
    if message is not None:
        body = {"$redacted": redactor.token(record.raw, labels)["$redacted"]}
        message = Message(message.kind, message.type, message.seq, body)
    else:
        meta[RAW_TOKEN] = redactor.token(record.raw, labels)
    return Record(record.channel, record.direction, record.stamp, b"", message, record.error,
                  meta)


def _next(tokens: Iterator[dict[str, Any] | None], value: Any) -> Any:
    token = next(tokens, None)
    return value if token is None else token


def save_capture(capture: Capture, path: Path, *, redactor: Redactor | None = None,
                 canaries: CanarySet | None = None, raw: bool = False,
                 received: Sequence[Classified] | None = None) -> Path:
    """Write ``capture`` to ``path``, redacted unless ``raw`` is asked for.

    Args:
        capture: what to save.
        path: the JSON Lines file to write (complete or absent).
        redactor: keyed hashing; default: the lab key (bench.redact).
        canaries: this run's planted values, so disguised copies are redacted too.
        raw: write raw values and bytes (explicit opt-in; the file then holds
            whatever personal or payment data the device emitted).
        received: the device's emissions as ``verify`` classified them (see
            ``classify_capture``).

    Raises:
        LabKeyError: the lab key cannot be read or created.
    """
    if raw:
        log.warning("saving %s with raw values: it may hold personal and payment data", path)
        return capture.save(path, mode=0o600)
    redactor = redactor or Redactor.from_lab_key()
    classified, _ = classify_capture(capture, canaries, received=received)
    addresses = _address_tokens(capture, redactor, canaries)
    return redact_capture(capture, redactor, classified, addresses).save(path)


#: where a decoded message went (an uplink record's MQTT topic, HTTP host and path): kept
#: beside the message, and a planted owner can sit in a topic ("acme/Ada Canary/telemetry")
ADDRESS_KEYS = ("topic", "host", "path", "url")


def _address_tokens(capture: Capture, redactor: Redactor, canaries: CanarySet | None
                    ) -> dict[int, dict[str, Any]]:
    """Per entry, the tokens for the addresses of a message record that hold a planted
    value or a sensitive value by content (the message itself is redacted apart)."""
    found = [Emission(f"{LINK}.{e.record.channel}.{key}", e.record.meta[key], LINK,
                      e.record.channel, e.record.direction, e.action, e.record.stamp, index, False)
             for index, e in enumerate(capture.entries) if e.record.message is not None
             for key in ADDRESS_KEYS if isinstance(e.record.meta.get(key), str)]
    findings = hunter_for(canaries.canaries).hunt(found) if canaries and found else []
    tokens: dict[int, dict[str, Any]] = defaultdict(dict)
    for item in classify(found, findings, canaries.names() if canaries else ()) if found else []:
        # by what it holds (a planted value, a card number), not for want of a catalogue
        # entry: a topic or host that holds nothing stays readable (residency reads hosts)
        if item.sensitive and any(label.reason in (CANARY, CONTENT) for label in item.labels):
            key = item.emission.path.rsplit(".", 1)[1]
            tokens[item.emission.entry][key] = redactor.token(item.emission.value, item.labels)
    return tokens
