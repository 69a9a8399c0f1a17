"""A serial port served over RFC 2217 by pyserial's own server side (``PortManager``).

    with Rfc2217Server("/dev/pts/4") as server:
        print(server.url)          # rfc2217://127.0.0.1:PORT

One client at a time, as pyserial's example server does; each connection opens the
port afresh. It lets an emulated machine's pty be reached the way a lab reaches a
machine on a terminal server, with the very client (``serial+rfc2217://``) the bench uses.

``unplug()`` and ``plug(path)`` are the machine behind the terminal server losing and
regaining power: the client stays connected to the server, as it would to a real
terminal server, but what it sends goes nowhere and nothing answers until a (freshly
booted) machine is plugged in again.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from typing import Any

import serial
import serial.rfc2217

log = logging.getLogger(__name__)
CHUNK = 4096


class Rfc2217Server:
    """Serves ``port`` (a path pyserial opens) on a TCP port over RFC 2217.

    ``tcp_port`` 0 takes a free one; ``pty=False`` for a real serial port (modem lines
    and breaks reach it; a pty has none).
    """

    def __init__(self, port: str, host: str = "127.0.0.1", tcp_port: int = 0,
                 pty: bool = True) -> None:
        self.port: str | None = port
        self._open = PtyPort if pty else serial.Serial  # a real port has real modem lines
        self._lock = threading.Lock()  # the serving loop's turn, or plug/unplug's
        self._session: _Session | None = None
        self._server = socket.create_server((host, tcp_port))
        self._server.settimeout(0.1)
        self.host, self.tcp_port = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"rfc2217://{self.host}:{self.tcp_port}"

    def __enter__(self) -> Rfc2217Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept, name=f"rfc2217 {self.url}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with client:
                self._serve(client)

    def plug(self, port: str) -> None:
        """Serve ``port`` from now on (the machine is back); a connected client reaches it."""
        with self._lock:
            self.port = port

    def unplug(self) -> None:
        """Close the served port now (the machine loses power); the client stays connected
        and reaches nothing until ``plug``. Returns once the port is closed, so the caller
        may stop what was behind it."""
        with self._lock:
            self.port = None
            if self._session is not None:
                self._session.follow(None)

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            session = self._session = _Session(client, self._open)
        try:
            while not self._stop.is_set():
                with self._lock:
                    session.follow(self.port)
                    if not session.pump(0.1):
                        return  # the client hung up; the next one gets a fresh session
        finally:
            with self._lock:
                session.follow(None)
                self._session = None


class _Session:
    """One client's RFC 2217 session and the port it reaches (none while unplugged)."""

    def __init__(self, client: socket.socket, open_port: type[serial.Serial]) -> None:
        self.client, self._open_port = client, open_port
        self.manager = serial.rfc2217.PortManager(_DarkPort(), _Sender(client))
        self.path: str | None = None

    def follow(self, path: str | None) -> None:
        """Open ``path`` (closing the port open before), or close it for ``None``."""
        if path == self.path:
            return
        if self.path is not None:
            self.manager.serial.close()
            self.manager.serial, self.path = _DarkPort(), None
        if path is not None:
            self.manager.serial, self.path = self._open_port(path, timeout=0), path

    def pump(self, wait: float) -> bool:
        """Carry what is ready either way; False once the client hung up."""
        port = self.manager.serial if self.path is not None else None
        watched: list[Any] = [self.client] + ([port.fileno()] if port is not None else [])
        ready, _, _ = select.select(watched, [], [], wait)
        if self.client in ready:
            data = self.client.recv(CHUNK)
            if not data:
                return False
            out = b"".join(self.manager.filter(data))
            if port is not None:
                port.write(out)
        if port is not None and port.fileno() in ready:
            with contextlib.suppress(OSError):
                self.client.sendall(b"".join(self.manager.escape(port.read(CHUNK))))
        self.manager.check_modem_lines()
        return True


class _DarkPort:
    """What an unplugged session talks to: it takes settings and bytes and says nothing."""

    baudrate, bytesize, parity, stopbits = 115200, 8, "N", 1
    rts = dtr = break_condition = True
    cts = dsr = ri = cd = False

    def write(self, data: bytes) -> int:
        return len(data)

    def reset_input_buffer(self) -> None:
        pass

    def reset_output_buffer(self) -> None:
        pass

    def close(self) -> None:
        pass


class PtyPort(serial.Serial):  # type: ignore[misc]  # pyserial ships no types
    """A pty as a serial port: it has no modem lines, so they read low and setting
    them does nothing (pyserial's ioctls for them fail on a pty)."""

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    def _update_break_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return False

    @property
    def dsr(self) -> bool:
        return False

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return False


class _Sender:
    """What ``PortManager`` writes its negotiation answers to: the client socket."""

    def __init__(self, client: socket.socket) -> None:
        self._client = client

    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self._client.sendall(data)


__all__ = ["PtyPort", "Rfc2217Server"]
