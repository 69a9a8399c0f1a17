"""Actions: what the bench asks of a machine, announced to the connection's observers.

Every family's driver wraps each action in ``observed_action`` so that whatever
the link carries in between is attributed to it. The names are shared by all
families, so captures, contracts and the nightly read alike whatever the machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .records import Observer, Stamp

__all__ = ["ACTIONS", "observed_action"]

#: The bench's action names; a family implements the ones its machines can do.
ACTIONS = ("connect", "identify", "status", "brew", "pay", "provision", "sync", "read_logs",
           "reset", "read_counters", "read_settings", "voice_order")


@contextmanager
def observed_action(observers: Iterable[Observer], name: str) -> Iterator[None]:
    """Tell ``observers`` that action ``name`` starts, and how it ended."""
    watching = tuple(observers)
    for observer in watching:
        observer.action_started(name, Stamp.now())
    outcome, detail = "ok", ""
    try:
        yield
    except BaseException as exc:
        outcome, detail = "error", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        for observer in watching:
            observer.action_ended(name, Stamp.now(), outcome, detail)
