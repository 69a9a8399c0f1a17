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
    if run.flashed and run.junit.is_file():
        try:
            tree = ET.parse(run.junit).getroot()
            return tree if tree.tag == "testsuite" else tree.find("testsuite") or _broken(run, "no testsuite")
        except ET.ParseError as exc:
            return _broken(run, f"unreadable JUnit file: {exc}")
    reason = run.flash.summary if run.flash and not run.flash.ok else f"pytest exited {run.exit_code}"
    return _broken(run, reason)


def _broken(run: TargetRun, reason: str) -> ET.Element:
    suite = ET.Element("testsuite", tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="brewbench.nightly", name="setup")
    error = ET.SubElement(case, "error", message=reason)
    error.text = run.log[-4000:]
    return suite
