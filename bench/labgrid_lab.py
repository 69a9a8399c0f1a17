"""A labgrid lab on this host: a real ``labgrid-coordinator`` and ``labgrid-exporter``.

    with Coordinator(tmp_path / "coordinator") as coordinator:
        config = exporter_config("lobby", serial=("127.0.0.1", 4000))
        with Exporter(coordinator, "bench-host", config, tmp_path / "exporter"):
            coordinator.create_place("lobby", "bench-host/lobby/*")
            # labgrid://lobby?coordinator=<coordinator.address> now reaches the machine

Used by the tests and by anyone trying the labgrid setup of docs/hardware.md without a
lab. Both run labgrid's own programs (``python -m labgrid.remote.coordinator`` and
``...exporter``, the modules behind ``labgrid-coordinator`` and ``labgrid-exporter``) on
free localhost ports, each in a folder of its own (the coordinator keeps its places
there, in ``places.yaml``).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from .influx.servers import LocalServer, ServerError, free_port
from .labgrid_client import LabgridClient, LabgridError

__all__ = ["Coordinator", "Exporter", "ServedMachine", "exporter_config"]


class Coordinator(LocalServer):
    """A labgrid coordinator; ``address`` is its ``HOST:PORT`` (a spec's ``coordinator=``).

    Raises:
        FileNotFoundError: labgrid is not installed.
    """

    def __init__(self, root: Path) -> None:
        _need_labgrid()
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        super().__init__("labgrid-coordinator",
                         [sys.executable, "-m", "labgrid.remote.coordinator", "-l", self.address],
                         f"grpc://{self.address}", "", root)
        self.client = LabgridClient(self.address, f"coordinator {self.address}")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Coordinator:
        self.start()
        return self

    def _wait_ready(self, timeout: float) -> None:
        _wait_listening(self, ("127.0.0.1", self.port), timeout)

    def create_place(self, name: str, *matches: str) -> None:
        """A place ``name`` holding the resources ``matches`` name (``exporter/group/class``)."""
        self.client.run(name, "create")
        self.client.run(name, "add-match", *matches)

    def resources(self) -> str:
        """``labgrid-client resources``: one ``exporter/group/class`` a line."""
        return self.client.run(None, "resources")

    def holder(self, place: str) -> str | None:
        """Who holds ``place`` (labgrid's ``host/user``), None when nobody does."""
        for line in self.client.run(place, "show").splitlines():
            key, _, value = line.strip().partition(": ")
            if key == "acquired":
                return None if value == "None" else value
        return None


class Exporter(LocalServer):
    """A labgrid exporter named ``name`` exporting the resources of ``config`` (YAML)."""

    def __init__(self, coordinator: Coordinator, name: str, config: str, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        path = root / "exporter.yaml"
        path.write_text(config, encoding="utf-8")
        self.coordinator, self.exporter_name = coordinator, name
        super().__init__("labgrid-exporter",
                         [sys.executable, "-m", "labgrid.remote.exporter", "-c", coordinator.address,
                          "-n", name, "--hostname", "127.0.0.1", str(path)],
                         f"grpc://{coordinator.address}", "", root)

    def __enter__(self) -> Exporter:
        self.start()
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Ready once the coordinator lists a resource of this exporter (before that a
        place's match has nothing to match)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(f"labgrid-exporter exited with {self.process.returncode}: "
                                  f"{self.log_tail()}")
            try:
                if f"{self.exporter_name}/" in self.coordinator.resources():
                    return
            except LabgridError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"labgrid-exporter {self.exporter_name} did not register within "
                          f"{timeout:.0f} s: {self.log_tail()}")


class ServedMachine:
    """``brewbench serve --power-switch 0`` in a process of its own: an emulated machine
    over RFC 2217 (``spec``, ``address``) and the simplerest switch that powers it
    (``switch``, a NetworkPowerPort's host); ``root`` holds its runtime files.

    Raises:
        ServerError: it did not print its spec and switch.
    """

    def __init__(self, root: Path, serial: str) -> None:
        env = {**os.environ, "XDG_RUNTIME_DIR": str(root)}
        self.proc = subprocess.Popen([sys.executable, "-m", "brewbench", "serve", "--serial", serial,
                                      "--power-switch", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                     env=env)
        assert self.proc.stdout is not None
        self.spec = self.switch = ""
        for line in self.proc.stdout:  # ends with "Ctrl-C stops it.", or when it exits
            key, _, value = line.partition(": ")
            if key == "device spec":
                self.spec = value.strip()
            elif key == "power switch":
                self.switch = value.split()[0]
            elif line.startswith("Ctrl-C"):
                break
        if not (self.spec and self.switch):
            self.stop()
            said = self.proc.stderr.read() if self.proc.stderr else ""
            raise ServerError(f"brewbench serve did not start: {said.strip()}")

    @property
    def address(self) -> tuple[str, int]:
        """Host and TCP port of its RFC 2217 server (a NetworkSerialPort's host and port)."""
        host, _, port = self.spec.removeprefix("serial+rfc2217://").partition(":")
        return host, int(port.split("?")[0])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def exporter_config(group: str, serial: tuple[str, int], speed: int = 115200,
                    power: str | None = None, power_index: int = 0) -> str:
    """An exporter config with one group: the machine's RFC 2217 port as a
    ``NetworkSerialPort`` and, with ``power`` (a ``simplerest`` URL), its
    ``NetworkPowerPort``."""
    host, port = serial
    text = (f"{group}:\n  NetworkSerialPort:\n    host: {host}\n    port: {port}\n"
            f"    speed: {speed}\n")
    if power is not None:
        text += (f"  NetworkPowerPort:\n    model: simplerest\n    host: '{power}'\n"
                 f"    index: {power_index}\n")
    return text


def _need_labgrid() -> None:
    if importlib.util.find_spec("labgrid") is None:
        raise FileNotFoundError("labgrid is not installed; pip install 'brewbench[labgrid]'")


def _wait_listening(server: LocalServer, address: tuple[str, int], timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert server.process is not None
        if server.process.poll() is not None:
            raise ServerError(f"{server.name} exited with {server.process.returncode}: "
                              f"{server.log_tail()}")
        try:
            socket.create_connection(address, 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise ServerError(f"{server.name} did not listen on {address[0]}:{address[1]} within "
                      f"{timeout:.0f} s")
