"""Open the report in headless Chromium: a screenshot, and proof that its plots load."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars")


WIDTH = 1200
MAX_HEIGHT = 16000  # Chromium's screenshots fail beyond about 16k pixels


@dataclass(frozen=True)
class BrowserCheck:
    screenshot: Path
    images_ok: bool
    title: str
    page_height: int = 0  # the rendered page's height in CSS pixels
    tests_bottom: int = 0  # where its test table ends


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def check_report(report: Path, screenshot: Path, browser: str | None = None) -> BrowserCheck:
    """Render ``report``, save a screenshot, and read back whether every image decoded.

    Raises:
        FileNotFoundError: no Chromium on PATH.
        RuntimeError: Chromium failed or timed out; the message holds its output.
    """
    browser = browser or find_chromium()
    if browser is None:
        raise FileNotFoundError("no chromium on PATH: apt-get install chromium")
    url = report.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}"]
        dom = _run([*base, f"--window-size={WIDTH},1000", "--virtual-time-budget=5000",
                    "--dump-dom", url])
        height = _attribute(dom, "height")
        # As tall as the page, so the screenshot holds every plot and the whole test table.
        _run([*base, f"--window-size={WIDTH},{min(max(height, 800), MAX_HEIGHT)}",
              f"--screenshot={screenshot}", url])
    images = re.search(r'<body[^>]*data-images="(\w+)"', dom)
    title = re.search(r"<title>(.*?)</title>", dom)
    return BrowserCheck(screenshot, bool(images and images[1] == "ok"),
                        title[1] if title else "", height, _attribute(dom, "tests-bottom"))


def above_the_fold(report: Path, screenshot: Path, width: int = 1280, height: int = 800,
                   browser: str | None = None) -> dict[str, int]:
    """Render ``report`` in a ``width`` x ``height`` window, save what it shows there, and
    return where the headline's first lines end (CSS px from the top; 0: not on the page):
    ``new-fields`` (the first firmware's new fields) and ``violations`` (the first two
    broken rules). Under ``height`` means a reader sees them without scrolling.

    Raises:
        FileNotFoundError: no Chromium on PATH.
        RuntimeError: Chromium failed or timed out.
    """
    browser = browser or find_chromium()
    if browser is None:
        raise FileNotFoundError("no chromium on PATH: apt-get install chromium")
    url = report.resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        dom = _run([*base, "--virtual-time-budget=5000", "--dump-dom", url])
        _run([*base, f"--screenshot={screenshot}", url])
    return {"new-fields": _attribute(dom, "new-fields-bottom"),
            "violations": _attribute(dom, "violations-bottom")}


def _attribute(dom: str, name: str) -> int:
    """A number the report's script left on ``<body data-NAME=...>`` (0 when absent)."""
    found = re.search(rf'<body[^>]*data-{name}="(\d+)"', dom)
    return int(found[1]) if found else 0


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=90,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError("chromium did not finish within 90 s") from exc
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout
