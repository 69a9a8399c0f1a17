"""Test outcomes read from a target's JUnit XML file, not from pytest's console text.

pytest writes the file with ``junit_family=xunit1`` so every test case names its file;
a test's key is then ``file name::Class::test[params]``, the same key ``test_key`` makes
of the node id in a capture, so the report links each outcome to its capture.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["JunitError", "Outcomes", "read_outcomes"]

# JUnit child element -> outcome, checked in this order (an error beats a failure).
KINDS = (("error", "ERROR"), ("failure", "FAILED"), ("skipped", "SKIPPED"))


class JunitError(Exception):
    """The JUnit file is missing or is not JUnit XML."""


@dataclass
class Outcomes:
    """What one pytest run reported: each test's outcome and, when it did not pass, why."""

    status: dict[str, str] = field(default_factory=dict)  # key -> PASSED/FAILED/ERROR/SKIPPED
    messages: dict[str, str] = field(default_factory=dict)  # key -> failure or error text


def read_outcomes(junit: Path) -> Outcomes:
    """Every test case of ``junit``; an empty ``<testsuite/>`` is a run of no tests.

    Raises:
        JunitError: no file, or not JUnit XML.
    """
    try:
        root = ET.parse(junit).getroot()
    except FileNotFoundError as exc:
        raise JunitError(f"pytest wrote no JUnit file ({junit.name})") from exc
    except ET.ParseError as exc:
        raise JunitError(f"unreadable JUnit file {junit.name}: {exc}") from exc
    if root.tag not in ("testsuites", "testsuite"):
        raise JunitError(f"{junit.name} is not JUnit XML (root <{root.tag}>)")
    outcomes = Outcomes()
    for case in root.iter("testcase"):
        key = _key(case)
        outcomes.status[key] = "PASSED"
        for tag, status in KINDS:
            found = case.find(tag)
            if found is not None:
                outcomes.status[key] = status
                outcomes.messages[key] = f"{found.get('message', '')}\n{found.text or ''}".strip()
                break
    return outcomes


def _key(case: ET.Element) -> str:
    """``test_x.py::TestA::test_b[p]`` from file, classname and name."""
    name, classname = case.get("name", ""), case.get("classname", "")
    file = case.get("file")
    if not file:
        return f"{classname}::{name}"
    stem = Path(file).stem
    parts = classname.split(".")
    classes = parts[parts.index(stem) + 1:] if stem in parts else []
    return "::".join([Path(file).name, *classes, name])
