"""The server fixtures as a user's own test suite sees them, run in a real pytest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

USER_TEST = '''
from brewbench.bench.influx_query import InfluxReader
from brewbench.bench.lineproto import Point
from brewbench.bench.sink import open_sink
from brewbench.fixtures.influx import brewbench_influx, brewbench_influxd


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
