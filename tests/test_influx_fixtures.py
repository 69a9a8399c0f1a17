"""The server fixtures as a user's own test suite sees them, run in a real pytest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd

__all__ = ["brewbench_influx", "brewbench_influxd"]

USER_TEST = '''
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.lineproto import Point
from brewbench.bench.influx.sink import open_sink
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd


def test_my_bench_logs(brewbench_influx):
    with open_sink(brewbench_influx) as sink:
        sink.write([Point.of("actions", {"run": "mine"}, {"bytes_in": 3}, 1)])
        assert sink.flush(10)
    assert InfluxReader(brewbench_influx).count("actions", "mine", "bytes_in") == 1
'''


def run_user_suite(tmp_path: Path, path: str, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_mine.py").write_text(USER_TEST)
    env = {**os.environ, "PATH": path, "CI": ci}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           str(tmp_path / "test_mine.py")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


def test_a_users_test_gets_a_real_influxd(tmp_path: Path) -> None:
    done = run_user_suite(tmp_path, os.environ["PATH"], ci="")
    assert "1 passed" in done.stdout, done.stdout + done.stderr


def test_without_influxd_the_test_is_skipped_naming_the_package(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    assert shutil.which("influxd", path=str(bare)) is None
    done = run_user_suite(tmp_path, str(bare), ci="")
    assert "1 skipped" in done.stdout, done.stdout + done.stderr
    skipped = run_user_suite(tmp_path, str(bare), ci="false")
    assert "1 skipped" in skipped.stdout
    ci = run_user_suite(tmp_path, str(bare), ci="true")
    assert "1 error" in ci.stdout and "apt-get install influxdb" in ci.stdout, ci.stdout


RUN_LOG_TEST = '''
def test_logged(brewbench_machine):
    brewbench_machine.brew("latte")
'''


def test_the_session_run_log_writes_a_users_tests_to_the_server(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    (tmp_path / "test_logged.py").write_text(RUN_LOG_TEST)  # the plugin logs it by itself
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")},
           "INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db,
           "BREWBENCH_SPOOL": str(tmp_path / "spool"),
           "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "--rootdir", str(tmp_path), "--brewbench-run-id", "run-user-42",
                           "--brewbench-results", str(tmp_path / "results"),
                           str(tmp_path / "test_logged.py")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert "1 passed" in done.stdout, done.stdout + done.stderr
    reader = InfluxReader(brewbench_influx)
    [test] = reader.points("tests", "run-user-42")
    [run] = reader.points("runs", "run-user-42")
    brews = [a for a in reader.points("actions", "run-user-42") if a["action"] == "brew"]
    reader.close()
    assert (test["outcome"], test["firmware"], run["tests"], len(brews)) == ("passed", "2.1", 1, 1)


PLUGIN_CONFTEST = '''
import time

import pytest

from brewbench.fixtures.influx_servers import open_run_log
from brewbench.fixtures.outcomes import log_test_report

RUN_LOG = pytest.StashKey()
REPORTS = pytest.StashKey()


def pytest_configure(config):
    config.stash[RUN_LOG] = open_run_log(config, "run-hooks-7")


def pytest_unconfigure(config):
    config.stash[RUN_LOG].close()


def pytest_runtest_setup(item):
    item.started_ns = time.time_ns()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    if report.when == "teardown":
        log_test_report(item.config.stash[RUN_LOG], item.name, None, item.stash[REPORTS],
                        item.started_ns)
    return report
'''

OUTCOME_TESTS = '''
import pytest


@pytest.fixture
def broken():
    raise ValueError("card 4111111111111111 refused")


def test_passes():
    pass


def test_fails():
    assert "4111111111111111" == "owner"


def test_skips():
    pytest.skip("no device")


def test_errors(broken):
    pass


def test_raises():
    raise KeyError("4111111111111111")
'''


def test_test_reports_become_outcomes_and_error_types_without_messages(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(PLUGIN_CONFTEST)
    (tmp_path / "test_outcomes.py").write_text(OUTCOME_TESTS)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")},
           "INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db,
           "BREWBENCH_SPOOL": str(tmp_path / "spool"),
           "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--rootdir",
                    str(tmp_path), str(tmp_path / "test_outcomes.py")],
                   capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    reader = InfluxReader(brewbench_influx)
    tests = {row["test"]: (row["outcome"], row["error_type"])
             for row in reader.points("tests", "run-hooks-7")}
    [run] = reader.points("runs", "run-hooks-7")
    reader.close()
    assert tests == {"test_passes": ("passed", ""), "test_fails": ("failed", "AssertionError"),
                     "test_skips": ("skipped", ""), "test_errors": ("error", "ValueError"),
                     "test_raises": ("failed", "KeyError")}
    assert (run["tests"], run["passed"], run["failed"], run["skipped"], run["errors"]) == \
        (5, 1, 2, 1, 1)
    assert "4111111111111111" not in repr(tests) + repr(run)
