"""Actions: what the bench asks of a machine, announced to the connection's observers.

Every family's driver wraps each action in ``observed_action`` so that whatever
the link carries in between is attributed to it. The names are shared by all
families, so captures, contracts and the nightly read alike whatever the machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar, Protocol, Self

from .records import Observer, Stamp

__all__ = ["ACTIONS", "UNKNOWN_PRODUCT", "ActionDriver", "observed_action"]

#: The bench's action names; a family implements the ones its machines can do.
#: ``DeviceRejected.name`` when a driver refuses a drink its machine has no product for
#: (before sending anything); the standard session takes it as an answer, not a failure
UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
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


class _Link(Protocol):
    @property
    def observers(self) -> tuple[Observer, ...]: ...

    def open(self) -> None: ...

    def close(self) -> None: ...


class ActionDriver:
    """What every family's driver shares: its connection's lifecycle, actions announced
    to the connection's observers, and which actions the family has (``actions``)."""

    actions: ClassVar[frozenset[str]] = frozenset()
    connection: _Link

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        self.connection.open()

    def close(self) -> None:
        self.connection.close()

    def action(self, name: str) -> AbstractContextManager[None]:
        """Attribute everything seen inside the block to action ``name``."""
        return observed_action(self.connection.observers, name)

    def supports(self, action: str) -> bool:
        """Whether this machine can do ``action`` (one of ``ACTIONS``)."""
        return action in self.actions
