"""The InfluxDB schema of bench results: measurements, their tags and typed fields.

``docs/influxdb.md`` explains every tag and field and why each tag keeps the
number of series bounded. ``SCHEMA`` is the single source of truth: the point
builders below only make points that match it, and ``check_point`` lets tests
prove a point never changes a field's type (InfluxDB refuses a field whose type
differs from what the shard already holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .lineproto import FieldValue, Point

RUN_TAGS = ("device", "model", "firmware", "transport")
# The run id and the test id grow without bound (one more per run, per test): as tags
# they would add series every night, so they are string fields (docs/influxdb.md).
RUN_FIELDS: dict[str, type] = {"run": str, "test": str}


@dataclass(frozen=True)
class Measurement:
    """A measurement: its tag keys and the Python type of each field."""

    tags: tuple[str, ...]
    fields: Mapping[str, type]


SCHEMA: dict[str, Measurement] = {
    "runs": Measurement(("kind",), {
        "run": str, "tests": int, "passed": int, "failed": int, "skipped": int, "errors": int,
        "devices": int, "duration_s": float, "version": str}),
    "tests": Measurement(RUN_TAGS, {
        **RUN_FIELDS,
        "outcome": str, "passed": bool, "duration_s": float, "error_type": str}),
    "actions": Measurement((*RUN_TAGS, "action"), {
        **RUN_FIELDS,
        "outcome": str, "ok": bool, "duration_s": float, "bytes_in": int, "bytes_out": int,
        "frames_in": int, "frames_out": int, "bad_frames": int, "order": int,
        "error_type": str}),
    "emissions": Measurement((*RUN_TAGS, "action", "category", "field", "channel"), {
        **RUN_FIELDS,
        "count": int, "distinct": int, "message_type": str, "value_hash": str,
        "beyond_contract": bool, "contract": str}),
    "findings": Measurement((*RUN_TAGS, "action", "canary", "encoding", "channel"), {
        **RUN_FIELDS,
        "count": int, "offset": int, "value_hash": str}),
    "contract_violations": Measurement((*RUN_TAGS, "action", "category", "field", "channel"), {
        **RUN_FIELDS,
        "count": int, "contract": str, "value_hash": str}),
    "differential_findings": Measurement(
        (*RUN_TAGS, "action", "canary", "field", "channel", "status"), {
            **RUN_FIELDS,
            "count": int, "categories": str, "exact": bool, "span_start": int, "span_end": int,
            "runs": int, "design": str, "value_hash": str, "beyond_contract": bool,
            "contract": str}),
    # Recordings a device emitted (bench.verify.spoken): per action, channel and format.
    "voice": Measurement((*RUN_TAGS, "action", "channel", "format"), {
        **RUN_FIELDS,
        "clips": int, "seconds": float, "speech": int, "transcribed": int,
        "spoken_findings": int, "value_hash": str}),
    # Where uplink data went: the destination is a host name (bounded), never a URL.
    "uplink": Measurement((*RUN_TAGS, "action", "category", "destination", "protocol"), {
        **RUN_FIELDS,
        "count": int, "fields": int, "residency_breach": bool,
        # where the lab network placed the destination by its address (docs/lab-network.md)
        "address": str, "located": str, "registered": str, "operator": str}),
}


@dataclass(frozen=True)
class RunTags:
    """What every point of one device in one test carries: ``run`` and ``test`` as
    fields, the rest as tags.

    Attributes:
        run: the run id (one pytest session or one ``brewbench run``).
        device: the device spec as given (``serial:///dev/ttyUSB0``, ``emu://?...``).
        model: the model the machine reported.
        firmware: the firmware version the machine reported.
        transport: the link (serial, usb, ble, socket).
        test: the pytest node id, or the step list name outside pytest.
    """

    run: str
    device: str = ""
    model: str = ""
    firmware: str = ""
    transport: str = ""
    test: str = ""

    def tags(self) -> dict[str, str]:
        return {"device": self.device, "model": self.model, "firmware": self.firmware,
                "transport": self.transport}

    def fields(self) -> dict[str, str]:
        return {"run": self.run, "test": self.test}


def make_point(measurement: str, tags: Mapping[str, str], fields: Mapping[str, FieldValue],
               time_ns: int, *, check: bool = False) -> Point:
    """A point of a schema measurement.

    The bench's builders convert every field to its schema type themselves, so the
    check (about as costly as encoding the point) is off unless asked for.

    Raises:
        ValueError: with ``check``: unknown measurement, tag or field, or a field of
            the wrong type.
    """
    point = Point.of(measurement, tags, fields, time_ns)
    if check:
        check_point(point)
    return point


def check_point(point: Point) -> None:
    """Check ``point`` against ``SCHEMA``.

    Raises:
        ValueError: unknown measurement, tag or field, or a field of the wrong type.
    """
    spec = SCHEMA.get(point.measurement)
    if spec is None:
        raise ValueError(f"unknown measurement {point.measurement!r}; known: {sorted(SCHEMA)}")
    extra = {k for k, _ in point.tags} - set(spec.tags)
    if extra:
        raise ValueError(f"{point.measurement}: unknown tag(s) {sorted(extra)}")
    for key, value in point.fields:
        kind = spec.fields.get(key)
        if kind is None:
            raise ValueError(f"{point.measurement}: unknown field {key!r}")
        if type(value) is not kind:
            raise ValueError(f"{point.measurement}.{key} must be {kind.__name__}, "
                             f"got {type(value).__name__} ({value!r})")


__all__ = ["RUN_FIELDS", "RUN_TAGS", "SCHEMA", "Measurement", "RunTags", "check_point", "make_point"]
