"""A real ``ser2net`` (Debian's terminal server) exposing one serial port over RFC 2217.

    with Ser2net("/dev/pts/4", tmp_path) as server:
        print(server.spec)     # serial+rfc2217://127.0.0.1:PORT?ign_set_control

Labs reach machines through terminal servers like this one; the tests put an emulated
machine's pty behind it. ser2net cannot set modem lines on a pty, so clients must not
wait for it to confirm them: pyserial's ``ign_set_control`` option.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from ..drivers.errors import BrewbenchError
from .influx.servers import free_port

CONFIG = """\
connection: &bench
  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}
  connector: serialdev,{device},115200n81,local
  options:
    kickolduser: true
"""


class Ser2netError(BrewbenchError, RuntimeError):
    """ser2net did not start."""


class Ser2net:
    """One ser2net process serving ``device`` on a free loopback port.

    Raises:
        FileNotFoundError: ser2net is not installed (naming the package).
    """

    def __init__(self, device: str, root: Path) -> None:
        exe = shutil.which("ser2net")
        if exe is None:
            raise FileNotFoundError("ser2net is not on PATH; install it (Debian: apt-get install "
                                    "ser2net)")
        self.port, self.root = free_port(), root
        root.mkdir(parents=True, exist_ok=True)
        config = root / "ser2net.yaml"
        config.write_text(CONFIG.format(port=self.port, device=device))
        self.command = [exe, "-n", "-d", "-c", str(config), "-P", str(root / "ser2net.pid")]
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def spec(self) -> str:
        return f"serial+rfc2217://127.0.0.1:{self.port}?ign_set_control"

    def __enter__(self) -> Ser2net:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        """Start ser2net and wait until its port accepts connections."""
        self._log = (self.root / "ser2net.log").open("ab")
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise Ser2netError(f"ser2net exited with {self.process.returncode}; see "
                                   f"{self.root / 'ser2net.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise Ser2netError(f"ser2net did not listen on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


__all__ = ["Ser2net", "Ser2netError"]
