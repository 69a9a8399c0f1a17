"""An asyncio event loop on a thread of its own, for blocking callers of async libraries.

bleak is asyncio-only while bench tests are synchronous. Each ``LoopThread`` owns
one loop: nothing is shared between transports and no global loop is touched, so
two transports (or a transport and an emulator) never wait on each other's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class LoopThread:
    """Runs one event loop on one daemon thread until ``stop``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None  # made by start: none to leak before
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop (``start`` first).

        Raises:
            RuntimeError: not started.
        """
        if self._loop is None:
            raise RuntimeError(f"{self.name}: the loop is not started")
        return self._loop

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread.start()

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            _cancel_all(loop)
            loop.close()

    @property
    def on_loop(self) -> bool:
        """True when called from this loop's own thread."""
        return threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the loop and block until it finishes.

        Raises:
            TimeoutError: it did not finish within ``timeout`` seconds (it is cancelled).
            RuntimeError: called from the loop's own thread, or after ``stop``.
            Exception: whatever ``coro`` raised.
        """
        if self.on_loop:
            coro.close()
            raise RuntimeError(f"{self.name}: run() called from its own loop thread")
        if not self._thread.is_alive():
            coro.close()
            raise RuntimeError(f"{self.name}: the loop is not running")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise TimeoutError(f"{self.name}: no result within {timeout:g}s") from exc

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop without waiting for it.

        Raises:
            RuntimeError: the loop is not running.
        """
        if self._loop is None or self._loop.is_closed():
            coro.close()
            raise RuntimeError(f"{self.name}: the loop is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call_soon(self, callback: Callable[..., object], *args: object) -> None:
        """Call ``callback(*args)`` on the loop, from any thread; ignored once stopped."""
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            log.debug("%s: loop closed, dropping a callback", self.name)

    def stop(self) -> None:
        """Stop the loop (cancelling what still runs on it) and join the thread."""
        if self._loop is None or not self._thread.is_alive():
            return
        self.call_soon(self.loop.stop)
        if not self.on_loop:
            self._thread.join(timeout=5)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
