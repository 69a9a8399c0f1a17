"""Device ends of serial links: a pty and a TCP socket.

Both pump bytes between a host-side client (pyserial) and an emulated machine
(of any family) on a thread of their own. The machine writes through ``send``; the link delivers
what the host wrote through ``machine.feed``.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)
CHUNK = 65536


class DeviceSide(Protocol):
    """What a link serves: any emulated machine that takes bytes and sends some back."""

    def attach(self, send: Callable[[bytes], None], hang_up: Callable[[], None]) -> None: ...

    def detach(self) -> None: ...

    def feed(self, data: bytes) -> None: ...


M = TypeVar("M", bound=DeviceSide)


class DeviceLink(abc.ABC, Generic[M]):
    """The device end of one link, serving one machine (of any family)."""

    def __init__(self, machine: M) -> None:
        self.machine = machine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """What a host-side client opens to reach the machine."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name=f"emulator {self.url}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.machine.detach()
        self._release()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @abc.abstractmethod
    def _serve(self) -> None: ...

    @abc.abstractmethod
    def _release(self) -> None: ...


class PtyLink(DeviceLink[M]):
    """A pseudo-terminal: the emulator holds the master, the host opens the slave path."""

    def __init__(self, machine: M) -> None:
        super().__init__(machine)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # the default line discipline echoes and rewrites bytes
        tty.setraw(self._master)
        os.set_blocking(self._master, False)  # a full pty must not block a write forever
        self._path = os.ttyname(self._slave)
        self._closed = False
        # Set before taking the write lock, so a write blocked on a host that stopped
        # reading (a flood) gives up instead of holding the lock forever.
        self._closing = threading.Event()
        self._wlock = threading.Lock()
        machine.attach(self._write, self.hang_up)

    @property
    def url(self) -> str:
        return self._path

    def _write(self, data: bytes) -> None:
        with self._wlock:
            write_all(self._master, data, self._closing.is_set)

    def _deliver(self, data: bytes) -> None:
        """Hand what the host wrote to the machine."""
        self.machine.feed(data)

    def hang_up(self) -> None:
        """Close both ends, as pulling the cable would: the host's reads fail."""
        self._release()

    def _serve(self) -> None:
        while not self._stop.is_set() and not self._closed:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.1)
                if ready:
                    data = os.read(self._master, CHUNK)
                    if data:
                        self._deliver(data)
            except (OSError, ValueError):
                return

    def _release(self) -> None:
        self._closing.set()
        with self._wlock:
            if self._closed:
                return
            self._closed = True
            # The emulator keeps its own slave fd open while it serves, so that
            # the host closing its side does not give the master an I/O error.
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)


class TcpLink(DeviceLink[M]):
    """A TCP server on loopback, one host connection at a time (pyserial's socket://)."""

    def __init__(self, machine: M, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(machine)
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self._host, self._port = self._server.getsockname()[:2]
        self._client: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"socket://{self._host}:{self._port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(0.1)
            with self._lock:
                self._client = client
            self.machine.attach(_sender(client, self._stop), self.hang_up)
            self._pump(client)

    def _pump(self, client: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data = client.recv(CHUNK)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            self.machine.feed(data)
        self.machine.detach()
        client.close()

    def hang_up(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def _release(self) -> None:
        self.hang_up()
        self._server.close()


def call_later(timers: list[threading.Timer], seconds: float, call: Callable[..., None],
               **kwargs: object) -> None:
    """``call(**kwargs)`` ``seconds`` from now, on a daemon timer added to ``timers`` (a
    link cancels its timers when it stops: a re-plug due after that never happens)."""
    timer = threading.Timer(seconds, call, kwargs=kwargs)
    timer.daemon = True
    timers.append(timer)
    timer.start()


def write_all(fd: int, data: bytes, closing: Callable[[], bool]) -> None:
    """Write all of ``data`` to a non-blocking pty master, waiting while it is full,
    until ``closing`` says stop; a closed pty ends the write quietly (a pulled cable)."""
    view = memoryview(data)
    while view and not closing():
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [], 0.1)
        except OSError:
            return


def _sender(client: socket.socket, stop: threading.Event) -> Callable[[bytes], None]:
    """sendall that waits out a slow host (a flood fills its buffers) until the link
    stops, and treats a vanished host as a hang-up, not a crash of the link thread.

    ``socket.sendall`` is not used: on its timeout nobody knows how much was sent,
    and a frame cut there would corrupt the stream.
    """
    def send(data: bytes) -> None:
        view = memoryview(data)
        while view and not stop.is_set():
            try:
                view = view[client.send(view):]
            except TimeoutError:
                continue  # nothing was sent; the host is slow, not gone
            except OSError:
                log.debug("host went away while the emulator was sending")
                return
    return send
