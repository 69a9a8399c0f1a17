"""One JUnit XML file for the whole nightly run, so any CI system can show it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from .runner import TargetRun


def merge_junit(runs: list[TargetRun], out: Path) -> Path:
    """Merge each target's JUnit file into one ``<testsuites>``; a target that could
    not run (failed flash, crashed pytest) becomes a suite with one error."""
    root = ET.Element("testsuites", name="brewbench nightly")
    for run in runs:
        suite = _suite_of(run)
        suite.set("name", run.target.slug)
        props = ET.SubElement(suite, "properties")
        for key, value in (("firmware", run.target.firmware), ("device", run.target.device),
                           ("transport", run.target.transport), ("spec", run.target.spec)):
            ET.SubElement(props, "property", name=key, value=value)
        root.append(suite)
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in root)))
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def _suite_of(run: TargetRun) -> ET.Element:
    if run.flashed and not run.problem:
        root = ET.parse(run.junit).getroot()  # read before: runner.read_outcomes
        # an empty <testsuite/> (no tests collected) is falsy: compare with None
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        return suite if suite is not None else ET.Element("testsuite", tests="0")
    reason = run.flash.summary if run.flash and not run.flash.ok else run.problem
    return _broken(run, reason)


def _broken(run: TargetRun, reason: str) -> ET.Element:
    suite = ET.Element("testsuite", tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="brewbench.nightly", name="setup")
    error = ET.SubElement(case, "error", message=reason)
    error.text = run.log[-4000:]
    return suite
