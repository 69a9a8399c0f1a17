"""The nightly report a lab manager reads in 30 seconds: a real night of firmware 2.0
and 2.1 (the suite, the emulator, pytest, chromium), its report read above the fold of a
1280x800 window, its summary.json read by a script; and a night stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from brewbench.bench.nightly.browser import above_the_fold, find_chromium
from brewbench.bench.nightly.plots import bar_figure
from brewbench.bench.nightly.summary import SUMMARY_FORMAT, previous_inventories

BREWBENCH = [sys.executable, "-m", "brewbench"]


def nightly(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, "nightly", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One night, 2.0 then 2.1 on the emulated serial CM-500 with the shipped contract,
    under a run id that sorts before any other (``aaa``)."""
    root = tmp_path_factory.mktemp("nights")
    done = nightly("--firmware", "2.0,2.1", "--results", str(root), "--run-id", "aaa", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr  # 2.1 breaks the contract
    return root / "aaa", done


def section(page: str, element_id: str) -> str:
    assert f"id='{element_id}'" in page, element_id
    return page.split(f"id='{element_id}'", 1)[1].split("</table>", 1)[0].split("</ul>", 1)[0]


def test_new_fields_are_named_per_field_and_category(night: tuple[Path, object]) -> None:
    run, _ = night
    new = section((run / "report.html").read_text(), "new-fields")
    assert "2.0 emu-serial → 2.1 emu-serial" in new
    assert "RECORD.card_number" in new and "RECORD.owner" in new
    assert "<span class='loud'>payment:" in new and "<span class='loud'>identity:" in new
    matrix = section((run / "report.html").read_text(), "matrix")
    row = matrix.split("<th>2.1 emu-serial</th>", 1)[1].split("</tr>", 1)[0]
    cells = row.split("</td>")
    # payment and identity were sent by 2.0 already: NEW still, because fields of them are
    assert "NEW" in cells[1] and "NEW" in cells[4] and "card_number" in cells[1]


def test_each_broken_rule_is_listed_as_junit_says(night: tuple[Path, object]) -> None:
    run, _ = night
    violations = section((run / "report.html").read_text(), "violations")
    junit = (run / "junit.xml").read_text()
    assert junit.count("forbidden field") > 0
    rows = violations.split("<tr")[2:]
    assert any("RECORD.card_number" in r and "forbidden field" in r and "payment" in r
               for r in rows)
    assert any("RECORD.owner" in r and "forbidden field" in r for r in rows)
    assert all("2.0 emu-serial" not in r for r in rows)  # 2.0 kept to its contract


def test_a_destination_in_another_region_is_flagged(night: tuple[Path, object]) -> None:
    run, _ = night
    page = (run / "report.html").read_text()
    residency = section(page, "residency")
    assert "2.1 emu-serial</b> sends payment to pay.us-east-1.acme-cloud.example (region us" in \
        residency
    assert "2.0 emu-serial" not in residency
    destinations = section(page, "destinations")
    assert "<tr class='loud'><th>2.1 emu-serial</th><td>payment</td>" in destinations
    assert "us ≠ eu" in destinations


def test_failures_and_skips_say_why_and_passed_runs_fold(night: tuple[Path, object]) -> None:
    run, _ = night
    page = (run / "report.html").read_text()
    tests = section(page, "tests")
    failed = [r for r in tests.split("<tr")[2:] if "FAILED" in r]
    assert failed and all("collected data beyond its contract" in r for r in failed)
    skipped = [r for r in tests.split("<tr")[2:] if "SKIPPED" in r]
    assert skipped and all("<td>–</td>" not in r for r in skipped)  # each has a reason
    passed = section(page, "passed")
    summary = json.loads((run / "summary.json").read_text())
    runs = sum(1 for t in summary["targets"] for o in t["outcomes"].values() if o == "PASSED")
    assert 0 < passed.count("<tr>") - 1 < runs  # folded: fewer rows than passed runs
    for capture in (run / "captures").glob("*.jsonl"):
        assert f"captures/{capture.name}" in page  # every capture still one click away
    assert page.count("id='timings'") == 1 and "<h3>Timeline of one session on" in page
    assert page.count("data:image/png;base64,") == 2  # a first night draws no trend


def test_the_card_number_owner_and_broken_rule_are_above_the_fold(
        night: tuple[Path, object]) -> None:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium must be installed in CI (.ci/run installs it)")
        pytest.skip("no chromium on PATH; apt-get install chromium")
    run, _ = night
    shot = run / "fold.png"
    bottoms = above_the_fold(run / "report.html", shot, 1280, 800)
    assert 0 < bottoms["new-fields"] <= 800, bottoms
    assert 0 < bottoms["violations"] <= 800, bottoms
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1280


def test_summary_json_says_verdict_violations_and_changes_by_name(
        night: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    run, done = night
    summary = json.loads((run / "summary.json").read_text())
    assert summary["format"] == SUMMARY_FORMAT
    assert summary["exit_code"] == 1 and summary["interrupted"] is False
    assert summary["verdict"].startswith("data contract violated by 2.1 emu-serial")
    assert summary["previous_night"] is None
    new = {(c["category"], c["field"]) for c in summary["changes"] if c["kind"] == "appeared"}
    assert {("payment", "RECORD.card_number"), ("identity", "RECORD.owner")} <= new
    first, second = summary["targets"]
    assert first["violations"] == []
    assert {"category": "payment", "field": "RECORD.card_number", "why": "forbidden field"}.items() \
        <= next(v for v in second["violations"] if v["field"] == "RECORD.card_number").items()
    row = first["inventory"][0]
    assert set(row) == {"category", "field", "channel", "action", "count"}
    assert all(why for why in first["reasons"].values())  # every skip says why
    assert "no previous completed night in" in done.stdout


def test_the_previous_night_is_the_newest_completed_by_recorded_time(tmp_path: Path) -> None:
    def summary(run_id: str, finished_ns: int, ran: bool = True, **extra: object) -> None:
        folder = tmp_path / run_id
        folder.mkdir()
        target = {"slug": "2.1-serial-x", "outcomes": {"t": "PASSED"} if ran else {},
                  "inventory": [{"category": "payment", "field": f"F.{run_id}",
                                 "channel": "serial", "action": "sync", "count": 1}]}
        (folder / "summary.json").write_text(json.dumps(
            {"run_id": run_id, "finished_ns": finished_ns, "targets": [target], **extra}))

    summary("tue", 2_000)  # by name it sorts after "mon"; it finished later
    summary("mon", 1_000)
    summary("wed", 3_000, ran=False)  # a night that ran nothing: no baseline
    summary("thu", 4_000, interrupted=True)  # stopped half way: no baseline
    (tmp_path / "fri").mkdir()
    (tmp_path / "fri" / "summary.json").write_text("{not json")  # unreadable: no baseline
    previous, inventories = previous_inventories(tmp_path, "sat")
    assert previous == "tue"
    assert [c.field for c in inventories["2.1-serial-x"]] == ["F.tue"]
    assert previous_inventories(tmp_path / "none", "sat") == (None, {})


def test_old_unlabelled_inventory_rows_still_read(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "summary.json").write_text(json.dumps(
        {"run_id": "old", "targets": [{"slug": "s", "outcomes": {"t": "PASSED"},
                                       "inventory": [["identity", "R.owner", "serial", "sync", 3]]}]}))
    previous, inventories = previous_inventories(tmp_path, "new")
    assert previous == "old" and sum(inventories["s"].values()) == 3


def test_emissions_per_category_use_a_log_axis() -> None:
    figure = bar_figure("Emissions", "n", {"2.1": {"device": 480.0, "payment": 12.0}}, log=True)
    assert figure.axes[0].get_yscale() == "log"
    linear = bar_figure("Latency", "ms", {"2.1": {"brew": 3.0}})
    assert linear.axes[0].get_yscale() == "linear"


def _interruptible() -> None:
    """As from a terminal: SIGINT not ignored (a shell's background job would pass
    SIG_IGN down, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_writes_the_report_of_what_finished(tmp_path: Path) -> None:
    proc = subprocess.Popen([*BREWBENCH, "nightly", "--firmware", "1.0,2.0,2.1", "--results",
                             str(tmp_path), "--run-id", "cut"], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True,  # its own group: Ctrl-C reaches pytest too
                            preexec_fn=_interruptible)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("[2/3] firmware 2.0") and "starting" in line:
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
            break
    lines.extend(proc.stdout)
    assert proc.wait(timeout=120) == 130, "".join(lines)
    out = "".join(lines)
    assert "interrupted after 1 of 3 target(s): writing the report for what finished" in out
    assert "Traceback" not in out
    summary = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["exit_code"] == 130
    assert [t["firmware"] for t in summary["targets"]] == ["1.0"]
    page = (tmp_path / "cut" / "report.html").read_text()
    assert "INTERRUPTED (interrupted after 1 of 3 target(s))" in page
    assert previous_inventories(tmp_path, "next") == (None, {})  # no baseline for tomorrow


def test_the_docs_summary_example_runs_as_written(night: tuple[Path, object]) -> None:
    run, _ = night
    doc = (Path(__file__).parent.parent / "docs" / "nightly.md").read_text()
    block = doc.split("## summary.json", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    command = block.replace("brewbench-results/RUN_ID", str(run))
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2.1 payment RECORD.card_number: forbidden field" in done.stdout.splitlines()
    assert not [line for line in done.stdout.splitlines() if line.startswith("2.0 ")]


def test_a_trend_across_nights_is_drawn_once_there_is_a_night_before(tmp_path: Path) -> None:
    from collections import Counter

    from brewbench.bench.nightly.plan import Target
    from brewbench.bench.nightly.report import write_report
    from brewbench.bench.nightly.runner import TargetRun
    from brewbench.bench.nightly.summary import TargetResult, night_history, save_summary
    from brewbench.bench.verify.inventory import Collected

    def result(payment: int) -> TargetResult:
        run = TargetRun(Target("2.1", "emu://?firmware=2.1", "serial", "emu-serial"), 0,
                        Path(), 1.0, {"test_x.py::test_x": "PASSED"})
        return TargetResult(run, Counter({Collected("payment", "RECORD.card_number", "serial",
                                                    "sync"): payment,
                                          Collected("device", "IDENTIFY.serial", "serial",
                                                    "identify"): 400}))

    for night, (payment, finished) in {"b-first": (2, 1), "a-second": (5, 2)}.items():
        (tmp_path / night).mkdir()
        save_summary(night, [result(payment)], tmp_path / night / "summary.json",
                     {"finished_ns": finished, "interrupted": False})
    history = night_history(tmp_path, "tonight")
    assert history == [("b-first", {"payment": 2, "device": 400}),
                       ("a-second", {"payment": 5, "device": 400})]
    page = write_report(tmp_path / "r.html", "tonight", [result(9)], [], "ok", True,
                        history=history).read_text()
    assert page.count("data:image/png;base64,") == 3
    alone = write_report(tmp_path / "r1.html", "tonight", [result(9)], [], "ok", True).read_text()
    assert alone.count("data:image/png;base64,") == 2
