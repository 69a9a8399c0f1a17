"""The machine's own cloud, played by the bench, for connections the lab passes through sealed.

A machine that validates certificates refuses the lab's front door, so nothing
it sends is seen but its handshake. To measure what it would send, a lab lets
its TLS through to the real cloud and watches the records go by. Here the bench
plays that cloud: a TLS server whose certificates come from a "maker" CA the
emulated firmware trusts (``--trust``), answering MQTT on a mosquitto of its own
and HTTP on an endpoint that keeps nothing, so what it reads never reaches the
capture. The lab network sees only the sealed records: their lengths and times.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from ..uplink.servers import HttpEndpoint, Mosquitto
from .intercept import Connection, Interceptor, Upstream
from .lab_ca import LabCA

MAX_HOSTS = 64


class MakerCloud:
    """A stand-in for the maker's cloud on 127.0.0.1; a context manager.

    ``ca_file`` is what the emulated firmware trusts; ``passthrough`` is what a
    ``LabNetwork`` passes sealed connections to.
    """

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="brewbench-maker-"))
        self.ca = LabCA(self._root / "ca")
        self._broker = Mosquitto(self._root / "mosquitto")
        self._endpoint = HttpEndpoint(lambda _request: None)  # the maker's, not the bench's
        # One listener per host the machine dials: a server a machine reaches by its
        # address presents a certificate for that address, and the address is lost
        # once the lab has passed the connection on.
        self._servers: dict[str, Interceptor] = {}
        self._lock = threading.Lock()

    @property
    def ca_file(self) -> Path:
        return self.ca.ca_file

    def start(self) -> None:
        self._broker.start()
        self._endpoint.start()

    def stop(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()
        self._endpoint.stop()
        self._broker.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> MakerCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def passthrough(self) -> Upstream:
        """Every TLS connection goes to this cloud, to the listener for its host."""
        def to_cloud(_protocol: str, host: str) -> tuple[str, int] | None:
            with self._lock:
                server = self._servers.get(host)
                if server is None:
                    if len(self._servers) >= MAX_HOSTS:
                        return None  # the front door meets the rest
                    server = self._servers[host] = Interceptor(
                        None, self.ca, self._upstream, lambda _address: host, _ignore, _ignore)
                    server.start()
            return ("127.0.0.1", server.port)
        return to_cloud

    def _upstream(self, protocol: str, _host: str) -> tuple[str, int] | None:
        if protocol == "mqtt":
            return self._broker.address
        return self._endpoint.address if protocol == "http" else None


def _ignore(_connection: Connection) -> None:
    return


__all__ = ["MakerCloud"]
