"""The brewbench plugin is registered by its pytest11 entry point (pip install -e .);
nothing is registered here a second time.

Hypothesis: no per-example deadline (the machines these tests run on are shared, and
a slow example is not a wrong one); under CI the examples are derandomized so a run
can be repeated exactly.
"""

import os

from hypothesis import settings

settings.register_profile("brewbench", deadline=None)
settings.register_profile("ci", parent=settings.get_profile("brewbench"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "brewbench")


def pytest_addoption(parser) -> None:  # type: ignore[no-untyped-def]
    parser.addoption("--soak-seconds", type=float, default=20.0,
                     help="how long the hostile-device soak test runs (default 20 s)")
