"""The sink against a real influxd: bench runs logged exactly, spool and push, no raw secrets."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.influx.lineproto import Point
from brewbench.bench.influx.points import complete_tags, point_for_test, points_for_capture
from brewbench.bench.influx.push import push
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.schema import SCHEMA, RunTags, check_point
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.sink import open_sink
from brewbench.bench.influx.spool import QUARANTINE
from brewbench.bench.verify.redact import Redactor
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd

__all__ = ["brewbench_influx", "brewbench_influxd"]

CARD = "4111111111111111"
OWNER = "Ada Canary-7F3A"
EMAIL = "ada.7f3a@example.org"


def bench_session(firmware: str = "2.1") -> Capture:
    """Drive an emulated machine through a session that plants personal data."""
    with open_device(f"emu://?firmware={firmware}&transport=serial") as device:
        machine = device.machine
        machine.status()
        machine.provision(machine_name="Lobby 7F3A", owner=OWNER, organisation="Canary Org",
                          site="Canary Site", floor="Floor 7F3A", email=EMAIL)
        machine.brew("latte", strength=4, milk="oat")
        machine.pay("card", 350, card={"number": CARD, "expiry": "12/30"})
        machine.brew("espresso")
        machine.pay("cash", 220)
        machine.sync()
        return device.capture


def logged_points(run: str, firmware: str = "2.1") -> list[Point]:
    capture = bench_session(firmware)
    tags = complete_tags(RunTags(run=run, test="tests/test_x.py::test_session"), capture)
    points = points_for_capture(capture, tags, redactor=Redactor(b"the lab key of the tests"))
    points.append(point_for_test(tags, "passed", duration_s=1.5,
                                 started_ns=capture.actions[0].started.wall_ns))
    return points


def canonical(row: dict[str, object]) -> str:
    return json.dumps(row, sort_keys=True)


def as_rows(points: list[Point], measurement: str) -> list[dict[str, object]]:
    return sorted(({"time": p.time_ns, **dict(p.tags), **dict(p.fields)}
                   for p in points if p.measurement == measurement), key=canonical)


def test_a_bench_run_reads_back_exactly(brewbench_influx: InfluxSettings) -> None:
    points = logged_points("run-exact")
    with open_sink(brewbench_influx) as sink:
        sink.write(points)
        assert sink.flush(timeout=30)
    reader = InfluxReader(brewbench_influx)
    for measurement in ("actions", "tests", "emissions"):
        stored = [{k: v for k, v in row.items() if v is not None}  # other series' columns
                  for row in reader.points(measurement, "run-exact")]
        for row in stored:
            for key, kind in SCHEMA[measurement].fields.items():
                if kind is float and key in row:
                    row[key] = float(row[key])  # JSON drops the ".0" of whole floats
        assert sorted(stored, key=canonical) == as_rows(points, measurement), measurement
    assert reader.count("actions", "run-exact", "duration_s") == 9  # connect, identify, 7 actions
    reader.close()


def test_every_point_fits_the_schema_and_keeps_its_field_types() -> None:
    points = logged_points("run-schema")
    seen: dict[tuple[str, str], type] = {}
    for point in points:
        check_point(point)
        for key, value in point.fields:
            assert seen.setdefault((point.measurement, key), type(value)) is type(value)
    assert {p.measurement for p in points} == {"actions", "emissions", "tests"}


def test_no_planted_card_owner_or_email_reaches_a_point_or_the_spool(
        brewbench_influx: InfluxSettings) -> None:
    with open_sink(brewbench_influx) as sink:
        sink.write(logged_points("run-secrets"))
        assert sink.flush(timeout=30)
    reader = InfluxReader(brewbench_influx)
    stored = [row for m in SCHEMA for row in reader.points(m, "run-secrets")]
    reader.close()
    assert any(row.get("field") == "RECORD.card_number" for row in stored)  # it was collected
    texts = [str(value) for row in stored for value in row.values()]
    spooled = b"".join(p.read_bytes() for p in brewbench_influx.spool.glob("*.lp"))
    for secret in (CARD, OWNER, EMAIL, "7F3A", "7f3a"):
        assert not [t for t in texts if secret in t], secret
        assert secret.encode() not in spooled, secret


def test_without_a_server_points_only_go_to_the_spool_and_push_replays_them_once(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    offline = InfluxSettings(spool=tmp_path / "offline")
    points = logged_points("run-offline")
    with open_sink(offline) as sink:
        sink.write(points)
    spooled = b"".join(p.read_bytes() for p in sorted(offline.spool.glob("*.lp")))
    assert spooled.count(b"\n") == len(points)
    target = replace(brewbench_influx, spool=offline.spool)
    progress: list[tuple[int, int]] = []
    first = push(target, progress=lambda done, total: progress.append((done, total)))
    again = push(target)  # nothing left to send
    everything = push(target, resend=True)  # same points, same timestamps: no duplicates
    assert (first.sent, again.sent, everything.sent) == (len(points), 0, len(points))
    assert progress[-1] == (len(points), len(points))
    reader = InfluxReader(brewbench_influx)
    assert reader.count("actions", "run-offline", "duration_s") == \
        sum(p.measurement == "actions" for p in points)
    assert reader.count("emissions", "run-offline", "count") == \
        sum(p.measurement == "emissions" for p in points)
    reader.close()


def test_a_point_the_server_refuses_is_quarantined_and_the_rest_delivered(
        brewbench_influx: InfluxSettings) -> None:
    good = [Point.of("probe", {"run": "run-q"}, {"v": i}, 1_000 + i) for i in range(20)]
    clash = Point.of("probe", {"run": "run-q"}, {"v": "text"}, 5_000)  # v is an integer
    with open_sink(replace(brewbench_influx, batch_size=8)) as sink:
        sink.write([*good[:10], clash, *good[10:]])
        assert sink.flush(timeout=30)
    assert (sink.stats.sent, sink.stats.quarantined) == (20, 1)
    quarantined = (brewbench_influx.spool / QUARANTINE).read_text()
    assert "field type conflict" in quarantined and 'v="text"' in quarantined
    reader = InfluxReader(brewbench_influx)
    assert reader.count("probe", "run-q", "v") == 20
    reader.close()


def test_settings_pick_the_schema_measurements_the_docs_describe() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "influxdb.md").read_text()
    for measurement, spec in SCHEMA.items():
        assert f"`{measurement}`" in doc
        for name in (*spec.tags, *spec.fields):
            assert f"`{name}`" in doc, f"{measurement}.{name} is not documented"


@pytest.mark.parametrize("firmware,expected", [("1.0", {"product", "device"}),
                                               ("2.1", {"product", "device", "time", "payment",
                                                        "identity", "location"})])
def test_query_back_categories_per_firmware(brewbench_influx: InfluxSettings, firmware: str,
                                            expected: set[str]) -> None:
    with open_sink(brewbench_influx) as sink:
        capture = bench_session(firmware)
        tags = RunTags(run=f"run-cat-{firmware}")
        sync_only = [p for p in points_for_capture(capture, tags) if p.tag("action") == "sync"
                     and p.tag("field").startswith("RECORD.")]
        sink.write(sync_only)
        assert sink.flush(timeout=30)
    reader = InfluxReader(brewbench_influx)
    found = reader.emission_categories("CM-500", since="2000-01-01T00:00:00Z")
    reader.close()
    assert found.get(firmware, set()) == expected


def test_query_back_fields_per_firmware_counts_what_each_version_sent(
        brewbench_influx: InfluxSettings) -> None:
    with open_sink(brewbench_influx) as sink:
        for firmware in ("1.0", "2.1"):
            sink.write(points_for_capture(bench_session(firmware), RunTags(run=f"run-f-{firmware}")))
        assert sink.flush(timeout=30)
    reader = InfluxReader(brewbench_influx)
    found = reader.emission_fields("CM-500", since="2000-01-01T00:00:00Z")
    reader.close()
    new = {key for key in found["2.1"] if key not in found["1.0"]}
    assert ("payment", "RECORD.card_number", "serial", "sync") in new
    assert ("identity", "RECORD.owner", "serial", "sync") in new
    assert found["1.0"][("product", "RECORD.drink", "serial", "sync")] == 2  # two brews synced
    assert not any(key[1] in ("RECORD.card_number", "RECORD.owner") for key in found["1.0"])
