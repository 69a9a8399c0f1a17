"""The nightly's outcomes come from pytest's JUnit XML, never from its console text."""

from pathlib import Path

import pytest

from brewbench.bench.nightly.outcomes import JunitError, read_outcomes
from brewbench.bench.nightly.summary import test_key as key_of

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="t" tests="4">
<testcase classname="suite.test_standard" name="test_identify[fw]" file="x/suite/test_standard.py"/>
<testcase classname="suite.test_standard.TestPay" name="test_card" file="x/suite/test_standard.py">
  <failure message="Failed: emu collected data beyond its contract">table</failure></testcase>
<testcase classname="test_mine" name="test_a" file="tests/test_mine.py"><skipped message="no"/>
</testcase>
<testcase classname="test_mine" name="test_b" file="tests/test_mine.py">
  <failure message="assert 1"/><error message="teardown broke"/></testcase>
</testsuite></testsuites>"""


def test_each_case_keyed_like_its_capture(tmp_path: Path) -> None:
    (tmp_path / "j.xml").write_text(JUNIT)
    outcomes = read_outcomes(tmp_path / "j.xml")
    assert outcomes.status == {
        key_of("x/suite/test_standard.py::test_identify[fw]"): "PASSED",
        key_of("x/suite/test_standard.py::TestPay::test_card"): "FAILED",
        "test_mine.py::test_a": "SKIPPED",
        "test_mine.py::test_b": "ERROR",
    }
    assert outcomes.messages["test_standard.py::TestPay::test_card"].startswith(
        "Failed: emu collected data beyond its contract\ntable")


def test_an_empty_suite_is_a_run_of_no_tests(tmp_path: Path) -> None:
    (tmp_path / "j.xml").write_text('<testsuites><testsuite name="t" tests="0"/></testsuites>')
    assert read_outcomes(tmp_path / "j.xml").status == {}


@pytest.mark.parametrize(("text", "says"), [(None, "pytest wrote no JUnit file (j.xml)"),
                                            ("<testsuites", "unreadable JUnit file j.xml"),
                                            ("<html/>", "j.xml is not JUnit XML (root <html>)")])
def test_no_junit_is_an_error_not_an_empty_run(tmp_path: Path, text: str | None, says: str) -> None:
    if text is not None:
        (tmp_path / "j.xml").write_text(text)
    with pytest.raises(JunitError, match=r"^" + says.replace("(", r"\(").replace(")", r"\)")):
        read_outcomes(tmp_path / "j.xml")
