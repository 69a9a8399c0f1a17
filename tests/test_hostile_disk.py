"""Results on disk survive a full disk, shared names, bad lab keys and unusable folders."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.influx.spool import Spool, SpoolError, write_all
from brewbench.bench.results import ResultsError, reserve

BREWBENCH = [sys.executable, "-m", "brewbench"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: a disk that fills up for real (needs root to mount)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the full-disk tests: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs (not root?): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill ``folder``'s disk until about ``leave`` bytes are free."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with (folder / "filler").open("wb") as out:
        out.write(b"\0" * max(free - leave, 0))


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}


def _assert_lines_whole(segment: Path) -> None:
    data = segment.read_bytes()
    assert not data or data.endswith(b"\n"), f"{segment} ends in a torn line"


def test_spool_on_a_full_disk_cuts_no_line_and_says_how_many_points_were_lost(
        small_disk: Path) -> None:
    _fill(small_disk, leave=6000)
    spool = Spool(small_disk / "spool")
    line = "m,t=x f=1i 1\n"
    with pytest.raises(SpoolError, match=r"the disk is full; .* point\(s\) not kept"):
        for _ in range(10_000):
            spool.append(line * 50)
    spool.close()
    for segment in spool.segments():
        _assert_lines_whole(segment)
        assert all(text == line for text in segment.read_text().splitlines(keepends=True))


def test_short_write_on_dev_full_is_reported_not_ignored() -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError) as caught:
            write_all(fd, b"x\n")
        assert caught.value.errno == 28  # ENOSPC from the very first byte
    finally:
        os.close(fd)


def test_capture_save_on_a_full_disk_leaves_no_torn_file(small_disk: Path) -> None:
    capture = Capture("dev", {"blob": b"\x01" * 200_000})
    _fill(small_disk, leave=20_000)
    with pytest.raises(OSError):
        capture.save(small_disk / "c.jsonl")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_run_with_results_on_a_full_disk_is_one_line_and_every_file_parses(
        small_disk: Path, tmp_path: Path) -> None:
    _fill(small_disk, leave=40_000)
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.1",
                           "--results", str(small_disk / "results")],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("brewbench: ") and "the disk is full" in line
    for path in (small_disk / "results").rglob("*"):
        if path.suffix == ".lp":
            _assert_lines_whole(path)
        elif path.suffix == ".jsonl":
            for text in path.read_text().splitlines():
                json.loads(text)


def test_same_spec_twice_in_one_run_keeps_two_captures(tmp_path: Path) -> None:
    spec = "emu://?firmware=2.0"
    done = subprocess.run([*BREWBENCH, "run", "--device", spec, "--device", spec,
                           "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    captures = sorted(p.name for p in tmp_path.glob("r/*/captures/*.jsonl"))
    assert len(captures) == 2 and captures[0] != captures[1]


def test_ten_sessions_sharing_a_name_keep_ten_files(tmp_path: Path) -> None:
    paths = {reserve(tmp_path / "captures" / "emu.jsonl") for _ in range(10)}
    assert len(paths) == 10
    assert {p.name for p in paths} >= {"emu.jsonl", "emu-2.jsonl", "emu-10.jsonl"}


def test_raw_capture_is_written_0600(tmp_path: Path) -> None:
    done = subprocess.run([*BREWBENCH, "run", "--device", "emu://?firmware=2.1", "--raw-captures",
                           "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    [capture] = tmp_path.glob("r/*/captures/*.jsonl")
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"not hex at all\n", b""])
def test_corrupt_lab_key_is_one_line_exit_2(tmp_path: Path, content: bytes) -> None:
    key = tmp_path / "lab.key"
    key.write_bytes(content)
    key.chmod(0o600)
    done = subprocess.run([*BREWBENCH, "run", "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=60, env=_env(tmp_path))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("brewbench: ") and "lab.key holds no lab key" in line


def test_unusable_results_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    done = subprocess.run([*BREWBENCH, "run", "--results", str(tmp_path / "file" / "r")],
                          capture_output=True, text=True, timeout=60, env=_env(tmp_path))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("brewbench: results folder") and "unusable" in line


def test_reserve_in_an_unwritable_place_is_a_results_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ResultsError, match="cannot save a capture"):
        reserve(tmp_path / "file" / "c.jsonl")
