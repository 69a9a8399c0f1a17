"""``brewbench run`` logging to InfluxDB, ``brewbench push`` and ``brewbench query``, as typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.servers import free_port
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd

__all__ = ["brewbench_influx", "brewbench_influxd"]

BREWBENCH = [sys.executable, "-m", "brewbench"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "BREWBENCH_"))}


def brewbench(*args: str, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, *args], capture_output=True, text=True, timeout=120,
                          env={**ENV, **(env or {})}, cwd=cwd)


@pytest.fixture(autouse=True)
def lab_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lab key of the test's own: the runs below must not create one in the home folder."""
    monkeypatch.setitem(ENV, "BREWBENCH_LAB_KEY_FILE", str(tmp_path / "lab.key"))


def test_run_logs_to_the_server_and_query_reads_it_back(brewbench_influx: InfluxSettings,
                                                         tmp_path: Path) -> None:
    url, db = brewbench_influx.url or "", brewbench_influx.db
    done = brewbench("run", "--device", "emu://?firmware=2.0", "--results", str(tmp_path),
                     "--influx-url", url, "--influx-db", db)
    assert done.returncode == 0, done.stderr
    assert f"results: {url} db '{db}'" in done.stdout
    run = done.stdout.split("(run ", 1)[1].split(")", 1)[0]
    reader = InfluxReader(brewbench_influx)
    assert [row["outcome"] for row in reader.points("tests", run)] == ["passed"]
    assert reader.count("actions", run, "duration_s") == 12  # connect, identify + 10 steps
    assert reader.points("runs", run)[0]["tests"] == 1
    hashes = {row["value_hash"] for row in reader.points("emissions", run)}
    assert hashes and all(len(h) == 24 for h in hashes)  # keyed with the test's lab key
    reader.close()
    query = brewbench("query", "--url", url, "--db", db, "--categories", "CM-500")
    assert query.returncode == 0, query.stderr
    [line] = [line for line in query.stdout.splitlines() if line.strip().startswith("2.0")]
    assert "payment" in line and "time" in line and "identity" in line
    fields = brewbench("query", "--url", url, "--db", db, "--categories", "CM-500", "--fields")
    assert fields.returncode == 0, fields.stderr
    assert any(line.split()[:4] == ["payment", "RECORD.payment_method", "serial", "sync"]
               for line in fields.stdout.splitlines())
    statement = brewbench("query", "--url", url, "--db", db,
                          f"SELECT count(bytes_in) FROM actions WHERE run = '{run}'")
    assert statement.returncode == 0 and "count" in statement.stdout and " 12" in statement.stdout


def test_an_offline_run_spools_and_push_replays_it_once(brewbench_influx: InfluxSettings,
                                                        tmp_path: Path) -> None:
    done = brewbench("run", "--device", "emu://?firmware=1.0", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    spooled = sum(p.read_text().count("\n") for p in (tmp_path / "spool").glob("*.lp"))
    assert spooled > 20 and f"results: spool {tmp_path / 'spool'}" in done.stdout
    target = ["--url", brewbench_influx.url or "", "--db", brewbench_influx.db,
              "--spool", str(tmp_path / "spool")]
    first, second = brewbench("push", *target), brewbench("push", *target)
    assert first.returncode == second.returncode == 0, first.stderr
    assert f"pushed {spooled} point(s)" in first.stdout and f"{spooled}/{spooled} points" \
        in first.stderr
    assert "pushed 0 point(s)" in second.stdout


def test_push_to_a_server_that_is_not_there_fails_cleanly(tmp_path: Path) -> None:
    done = brewbench("run", "--device", "emu://?firmware=1.0", "--results", str(tmp_path))
    assert done.returncode == 0
    url = f"http://127.0.0.1:{free_port()}"
    push = brewbench("push", "--url", url, "--db", "bench", "--spool", str(tmp_path / "spool"),
                     env={"INFLUX_PASSWORD": "hunter2", "INFLUX_USERNAME": "lab"})
    assert push.returncode == 2
    assert "no answer" in push.stderr and "run `brewbench push` again later" in push.stderr
    assert "Traceback" not in push.stderr and "hunter2" not in push.stderr + push.stdout


def test_query_without_a_server_says_what_to_give() -> None:
    done = brewbench("query", "SHOW MEASUREMENTS")
    assert done.returncode == 2 and "give --url" in done.stderr


@pytest.mark.parametrize("command, line", [
    (["push", "--url", "http://127.0.0.1:9"],
     "brewbench: http://127.0.0.1:9: say where points go: --db/INFLUX_DB for InfluxDB 1.x, or "
     "--bucket/INFLUX_BUCKET with --org/INFLUX_ORG and INFLUX_TOKEN for InfluxDB 2.x/3.x"),
    (["run", "--influx-url", "http://127.0.0.1:9", "--influx-bucket", "b"],
     "brewbench: http://127.0.0.1:9: InfluxDB 2.x/3.x needs both a bucket and an org "
     "(--influx-bucket/INFLUX_BUCKET, --influx-org/INFLUX_ORG)"),
])
def test_settings_errors_name_the_commands_own_options(command: list[str], line: str,
                                                       tmp_path: Path) -> None:
    done = brewbench(*command, cwd=tmp_path)
    assert (done.returncode, done.stderr.strip().splitlines()) == (2, [line])


def test_push_to_a_database_that_does_not_exist_says_so_once(brewbench_influx: InfluxSettings,
                                                             tmp_path: Path) -> None:
    done = brewbench("run", "--device", "emu://?firmware=1.0", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr
    push = brewbench("push", "--url", brewbench_influx.url or "", "--db", "no_such_db",
                     "--spool", str(tmp_path / "spool"))
    assert push.returncode == 2
    lines = push.stderr.strip().splitlines()
    assert lines[0].startswith("pushing ") and len(lines) == 2, push.stderr
    assert lines[1].startswith(f"brewbench: {brewbench_influx.url} db 'no_such_db': not found "
                               "(HTTP 404): database not found: ")
    assert lines[1].endswith("check the database/bucket name and that it exists; "
                             f"{lines[1].split('; ')[-1].split()[0]} point(s) stay in the spool")
    assert "retrying" not in push.stderr and "again later" not in push.stderr


def test_query_into_a_closed_pipe_ends_quietly(brewbench_influx: InfluxSettings) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `brewbench query ... | head -1` once head has its line
    try:
        done = subprocess.run([*BREWBENCH, "query", "--url", brewbench_influx.url or "",
                               "--db", brewbench_influx.db, "SHOW DATABASES"],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
                              env=ENV)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")
