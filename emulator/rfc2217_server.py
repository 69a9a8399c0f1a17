"""A serial port served over RFC 2217 by pyserial's own server side (``PortManager``).

    with Rfc2217Server("/dev/pts/4") as server:
        print(server.url)          # rfc2217://127.0.0.1:PORT

One client at a time, as pyserial's example server does; each connection opens the
port afresh. It lets an emulated machine's pty be reached the way a lab reaches a
machine on a terminal server, with the very client (``serial+rfc2217://``) the bench uses.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading

import serial
import serial.rfc2217

log = logging.getLogger(__name__)
CHUNK = 4096


class Rfc2217Server:
    """Serves ``port`` (a path pyserial opens) on a loopback TCP port over RFC 2217."""

    def __init__(self, port: str, host: str = "127.0.0.1") -> None:
        self.port = port
        self._server = socket.create_server((host, 0))
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

    def _serve(self, client: socket.socket) -> None:
        with PtyPort(self.port, timeout=0) as port:
            manager = serial.rfc2217.PortManager(port, _Sender(client))
            while not self._stop.is_set():
                ready, _, _ = select.select([client, port.fileno()], [], [], 0.1)
                if client in ready:
                    data = client.recv(CHUNK)
                    if not data:
                        return  # the client hung up; the next one gets a fresh session
                    port.write(b"".join(manager.filter(data)))
                if port.fileno() in ready:
                    with contextlib.suppress(OSError):
                        client.sendall(b"".join(manager.escape(port.read(CHUNK))))
                manager.check_modem_lines()


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
