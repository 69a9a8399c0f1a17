"""brewbench nightly as a lab runs it: emulated firmware versions, diffs, reports."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

import brewbench
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.nightly.browser import check_report, find_chromium
from brewbench.bench.nightly.plan import PlanError, config_plan
from brewbench.emulator.firmware import PERSONAL, PROFILES, SERVICE

# The first test here pays for a six-target nightly (six pytest runs, a report, two
# browser renders): a minute or two on a shared, busy machine, so more than the default.
pytestmark = pytest.mark.timeout(600)

BREWBENCH = [sys.executable, "-m", "brewbench"]
# Serial and BLE: the two links whose sessions differ most (USB's actions and captures
# are covered by tests/test_usb_actions.py); each more transport costs three targets.
TRANSPORTS = ("serial", "ble")


def nightly(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, "nightly", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def appeared(stdout: str, comparison: str) -> set[str]:
    return {line.rsplit(" ", 1)[1] for line in stdout.splitlines()
            if f"{comparison}: appeared" in line}


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("nightly")
    done = nightly("--firmware", "1.0,2.0,2.1", "--transport", ",".join(TRANSPORTS), "--results",
                   str(folder), "--run-id", "20260101T000000-aaaa", cwd=folder)
    # The shipped CM-500 contract forbids the owner and card details that 2.1 collects.
    assert done.returncode == 1, done.stdout + done.stderr
    return folder / "20260101T000000-aaaa", done.stdout


def test_contract_violations_fail_the_night_where_they_happen(
        three_versions: tuple[Path, str]) -> None:
    run, stdout = three_versions
    assert ("verdict: data contract violated by " + ", ".join(f"2.1 emu-{t}" for t in TRANSPORTS)
            in stdout)
    summary = json.loads((run / "summary.json").read_text())
    failing = {t["slug"]: sorted(k for k, v in t["outcomes"].items() if v == "FAILED")
               for t in summary["targets"]}
    for slug, failed in failing.items():
        if slug.startswith("2.1-"):
            assert len(failed) == 1 and "test_data_contract" in failed[0], slug
        else:
            assert failed == [], slug
    assert "!! 2.0 emu-serial → 2.1 emu-serial: appeared payment RECORD.card_number" in stdout


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_diff_names_exactly_what_each_version_added(three_versions: tuple[Path, str],
                                                    transport: str) -> None:
    _, stdout = three_versions
    device = f"emu-{transport}"
    added_in_2_0 = appeared(stdout, f"1.0 {device} → 2.0 {device}")
    # 2.0 is the first with a cloud: its uplink messages add their own bookkeeping fields.
    uplink = {"RECORD.kind", "RECORD.msg_id", "RECORD.queued_records"}
    assert {f for f in added_in_2_0 if f.startswith("RECORD.")} == {
        f"RECORD.{f}" for f in SERVICE} | uplink
    added_in_2_1 = appeared(stdout, f"2.0 {device} → 2.1 {device}")
    # 2.1's diagnostics also send the Wi-Fi name home.
    assert {f for f in added_in_2_1 if f.startswith("RECORD.")} == {
        f"RECORD.{f}" for f in PERSONAL} | {"RECORD.ssid"}
    assert "disappeared" not in stdout


def test_progress_names_targets_and_tests(three_versions: tuple[Path, str]) -> None:
    _, stdout = three_versions
    assert "[1/6] firmware 1.0 on emu-serial: starting" in stdout
    assert "[6/6] firmware 2.1 on emu-ble:   1 PASSED" in stdout and "eta" in stdout


def test_junit_and_summary_parse(three_versions: tuple[Path, str]) -> None:
    run, _ = three_versions
    root = ET.parse(run / "junit.xml").getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"{v}-{t}-emu-{t}" for v in ("1.0", "2.0", "2.1")
                                               for t in TRANSPORTS]
    assert int(root.get("tests", "0")) == sum(len(s.findall("testcase")) for s in suites) > 0
    assert root.get("failures") == str(len(TRANSPORTS)) and root.get("errors") == "0"
    summary = json.loads((run / "summary.json").read_text())
    assert [t["exit_code"] for t in summary["targets"]] == [0] * 2 * len(TRANSPORTS) + [1] * len(TRANSPORTS)


def test_report_is_self_contained_html(three_versions: tuple[Path, str]) -> None:
    run, _ = three_versions
    page = (run / "report.html").read_text()
    parser = HTMLParser()
    parser.feed(page)
    assert "id='matrix'" in page and "id='verdict'" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert page.count("data:image/png;base64,") == 2
    for link in (run / "captures").glob("*.jsonl"):
        assert f"captures/{link.name}" in page
    # Where the data went: 2.1's payments leave for another region, 1.0 sends nothing home.
    destinations = page.split("id='destinations'")[1].split("</table>")[0]
    assert "<th>2.1 emu-serial</th><td>payment</td><td>pay.us-east-1.acme-cloud.example" in destinations
    assert "1.0 emu-" not in destinations


def test_report_renders_in_a_real_browser(three_versions: tuple[Path, str]) -> None:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium must be installed in CI (.ci/run installs it)")
        pytest.skip("no chromium on PATH; apt-get install chromium")
    run, _ = three_versions
    check = check_report(run / "report.html", run / "report-test.png")
    assert check.images_ok and check.title.startswith("brewbench nightly")
    png = check.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    height = int.from_bytes(png[20:24], "big")  # the PNG header's height
    assert check.page_height > 2000 and check.tests_bottom > 0  # taller than one screen
    assert height >= check.page_height >= check.tests_bottom  # nothing cut off


def test_second_night_compares_with_the_first(three_versions: tuple[Path, str]) -> None:
    run, _ = three_versions
    done = nightly("--firmware", "2.0", "--results", str(run.parent), "--run-id",
                   "20260102T000000-bbbb", cwd=run.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    page = (run.parent / "20260102T000000-bbbb" / "report.html").read_text()
    assert "run 20260101T000000-aaaa → tonight" in page
    assert "no change in what is collected" in page


def test_failing_test_fails_the_night(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "def test_bad(brewbench_machine):\n    assert brewbench_machine.status()['state'] == 'off'\n")
    done = nightly("--firmware", "1.0", "--tests", str(tmp_path / "test_bad.py"),
                   "--results", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1
    assert "verdict: 1 test(s) failed" in done.stdout


def test_failed_and_hung_flash_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "flash.sh").write_text(
        'case "$1" in *bad*) echo "no such image" >&2; exit 3;; *hang*) sleep 60;; esac\n')
    (tmp_path / "bench.toml").write_text(f"""
flash = "sh {tmp_path}/flash.sh {{image}} {{device}}"
flash_timeout = 2
[[device]]
spec = "emu://?firmware=2.0"
name = "lab-machine"
[[firmware]]
version = "1.9"
image = "bad.bin"
[[firmware]]
version = "2.0"
image = "good.bin"
[[firmware]]
version = "2.0-rc"
image = "hang.bin"
""")
    done = nightly("--config", str(tmp_path / "bench.toml"), "--results", str(tmp_path / "out"),
                   "--run-id", "flashy", cwd=tmp_path)
    assert done.returncode == 1
    assert "flash command failed with exit code 3" in done.stdout
    assert "flash command hung: killed after 2s" in done.stdout
    assert "[2/3] firmware 2.0 on lab-machine:   1 PASSED" in done.stdout
    root = ET.parse(tmp_path / "out" / "flashy" / "junit.xml").getroot()
    errors = [s.find("testcase/error") for s in root.findall("testsuite")]
    assert errors[0] is not None and "no such image" in (errors[0].text or "")
    assert errors[1] is None and errors[2] is not None


def test_broken_bench_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bench.toml").write_text("[[device]]\nspec = 'serial:///dev/ttyUSB0'\n")
    done = nightly("--config", str(tmp_path / "bench.toml"), cwd=tmp_path)
    assert done.returncode == 2
    assert "needs at least one [[device]] and one [[firmware]]" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("kind", ["binary", "folder"])
def test_an_unreadable_bench_config_is_one_line(tmp_path: Path, kind: str) -> None:
    """A wrong file or a folder given as --config is a PlanError, never a traceback."""
    path = tmp_path / "bench.toml"
    if kind == "binary":
        path.write_bytes(b"\xf6\x00\xff garbage")
    else:
        path.mkdir()
    with pytest.raises(PlanError, match=r"bench config .*bench.toml cannot be read"):
        config_plan(path)


def test_nightly_logs_every_version_to_a_real_influxdb(brewbench_influx: InfluxSettings,
                                                       tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")},
           "INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db}
    done = subprocess.run([*BREWBENCH, "nightly", "--firmware", "1.0,2.1", "--results",
                           str(tmp_path), "--run-id", "night-influx"], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr  # 2.1 breaks its contract
    reader = InfluxReader(brewbench_influx)
    tests = reader.points("tests", "night-influx")
    fields = reader.emission_fields("CM-500")
    reader.close()
    summary = json.loads((tmp_path / "night-influx" / "summary.json").read_text())
    ran = sum(len(t["outcomes"]) for t in summary["targets"])
    assert len(tests) == ran > 0
    assert {t["firmware"] for t in tests} == {"1.0", "2.1"}
    failed = [t["test"] for t in tests if t["outcome"] == "failed"]
    assert len(failed) == 1 and "test_data_contract[firmware=2.1" in failed[0]
    owner = ("identity", "RECORD.owner", "serial", "sync")
    assert owner in fields["2.1"] and owner not in fields["1.0"]

    # A bench host that lost its results folder reads the previous night back from InfluxDB.
    again = subprocess.run([*BREWBENCH, "nightly", "--firmware", "1.0", "--results",
                            str(tmp_path / "fresh"), "--run-id", "night-influx-2"],
                           capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    page = (tmp_path / "fresh" / "night-influx-2" / "report.html").read_text()
    assert "run night-influx → tonight" in page


@pytest.mark.parametrize(("args", "line"), [
    (("--firmware", "9.9"), f"brewbench: --firmware 9.9: no emulated firmware 9.9 (known: "
                            f"{', '.join(sorted(PROFILES))}); real devices need --config"),
    (("--transport", "bluetooth"), "brewbench: --transport bluetooth: no such emulated transport "
                                   "(known: ble, serial, socket, usb, usb-serial)"),
    (("--contract", "broken.toml"), "brewbench: --contract: broken.toml: cannot read the contract: "
                                    "[Errno 2] No such file or directory: 'broken.toml'"),
    (("--tests", "no_such_tests"), "brewbench: --tests no_such_tests: no such file or folder"),
])
def test_usage_mistakes_are_one_line_before_anything_runs(tmp_path: Path, args: tuple[str, ...],
                                                          line: str) -> None:
    done = nightly(*args, "--results", str(tmp_path / "out"), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (2, "", [line])
    assert not (tmp_path / "out").exists()


def test_a_contract_file_that_is_not_a_contract_is_a_usage_mistake(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[[contract]]\nmodel = 'CM-500'\n")
    done = nightly("--contract", "broken.toml", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("brewbench: --contract: broken.toml") and "violated" not in line


def test_the_current_folders_pytest_setup_does_not_reach_the_standard_suite(tmp_path: Path) -> None:
    # A checkout's conftest.py imports its test extras; a project's addopts are its own.
    (tmp_path / "conftest.py").write_text("import a_module_that_is_not_installed\n")
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '--bogus'\n")
    done = nightly("--firmware", "1.0", "--results", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: all tests passed" in done.stdout


def test_pytest_that_cannot_start_shows_why(tmp_path: Path) -> None:
    done = nightly("--firmware", "1.0", "--pytest-arg=--no-such-option", "--results",
                   str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pytest could not run the tests (exit code 4)" in done.stdout
    assert "    ERROR: usage:" in done.stdout and "--no-such-option" in done.stdout
    assert "verdict: pytest could not run the tests on 1.0 emu-serial" in done.stdout
    assert "contract" not in done.stdout.split("verdict:")[1]


def test_a_target_that_collects_no_tests_is_not_a_crash(tmp_path: Path) -> None:
    done = nightly("--firmware", "1.0", "--pytest-arg=-k", "--pytest-arg=no_test_is_named_so",
                   "--results", str(tmp_path / "out"), "--run-id", "empty", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "verdict: no tests collected on 1.0 emu-serial" in done.stdout
    assert "crash" not in done.stdout and "could not run" not in done.stdout
    suite = ET.parse(tmp_path / "out" / "empty" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "0" and suite.find("testcase") is None


def test_differential_night_names_keyed_leaks_and_spares_noise(tmp_path: Path) -> None:
    env_key = {"BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    done = subprocess.run([*BREWBENCH, "nightly", "--firmware", "1.1,2.3", "--transport", "serial",
                           "--differential", "group", "--results", str(tmp_path), "--run-id",
                           "20260102T000000-dddd"], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env={**os.environ, **env_key})
    assert done.returncode == 1, done.stdout + done.stderr
    verdict = next(line for line in done.stdout.splitlines() if line.startswith("verdict: "))
    assert "(differential) on 2.3 emu-serial: " in verdict and "owner in RECORD.uid" in verdict
    assert "1.1 emu-serial:" not in verdict.split("(differential)")[1]
    run = tmp_path / "20260102T000000-dddd"
    outcomes = {t["firmware"]: t["outcomes"] for t in
                json.loads((run / "summary.json").read_text())["targets"]}
    assert [v for k, v in outcomes["1.1"].items() if "test_differential" in k] == ["PASSED"]
    assert [v for k, v in outcomes["2.3"].items() if "test_differential" in k] == ["FAILED"]
    report = (run / "report.html").read_text()
    assert "Differential analysis" in report and "owner in RECORD.uid" in report
    assert "Canary" not in report


def test_a_checkouts_conftest_above_the_suite_stays_out(tmp_path: Path) -> None:
    # As after `pip install -e .` in a checkout whose conftest.py needs the test extras.
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "brewbench").symlink_to(Path(brewbench.__file__).parent)
    (checkout / "conftest.py").write_text("import a_module_that_is_not_installed\n")
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([*BREWBENCH, "nightly", "--firmware", "1.0", "--results",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: all tests passed" in done.stdout


def test_the_projects_brewbench_table_reaches_the_standard_suite(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.brewbench]\ndevice = 'emu://'\n")  # a typo
    done = nightly("--firmware", "1.0", "--results", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pytest could not run the tests (exit code 4)" in done.stdout
    assert "device" in done.stdout.split("pytest said:")[1]
