"""InfluxDB logging: the bench's sink vs raw POSTs, and what logging costs a bench run.

    python benchmarks/influx_delivery.py [--points 200000] [--actions 200] [--repeat 7]

All against one local influxd (Debian's ``influxd`` on PATH), started here in a
temporary folder:

1. raw: pre-built line protocol POSTed to ``/write`` in batches of 5,000 (the
   server's ingest rate: the ceiling any client can reach);
2. sink: the same points as ``Point`` objects through ``InfluxSink`` (encode,
   append to the spool, deliver in the background, ack), timed until the server
   has acknowledged the last one;
3. serialization only: ``influxdb_client.Point(...).to_line_protocol()`` vs the
   bench's ``LineEncoder`` on the same points.
4. a bench run of ``--actions`` actions on an emulated machine over the serial
   link, with logging off and on (``RunLog`` to the same influxd, including the
   final flush), alternated ``--repeat`` times; the median of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import urllib3

from brewbench.bench.devices import open_device
from brewbench.bench.influx.lineproto import LineEncoder, Point
from brewbench.bench.influx.query import InfluxReader, quote_ident
from brewbench.bench.influx.run_log import RunLog
from brewbench.bench.influx.servers import LocalServer
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.sink import open_sink
from brewbench.bench.verify.redact import Redactor

BATCH = 5000
TAGS = {"run": "20261128T021500-ab12", "device": "emu://?firmware=2.1&transport=serial",
        "model": "CM-500", "firmware": "2.1", "transport": "serial"}


def make_points(count: int) -> list[Point]:
    """Action-shaped points: 7 tags, 10 fields, 50 tests x 8 actions of series."""
    actions = ("connect", "identify", "status", "provision", "brew", "pay", "sync", "reset")
    return [Point.of("actions", {**TAGS, "test": f"tests/test_bench.py::test_{i % 50}",
                                 "action": actions[i % 8]},
                     {"outcome": "ok", "ok": True, "duration_s": i / 1e6, "bytes_in": i % 977,
                      "bytes_out": i % 131, "frames_in": 3, "frames_out": 1, "bad_frames": 0,
                      "order": i % 8, "error_type": ""}, 1_795_000_000_000_000_000 + i)
            for i in range(count)]


def database(server: LocalServer, name: str, spool: Path) -> InfluxSettings:
    settings = InfluxSettings(url=server.url, api="v1", db=name, spool=spool, batch_size=BATCH,
                              flush_interval=0.2)
    reader = InfluxReader(settings)
    reader.execute(f"CREATE DATABASE {quote_ident(name)}")
    reader.close()
    return settings


def raw_posts(settings: InfluxSettings, lines: list[str]) -> float:
    http = urllib3.PoolManager()
    url = f"{settings.url}/write?db={settings.db}&precision=ns"
    bodies = ["\n".join(lines[i:i + BATCH]).encode() for i in range(0, len(lines), BATCH)]
    start = time.perf_counter()
    for body in bodies:
        assert http.request("POST", url, body=body).status == 204
    return time.perf_counter() - start


def through_sink(settings: InfluxSettings, points: list[Point]) -> float:
    start = time.perf_counter()
    sink = open_sink(settings)
    for i in range(0, len(points), 1000):  # as a bench writes: a test's points at a time
        sink.write(points[i:i + 1000])
    assert sink.flush(timeout=600)
    sink.close()
    return time.perf_counter() - start


def client_serialization(points: list[Point]) -> float:
    from influxdb_client.client.write.point import Point as ClientPoint
    from influxdb_client.domain.write_precision import WritePrecision

    start = time.perf_counter()
    for p in points:
        point = ClientPoint(p.measurement)
        for tag, text in p.tags:
            point.tag(tag, text)
        for key, value in p.fields:
            point.field(key, value)
        point.time(p.time_ns, WritePrecision.NS).to_line_protocol()
    return time.perf_counter() - start


def encoder_serialization(points: list[Point]) -> float:
    start = time.perf_counter()
    LineEncoder().lines(points)
    return time.perf_counter() - start


def bench_runs(actions: int, runs: int, settings: InfluxSettings | None) -> float:
    """Wall time of ``runs`` bench runs of ``actions`` actions each, one device session
    per run; with ``settings``, each run is logged through one shared ``RunLog`` that
    is closed (final flush included) inside the timing."""
    start = time.perf_counter()
    run_log = RunLog.open(settings, f"bench-{time.time_ns()}", "run",
                          Redactor(os.urandom(32))) if settings else None
    for _ in range(runs):
        started_ns, begun = time.time_ns(), time.perf_counter()
        with open_device("emu://?firmware=2.1&transport=serial") as device:
            steps: list[Callable[[], object]] = [device.machine.status,
                                                 lambda: device.machine.brew("latte"),
                                                 lambda: device.machine.pay("cash", 220)]
            for i in range(actions - 2):  # connect and identify are the first two
                steps[i % 3]()
        if run_log is not None:
            run_log.test(device.capture, test="benchmark", outcome="passed",
                         duration_s=time.perf_counter() - begun, started_ns=started_ns)
    if run_log is not None:
        run_log.close()
    return time.perf_counter() - start


def overhead(actions: int, runs: int, repeat: int, settings: InfluxSettings,
             root: Path) -> tuple[float, float]:
    """Median wall time with logging off and on, alternating ``repeat`` times."""
    off, on = [], []
    bench_runs(actions, 1, None)  # warm up
    for n in range(repeat):
        off.append(bench_runs(actions, runs, None))
        on.append(bench_runs(actions, runs, replace(settings, spool=root / f"spool-{runs}-{n}")))
    return statistics.median(off), statistics.median(on)


def throughput(server: LocalServer, root: Path, count: int, repeat: int) -> None:
    points = make_points(count)
    lines = LineEncoder().lines(points).splitlines()
    raw_rates, sink_rates = [], []
    for n in range(repeat):  # alternate, so both see the same machine load
        raw_s = raw_posts(database(server, f"raw{n}", root / "unused"), lines)
        sink_s = through_sink(database(server, f"sink{n}", root / f"spool{n}"), points)
        raw_rates.append(len(points) / raw_s)
        sink_rates.append(len(points) / sink_s)
    ratios = sorted(s / r for s, r in zip(sink_rates, raw_rates, strict=True))
    raw_rate, sink_rate = statistics.median(raw_rates), statistics.median(sink_rates)
    client_rate = len(points) / client_serialization(points)
    encoder_rate = len(points) / encoder_serialization(points)
    print(f"{count} points, batches of {BATCH}, median of {repeat} rounds")
    print(f"  raw POSTs of pre-built lines   {raw_rate:>10,.0f} points/s")
    print(f"  bench sink (encode+spool+POST) {sink_rate:>10,.0f} points/s   "
          f"ratio sink/raw {statistics.median(ratios):.2f} "
          f"(rounds: {' '.join(f'{r:.2f}' for r in ratios)})")
    print(f"  influxdb_client.Point to line  {client_rate:>10,.0f} points/s   "
          f"ratio client/raw {client_rate / raw_rate:.2f}")
    print(f"  bench LineEncoder to line      {encoder_rate:>10,.0f} points/s   "
          f"ratio encoder/client {encoder_rate / client_rate:.1f}", flush=True)


def logging_overhead(server: LocalServer, root: Path, actions: int, repeat: int) -> None:
    settings = database(server, "run", root / "unused")
    for runs in (1, 10):
        off_s, on_s = overhead(actions, runs, repeat, settings, root)
        what = "one run, final flush included" if runs == 1 else \
            f"{runs} runs sharing one sink (a pytest session)"
        print(f"{actions}-action bench runs: {what}; median of {repeat}")
        print(f"  logging off {off_s * 1000:8.1f} ms")
        print(f"  logging on  {on_s * 1000:8.1f} ms   overhead {100 * (on_s / off_s - 1):+.1f}%",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="brewbench-bench-") as folder:
        root = Path(folder)
        with LocalServer.influxd(root / "influxd") as server:
            throughput(server, root, args.points, args.repeat)
            logging_overhead(server, root, args.actions, args.repeat)


if __name__ == "__main__":
    main()
