"""The InfluxDB 2.x wire path (unmodified influxdb-client) into a real VictoriaMetrics."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import urllib3

from brewbench.bench.influx.points import complete_tags, points_for_capture
from brewbench.bench.influx.schema import RunTags
from brewbench.bench.influx.servers import LocalServer
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.sink import open_sink
from brewbench.bench.verify.redact import Redactor
from brewbench.fixtures.influx_servers import brewbench_victoria_metrics

from .test_influx_faults import FaultyProxy, run_points
from .test_influx_sink import bench_session

__all__ = ["brewbench_victoria_metrics"]


Samples = dict[tuple[str, frozenset[tuple[str, str]]], list[float]]


def exported(server: LocalServer, run: str, at_least: int) -> Samples:
    """Every sample of ``run`` VictoriaMetrics holds, by metric name and labels.

    VictoriaMetrics ingests asynchronously: read until ``at_least`` samples are
    there, or for 10 s, then return what it holds (the caller asserts on that).
    """
    http = urllib3.PoolManager()
    for _ in range(50):
        http.request("GET", server.url + "/internal/force_flush")
        response = http.request("GET", server.url + "/api/v1/export",
                                fields={"match[]": f'{{run="{run}"}}'})
        out: Samples = {}
        for line in response.data.decode().splitlines():
            series = json.loads(line)
            labels = dict(series["metric"])
            name = labels.pop("__name__")
            out.setdefault((name, frozenset(labels.items())), []).extend(series["values"])
        if sum(map(len, out.values())) >= at_least:
            break
        time.sleep(0.2)
    return out


def test_numeric_fields_and_tags_of_a_run_arrive_through_influxdb_client(
        brewbench_victoria_metrics: LocalServer, tmp_path: Path) -> None:
    capture = bench_session("2.1")
    tags = complete_tags(RunTags(run="run-vm", test="tests/test_vm.py::test_x"), capture)
    points = points_for_capture(capture, tags, redactor=Redactor(b"the lab key of the tests"))
    settings = InfluxSettings(url=brewbench_victoria_metrics.url, api="v2", org="lab",
                              bucket="bench", token="not-checked", spool=tmp_path / "spool")
    with open_sink(settings) as sink:
        sink.write(points)
        assert sink.flush(timeout=30)
    expected: Samples = {}
    strings = set()
    for point in points:
        for key, value in point.fields:
            name = f"{point.measurement}_{key}"
            if isinstance(value, str):  # VictoriaMetrics keeps numbers only (a string is 0)
                strings.add(name)
            else:
                expected.setdefault((name, frozenset(point.tags)), []).append(float(value))
    every = sum(len(p.fields) for p in points)
    got = {series: values for series, values in exported(brewbench_victoria_metrics, "run-vm",
                                                         every).items()
           if series[0] not in strings}
    assert sum(map(len, got.values())) == sum(map(len, expected.values())) > 100
    for series, values in expected.items():
        assert sorted(got.get(series, [])) == sorted(values), series


def test_token_refused_on_the_v2_path_then_accepted_loses_nothing(
        brewbench_victoria_metrics: LocalServer, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = FaultyProxy(brewbench_victoria_metrics.url, 401)
    settings = InfluxSettings(url=proxy.url, api="v2", org="lab", bucket="bench",
                              token="refused-at-first", spool=tmp_path / "spool",
                              batch_size=40, flush_interval=0.05, max_backoff=0.3)
    try:
        sink = open_sink(settings)
        sink.write(run_points("run-vm-401", 0, 200))
        assert not sink.flush(timeout=1.0)
        proxy.failing.clear()
        sink.close(timeout=60)
    finally:
        proxy.close()
    assert proxy.refused > 1 and (sink.stats.sent, sink.unsent) == (200, 0)
    got = exported(brewbench_victoria_metrics, "run-vm-401", 200 * 3)
    assert sum(len(v) for (name, _), v in got.items() if name == "actions_bytes_in") == 200
    assert "refused the credentials (HTTP 401)" in caplog.text
    assert "refused-at-first" not in caplog.text + repr(settings) + settings.target
