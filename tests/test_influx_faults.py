"""No point is lost when the server is down, killed, restarted, failing or refusing us.

The failing and refusing servers are a real HTTP server on a free port in front
of the real influxd: it answers 500 or 401 while told to, and forwards otherwise.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from brewbench.bench.influx.lineproto import Point
from brewbench.bench.influx.push import push
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.servers import LocalServer
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.sink import open_sink
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd, influx_database

__all__ = ["brewbench_influx", "brewbench_influxd"]


def run_points(run: str, start: int, count: int) -> list[Point]:
    return [Point.of("actions", {"run": run, "action": f"a{i % 7}"},
                     {"duration_s": i / 1000, "bytes_in": i, "outcome": "ok"}, 1_700_000_000 + i)
            for i in range(start, start + count)]


def stored(settings: InfluxSettings, run: str) -> int:
    reader = InfluxReader(settings)
    try:
        return reader.count("actions", run, "bytes_in")
    finally:
        reader.close()


class FaultyProxy:
    """A real HTTP server that fails requests with ``status`` while ``failing`` is set.

    ``status`` 0 means slow instead: the request is forwarded (the server stores
    the points) and the answer comes only after ``delay`` seconds, past the
    client's timeout.
    """

    def __init__(self, upstream: str, status: int, delay: float = 0.0) -> None:
        self.failing = threading.Event()
        self.failing.set()
        self.refused = 0
        self.forwarded: list[int] = []  # points per request that reached the server
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.failing.is_set() and status == 0:
                    proxy.refused += 1
                    self._forward(body)
                    time.sleep(delay)
                    self._answer(204, b"")
                    return
                if proxy.failing.is_set():
                    proxy.refused += 1
                    self._answer(status, b'{"error":"injected failure"}')
                    return
                self._answer(*self._forward(body))

            def _forward(self, body: bytes) -> tuple[int, bytes]:
                proxy.forwarded.append(body.count(b"\n"))
                request = urllib.request.Request(upstream + self.path, data=body, method="POST")
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.read()

            def _answer(self, code: int, data: bytes) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def own_influxd(tmp_path: Path) -> Iterator[LocalServer]:
    """An influxd of this test's own, to take away and bring back."""
    server = LocalServer.influxd(tmp_path / "influxd")
    yield server
    server.stop()


def test_server_down_at_start_then_up_gets_every_point_once(own_influxd: LocalServer,
                                                            tmp_path: Path) -> None:
    settings = InfluxSettings(url=own_influxd.url, api="v1", db="bench",
                              spool=tmp_path / "spool", batch_size=50, flush_interval=0.05,
                              max_backoff=0.5)
    sink = open_sink(settings)
    sink.write(run_points("run-down", 0, 300))  # nobody listens yet
    own_influxd.start()
    influx_database(own_influxd.url, "bench", tmp_path / "unused", db="bench")
    sink.write(run_points("run-down", 300, 200))
    sink.close(timeout=60)
    assert sink.stats.retries > 0
    assert (sink.stats.sent, sink.unsent) == (500, 0)
    assert stored(settings, "run-down") == 500


def test_server_killed_mid_run_and_restarted_gets_every_point_once(own_influxd: LocalServer,
                                                                    tmp_path: Path) -> None:
    own_influxd.start()
    settings = replace(influx_database(own_influxd.url, "bench", tmp_path / "spool"),
                       batch_size=100, flush_interval=0.05, max_backoff=0.5)
    sink = open_sink(settings)
    sink.write(run_points("run-kill", 0, 400))
    assert sink.flush(timeout=30)
    own_influxd.kill()
    sink.write(run_points("run-kill", 400, 400))  # spooled while the server is gone
    assert not sink.flush(timeout=0.5)
    own_influxd.start()
    sink.write(run_points("run-kill", 800, 200))
    sink.close(timeout=60)
    assert sink.stats.retries > 0
    assert stored(settings, "run-kill") == 1000


def test_server_still_down_at_close_keeps_points_for_push(own_influxd: LocalServer,
                                                          tmp_path: Path) -> None:
    own_influxd.start()
    settings = replace(influx_database(own_influxd.url, "bench", tmp_path / "spool"),
                       flush_interval=0.05, max_backoff=0.2)
    own_influxd.kill()
    sink = open_sink(settings)
    sink.write(run_points("run-late", 0, 250))
    sink.close(timeout=0.5)
    assert (sink.stats.sent, sink.unsent) == (0, 250)
    own_influxd.start()
    result = push(settings)
    assert (result.sent, stored(settings, "run-late")) == (250, 250)
    assert push(settings).sent == 0  # all acknowledged: nothing sent twice


@pytest.mark.parametrize("status", [500, 503, 401, 403])
def test_failing_or_refusing_server_loses_nothing(brewbench_influx: InfluxSettings,
                                                  status: int) -> None:
    proxy = FaultyProxy(brewbench_influx.url or "", status)
    settings = replace(brewbench_influx, url=proxy.url, batch_size=64, flush_interval=0.05,
                       max_backoff=0.3)
    run = f"run-{status}"
    try:
        sink = open_sink(settings)
        sink.write(run_points(run, 0, 300))
        assert not sink.flush(timeout=1.0)  # refused so far, kept in the spool
        proxy.failing.clear()
        sink.write(run_points(run, 300, 100))
        sink.close(timeout=60)
    finally:
        proxy.close()
    assert proxy.refused > 1  # retried, with backoff, not given up
    assert (sink.stats.sent, sink.stats.quarantined, sink.unsent) == (400, 0, 0)
    assert stored(brewbench_influx, run) == 400


def test_slow_server_that_stored_points_before_timing_out_gets_them_once(
        brewbench_influx: InfluxSettings) -> None:
    proxy = FaultyProxy(brewbench_influx.url or "", 0, delay=1.5)
    settings = replace(brewbench_influx, url=proxy.url, batch_size=100, flush_interval=0.05,
                       max_backoff=0.2, timeout=0.5)
    try:
        sink = open_sink(settings)
        sink.write(run_points("run-slow", 0, 300))
        assert not sink.flush(timeout=1.0)  # each answer comes too late: not acknowledged
        proxy.failing.clear()
        sink.close(timeout=60)
    finally:
        proxy.close()
    assert proxy.refused >= 1 and sink.stats.retries >= 1
    assert (sink.stats.sent, sink.unsent) == (300, 0)
    assert stored(brewbench_influx, "run-slow") == 300  # re-sent, never duplicated


def test_two_writers_share_a_spool_folder_without_mixing_lines(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    offline = InfluxSettings(spool=tmp_path / "shared")
    first, second = open_sink(offline), open_sink(offline)  # e.g. two pytest-xdist workers
    for n in range(0, 400, 50):
        first.write(run_points("run-shared", n, 50))
        second.write(run_points("run-shared", 1000 + n, 50))
    first.close()
    second.close()
    assert len(list(offline.spool.glob("*.lp"))) == 2
    result = push(replace(brewbench_influx, spool=offline.spool))
    assert (result.sent, stored(brewbench_influx, "run-shared")) == (800, 800)


def test_batches_are_bounded_by_size_and_by_time(brewbench_influx: InfluxSettings) -> None:
    proxy = FaultyProxy(brewbench_influx.url or "", 500)
    proxy.failing.clear()
    try:
        by_size = open_sink(replace(brewbench_influx, url=proxy.url, batch_size=50,
                                    flush_interval=3600))
        by_size.write(run_points("run-size", 0, 500))
        assert by_size.flush(timeout=30)
        by_size.close()
        sizes = list(proxy.forwarded)
        by_time = open_sink(replace(brewbench_influx, url=proxy.url, batch_size=10_000,
                                    flush_interval=0.2))
        by_time.write(run_points("run-time", 0, 7))
        for _ in range(100):  # no flush(): only the time bound can send these
            if by_time.unsent == 0:
                break
            time.sleep(0.1)
        assert by_time.unsent == 0
        by_time.close()
    finally:
        proxy.close()
    assert sizes == [50] * 10
    assert proxy.forwarded[10:] == [7]
    assert stored(brewbench_influx, "run-size") == 500 and stored(brewbench_influx, "run-time") == 7
