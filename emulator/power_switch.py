"""An emulated network power switch that labgrid's ``simplerest`` power backend drives.

    switch = PowerSwitch({0: machine_outlet})       # outlet 0 powers the machine
    switch.start()
    switch.url     # http://127.0.0.1:PORT/relay/{index}/{value}: the NetworkPowerPort's host

The protocol is the one of labgrid's ``simplerest`` model (labgrid/driver/power/
simplerest.py): ``GET /relay/INDEX/1`` switches outlet INDEX on, ``/relay/INDEX/0`` off,
``GET /relay/INDEX`` answers ``1`` or ``0``. Each outlet is a callable taking the new
state: switching it really powers what hangs on it off or on (``brewbench serve
--power-switch`` hangs its emulated machine on outlet 0).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

__all__ = ["PowerSwitch", "PoweredMachine"]

Outlet = Callable[[bool], None]


class _Served(Protocol):
    """An emulated machine on a pty (``Emulator``, ``JuraEmulator``)."""

    @property
    def url(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class _Server(Protocol):
    def plug(self, port: str) -> None: ...

    def unplug(self) -> None: ...


class PoweredMachine:
    """An emulated machine that can lose power: off stops it, on boots a fresh one.

    ``boot(serial)`` makes a machine (not started); every machine booted after the first
    keeps the first one's serial number, as a real machine keeps its own. A context
    manager: it boots the first on entry and stops whichever runs on exit.
    """

    def __init__(self, boot: Callable[[str | None], _Served], serial: str | None = None) -> None:
        self._boot = boot
        self.current: _Served | None = boot(serial)
        machine = getattr(self.current, "machine", None)
        self.serial = getattr(machine, "serial", serial)

    @property
    def url(self) -> str:
        """The pty of the machine that runs now (the first one's before any power cycle)."""
        assert self.current is not None, "the machine is switched off"
        return self.current.url

    def __enter__(self) -> PoweredMachine:
        assert self.current is not None
        self.current.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None

    def outlet(self, server: _Server) -> Outlet:
        """What a switch's outlet does: power this machine behind ``server``'s port."""
        def switch(on: bool) -> None:
            if not on and self.current is not None:
                server.unplug()  # first, so the server never reads a pty that hung up
                self.current.stop()
                self.current = None
            elif on and self.current is None:
                self.current = self._boot(self.serial)
                self.current.start()
                server.plug(self.current.url)
        return switch


class PowerSwitch:
    """A switch with ``outlets`` (index -> what switching it does), all on at start."""

    def __init__(self, outlets: Mapping[int, Outlet], host: str = "127.0.0.1", port: int = 0) -> None:
        self.outlets = dict(outlets)
        self.state = dict.fromkeys(self.outlets, True)
        self.switched: list[tuple[int, bool]] = []  # what was asked, in order
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The ``host`` of a ``NetworkPowerPort`` of model ``simplerest``."""
        return f"http://{self.host}:{self.port}/relay/{{index}}/{{value}}"

    def __enter__(self) -> PowerSwitch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="power switch",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def switch(self, index: int, on: bool) -> None:
        """Switch outlet ``index`` (what a request does); switching to its state is a no-op."""
        with self._lock:
            self.switched.append((index, on))
            if self.state[index] != on:
                self.outlets[index](on)
                self.state[index] = on


def _handler(switch: PowerSwitch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) not in (2, 3) or parts[0] != "relay" or not parts[1].isdigit() \
                    or int(parts[1]) not in switch.outlets or parts[2:] not in ([], ["0"], ["1"]):
                self._answer(404, "no such outlet or value\n")
                return
            index = int(parts[1])
            if len(parts) == 3:
                switch.switch(index, parts[2] == "1")
            self._answer(200, "1" if switch.state[index] else "0")

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler
