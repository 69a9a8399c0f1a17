"""Throw-away local time-series servers: a real ``influxd`` or ``victoria-metrics``.

Used by the pytest fixtures (``fixtures/influx_servers.py``) and by ``benchmarks/influx_delivery.py``.
Each server runs from the binary on PATH, keeps its data in a folder of its own,
listens on 127.0.0.1 on free ports, and can be stopped, killed and restarted on
the same port and data, which is how the tests take a server away mid-run.

    with LocalServer.influxd(tmp_path) as server:
        print(server.url)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import urllib3

from ...drivers.errors import BrewbenchError

INFLUXD = "influxd"
VICTORIA = "victoria-metrics"

INFLUXD_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root}/meta"

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false

[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
"""


class ServerError(BrewbenchError, RuntimeError):
    """A local server did not start or stopped unexpectedly."""


class LocalServer:
    """One local server process; ``start`` waits until it answers.

    Args:
        name: what it is, for messages ("influxd", "victoria-metrics").
        command: the command line, already holding its ports and folders.
        url: its base URL.
        ready_path: the path that answers 2xx once it serves requests.
        root: its data folder; its log goes to ``root/server.log``.
    """

    def __init__(self, name: str, command: list[str], url: str, ready_path: str,
                 root: Path) -> None:
        self.name, self.command, self.url, self.root = name, command, url, root
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def influxd(cls, root: Path, binary: str | None = None) -> LocalServer:
        """An InfluxDB 1.x server (Debian's ``influxd``) in ``root``."""
        exe = _binary(binary or INFLUXD)
        port, rpc_port = free_port(), free_port()
        root.mkdir(parents=True, exist_ok=True)
        config = root / "influxd.conf"
        config.write_text(INFLUXD_CONFIG.format(root=root, port=port, rpc_port=rpc_port))
        return cls("influxd", [exe, "-config", str(config)], f"http://127.0.0.1:{port}",
                   "/ping", root)

    @classmethod
    def victoria_metrics(cls, root: Path, binary: str | None = None) -> LocalServer:
        """A VictoriaMetrics single-node server in ``root``."""
        exe = _binary(binary or VICTORIA)
        port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        command = [exe, f"-storageDataPath={root / 'data'}", f"-httpListenAddr=127.0.0.1:{port}",
                   "-retentionPeriod=100y", "-search.disableCache", "-loggerLevel=ERROR"]
        return cls("victoria-metrics", command, f"http://127.0.0.1:{port}", "/health", root)

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start the process (again, on the same port and data) and wait until it answers.

        Raises:
            ServerError: it exited or did not answer within ``timeout``.
        """
        if self.running:
            return
        self._log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.root)
        self._wait_ready(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop it gently (SIGTERM), then firmly."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """Take it away at once (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.stop()

    def _wait_ready(self, timeout: float) -> None:
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(1.0))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}; "
                                  f"see {self.root / 'server.log'}: {self.log_tail()}")
            try:
                if http.request("GET", self.url + self.ready_path).status < 300:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise ServerError(f"{self.name} did not answer {self.ready_path} within {timeout:.0f} s; "
                          f"see {self.root / 'server.log'}")

    def log_tail(self, lines: int = 5) -> str:
        path = self.root / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not on PATH; install it (Debian: apt-get install "
                                f"{'influxdb' if name == INFLUXD else name})")
    return found


__all__ = ["LocalServer", "ServerError", "free_port"]
