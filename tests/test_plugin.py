"""The pytest plugin as a user runs it: a test repo, pytest in a subprocess."""

import json
import xml.etree.ElementTree as ET

import pytest

USER_TEST = """
def test_brews(brewbench_machine, brewbench_capture, brewbench_spec):
    assert brewbench_machine.brew("latte")["order_id"] == 1
    assert brewbench_capture.meta["firmware"] == brewbench_spec.rsplit("=", 1)[1]
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_no_device_means_an_emulated_machine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
def test_default(brewbench_machine):
    assert brewbench_machine.identify().firmware == "2.1"
""")
    run(pytester).assert_outcomes(passed=1)


def test_repeated_device_parametrizes_and_saves_a_capture_per_test(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    results = pytester.path / "out"
    result = run(pytester, "--brewbench-device", "emu://?firmware=1.0", "--brewbench-device", "emu://?firmware=2.0",
                 "--brewbench-results", str(results), "--brewbench-run-id", "nightly-1", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_brews?firmware=1.0* PASSED*",
                                 "*test_brews?firmware=2.0* PASSED*"])
    captures = sorted((results / "nightly-1" / "captures").glob("*.jsonl"))
    assert len(captures) == 2
    header = json.loads(captures[0].read_text().splitlines()[0])
    assert header["meta"]["outcome"] == "passed" and header["meta"]["run_id"] == "nightly-1"


def test_pyproject_table_then_ini_then_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    pytester.makepyprojecttoml("""
[tool.brewbench]
devices = ["emu://?firmware=1.0"]
""")
    run(pytester, "-v").stdout.fnmatch_lines(["*firmware=1.0* PASSED*"])
    pytester.makeini("[pytest]\nbrewbench_devices = emu://?firmware=2.0\n")
    run(pytester, "-v").stdout.fnmatch_lines(["*firmware=2.0* PASSED*"])
    run(pytester, "-v", "--brewbench-device", "emu://?firmware=2.1").stdout.fnmatch_lines(
        ["*firmware=2.1* PASSED*"])


def test_marker_pins_a_test_to_its_own_devices(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
import pytest

@pytest.mark.brewbench_devices("emu://?firmware=1.0", "emu://?transport=socket")
def test_pinned(brewbench_machine):
    brewbench_machine.status()
""")
    run(pytester, "--brewbench-device", "emu://?firmware=2.1").assert_outcomes(passed=2)


def test_unreachable_device_fails_with_its_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = run(pytester, "--brewbench-device", "serial:///dev/ttyGONE7")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*_ ERROR at setup of test_brews*_",
                                 "could not connect: serial:///dev/ttyGONE7: cannot open*",
                                 "*= short test summary info =*"])
    assert "During handling" not in result.stdout.str() and "direct cause" not in result.stdout.str()


@pytest.mark.parametrize("table, complaint", [
    ("[tool]\nbrewbench = 3", "*[[]tool.brewbench] must be a table*"),
    ("[tool.brewbench]\ntimeout = 'soon'", "*brewbench timeout 'soon' is not a number*"),
])
def test_broken_settings_are_a_usage_error(pytester: pytest.Pytester, table: str,
                                           complaint: str) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    pytester.makepyprojecttoml(table)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([complaint])


LEAKY_TEST = """
import json, pathlib

def test_leaks(brewbench_machine, brewbench_canaries):
    brewbench_machine.provision(**brewbench_canaries.provisioning())
    brewbench_machine.brew("latte")
    brewbench_machine.pay("card", 350, card=brewbench_canaries.card())
    assert brewbench_machine.sync()
    pathlib.Path("planted.json").write_text(json.dumps(
        [brewbench_canaries[n] for n in ("owner", "card_number", "email")]))
"""


def test_results_folder_holds_no_raw_planted_values(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TEST)
    results = pytester.path / "out"
    run(pytester, "--brewbench-device", "emu://?firmware=2.1", "--brewbench-device", "emu://?firmware=2.2",
        "--brewbench-results", str(results)).assert_outcomes(passed=2)
    planted = json.loads((pytester.path / "planted.json").read_text())
    files = [p for p in results.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in files) and any(p.suffix == ".lp" for p in files)
    for path in files:
        text = path.read_bytes()
        for value in planted:
            assert value.encode() not in text, f"{value!r} leaked into {path}"
            assert value.encode().hex().encode() not in text, f"{value!r} as hex in {path}"


def test_raw_captures_only_on_request(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TEST)
    results = pytester.path / "out"
    run(pytester, "--brewbench-raw-captures", "--brewbench-results",
        str(results)).assert_outcomes(passed=1)
    planted = json.loads((pytester.path / "planted.json").read_text())
    [capture] = results.rglob("*.jsonl")
    assert planted[1] in capture.read_text()


def test_a_project_with_its_own_device_option_still_starts(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
def pytest_addoption(parser):
    parser.addoption("--device", default="lab-scope")

import pytest

@pytest.fixture
def scope(pytestconfig):
    return pytestconfig.getoption("--device")
""")
    pytester.makepyfile(test_user="""
def test_both(scope, brewbench_machine):
    assert scope == "bench-7" and brewbench_machine.identify().firmware == "1.0"
""")
    run(pytester, "--device", "bench-7",
        "--brewbench-device", "emu://?firmware=1.0").assert_outcomes(passed=1)


@pytest.mark.parametrize("args, complaint", [
    (["--brewbench-device", "emu://firmware=1.0"],
     "*--brewbench-device: emu://firmware=1.0: emu:// takes its settings after '?' *"
     "did you mean emu://?firmware=1.0"),
    (["--brewbench-device", "emu://?firmwre=1.0"], "*unknown parameter(s) firmwre*"),
    (["--brewbench-device", "serail:///dev/ttyUSB0"], "*unknown scheme 'serail'*"),
])
def test_a_malformed_spec_is_a_usage_error(pytester: pytest.Pytester, args: list[str],
                                           complaint: str) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([complaint])


def test_an_unknown_pyproject_key_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    pytester.makepyprojecttoml('[tool.brewbench]\ndevice = "emu://?firmware=1.0"\n')
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*[[]tool.brewbench] has unknown key(s) device; known keys: "
                                 "contract, devices, influx, lab, raw_captures, results, timeout, wait"])


def test_a_misspelled_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="""
import pytest

@pytest.mark.brewbench_device("emu://?firmware=1.0")
def test_pinned(brewbench_machine):
    brewbench_machine.status()
""")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_user.py::test_pinned*: unknown marker 'brewbench_device'; "
                                 "brewbench's markers are brewbench_contract, brewbench_devices*"])


def test_every_plugin_fixture_is_documented(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--fixtures")
    fixtures = [line for line in result.stdout.lines if line.startswith("brewbench_")]
    assert len(fixtures) >= 10
    text = "\n".join(result.stdout.lines)
    for fixture in fixtures:
        assert "no docstring" not in text.split(fixture, 1)[1].split("\n")[1], fixture


def test_junit_carries_the_bench_facts_of_each_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TEST)
    run(pytester, "--brewbench-device", "emu://?firmware=2.1",
        "--junitxml=junit.xml").assert_outcomes(passed=1)
    case = ET.parse(pytester.path / "junit.xml").find(".//testcase")
    assert case is not None
    props = {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}
    assert props["brewbench_device"] == "emu://?firmware=2.1"
    assert props["brewbench_firmware"] == "2.1" and props["brewbench_transport"] == "serial"
    assert props["brewbench_model"]
    assert "identity" in (props["brewbench_categories"] or "").split(",")
    assert int(props["brewbench_planted_found"] or 0) >= 2
    assert "owner=" in (props["brewbench_planted_names"] or "")
    planted = json.loads((pytester.path / "planted.json").read_text())
    assert not any(value in (pytester.path / "junit.xml").read_text() for value in planted)
