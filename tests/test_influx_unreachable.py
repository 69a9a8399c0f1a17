"""An InfluxDB that is not there costs nothing: refused, blackholed (a listener whose
queue is full, so the handshake never completes), no such database. The sink gives up
after one more try at close, the points wait in the spool, and the run says so in one
line. Every server here is real and on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from brewbench.bench.influx.lineproto import Point
from brewbench.bench.influx.push import push
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.run_log import RunLog
from brewbench.bench.influx.servers import LocalServer
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.sink import open_sink
from brewbench.bench.influx.writers import Unavailable
from brewbench.fixtures.influx_servers import brewbench_influxd, influx_database

__all__ = ["brewbench_influxd"]

BREWBENCH = [sys.executable, "-m", "brewbench"]
CLOSE_TIMEOUT = 60.0  # what close may wait for a server that is there but slow
QUICK = 15.0  # far under CLOSE_TIMEOUT, far over one connect attempt on a loaded machine


def points(count: int) -> list[Point]:
    return [Point.of("actions", {"run": "run-away", "action": "brew"}, {"bytes_in": i},
                     1_700_000_000 + i) for i in range(count)]


@pytest.fixture
def refused_url() -> str:
    """A port nothing listens on: bound, then closed, so the kernel refuses connects."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def blackhole_url() -> Iterator[str]:
    """A listener whose accept queue is full: new handshakes get no answer at all, as
    from a host that is down behind a firewall that drops packets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    held = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        held.append(client)
    probe = socket.create_connection  # the queue is full once a connect times out
    with pytest.raises(OSError):
        probe(("127.0.0.1", port), timeout=0.5).close()
    yield f"http://127.0.0.1:{port}"
    for client in held:
        client.close()
    server.close()


def closed_within(settings: InfluxSettings, count: int) -> tuple[float, int, str]:
    sink = open_sink(settings)
    sink.write(points(count))
    began = time.monotonic()
    sink.close(timeout=CLOSE_TIMEOUT)
    return time.monotonic() - began, sink.unsent, sink.stalled


def test_a_refused_server_is_given_up_at_close_and_the_points_kept(refused_url: str,
                                                                   tmp_path: Path) -> None:
    settings = InfluxSettings(url=refused_url, api="v1", db="bench", spool=tmp_path / "spool")
    took, unsent, why = closed_within(settings, 120)
    assert took < QUICK
    assert (unsent, why) == (120, "no answer, unreachable (connection refused)")
    assert sum(p.read_bytes().count(b"\n") for p in settings.spool.glob("*.lp")) == 120


def test_a_blackholed_server_costs_one_connect_timeout(blackhole_url: str, tmp_path: Path) -> None:
    settings = InfluxSettings(url=blackhole_url, api="v1", db="bench", spool=tmp_path / "spool",
                              connect_timeout=0.5)
    took, unsent, why = closed_within(settings, 30)
    assert took < QUICK
    assert (unsent, why) == (30, "no answer, unreachable (connect timed out)")


def test_the_v2_client_sees_a_refused_server_as_unreachable(refused_url: str,
                                                            tmp_path: Path) -> None:
    settings = InfluxSettings(url=refused_url, api="v2", org="lab", bucket="bench",
                              token="not-a-real-token", spool=tmp_path / "spool")
    took, unsent, why = closed_within(settings, 10)
    assert took < QUICK
    assert unsent == 10 and why.startswith("no answer, unreachable")


def test_a_query_to_a_refused_server_says_why_like_push_does(refused_url: str) -> None:
    """``brewbench query`` names the cause a lab checks (refused), not a library class name."""
    reader = InfluxReader(InfluxSettings(url=refused_url, db="brewbench"))
    with pytest.raises(Unavailable, match=r"no answer, unreachable \(connection refused\)"):
        reader.query("SHOW DATABASES")


def test_a_missing_database_is_said_at_once_and_push_sends_later(
        brewbench_influxd: LocalServer, tmp_path: Path) -> None:
    settings = InfluxSettings(url=brewbench_influxd.url, api="v1", db="not_created_yet",
                              spool=tmp_path / "spool")
    took, unsent, why = closed_within(settings, 40)
    assert took < QUICK
    assert unsent == 40 and "not found (HTTP 404)" in why
    created = influx_database(brewbench_influxd.url, "not_created_yet", tmp_path / "unused",
                              db="not_created_yet")
    assert push(created, spool=settings.spool).sent == 40


def test_the_run_log_says_where_the_points_wait_in_one_line(refused_url: str,
                                                            tmp_path: Path) -> None:
    settings = InfluxSettings(url=refused_url, api="v1", db="bench", spool=tmp_path / "spool")
    run_log = RunLog.open(settings, "run-away", kind="run")
    run_log.test(None, test="t", outcome="passed", duration_s=0.1, started_ns=time.time_ns())
    run_log.close()
    line = run_log.waiting()
    assert "\n" not in line
    assert line.startswith(f"2 point(s) wait in the spool {settings.spool} ")
    assert "unreachable (connection refused)" in line
    assert f"`brewbench push --spool {settings.spool}`" in line


def test_brewbench_run_with_a_refused_server_is_as_quick_and_says_so(refused_url: str,
                                                                     tmp_path: Path) -> None:
    env = {"INFLUX_URL": refused_url, "INFLUX_DB": "bench"}
    began = time.monotonic()
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.0", "--results",
                           str(tmp_path)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={**_env(), **env})
    took = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    waiting = [line for line in done.stdout.splitlines() if "wait in the spool" in line]
    assert len(waiting) == 1 and "connection refused" in waiting[0]
    assert "WARNING" not in done.stderr  # the one line is the whole story
    assert took < CLOSE_TIMEOUT / 2  # it was 30 s and more before close gave up early


def test_a_pytest_session_with_a_refused_server_says_so_in_its_summary(
        pytester: pytest.Pytester, refused_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUX_URL", refused_url)
    monkeypatch.setenv("INFLUX_DB", "bench")
    pytester.makepyfile(test_one="def test_status(brewbench_machine):\n"
                                 "    assert brewbench_machine.status()\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["brewbench: * point(s) wait in the spool * (http://127.0.0.1:*"
                                 "unreachable (connection refused)); `brewbench push --spool *"])


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")}


def test_influxd_dying_mid_night_loses_nothing_and_the_night_says_so(tmp_path: Path) -> None:
    import re

    server = LocalServer.influxd(tmp_path / "influxd")
    server.start()
    try:
        settings = influx_database(server.url, "night", tmp_path / "unused", db="night")
        env = {**_env(), "INFLUX_URL": server.url, "INFLUX_DB": "night"}
        proc = subprocess.Popen([*BREWBENCH, "nightly", "--firmware", "2.0,2.1", "--results",
                                 str(tmp_path / "res"), "--run-id", "n"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("[2/2] firmware 2.1") and "starting" in line:
                server.kill()  # the server dies in the night
        assert proc.wait(timeout=300) == 1, "".join(lines)  # 2.1 breaks its contract
        out = "".join(lines)
        spool = tmp_path / "res" / "spool"
        [said] = [line for line in lines if "wait in the spool" in line]
        waiting = int(said.split(" ", 1)[0])
        assert re.match(rf"\d+ point\(s\) wait in the spool {re.escape(str(spool))} \("
                        rf"{re.escape(settings.target)} did not take them", said), said
        assert said.strip() in (tmp_path / "res" / "n" / "report.html").read_text() \
            .replace("&#x27;", "'")
        assert "Traceback" not in out
        server.start()
        pushed = push(replace_spool(settings, spool))
        assert pushed.sent == waiting > 0  # every point the dead server missed was kept
    finally:
        server.stop()


def replace_spool(settings: InfluxSettings, spool: Path) -> InfluxSettings:
    from dataclasses import replace

    return replace(settings, spool=spool)
