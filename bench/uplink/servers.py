"""The bench's cloud: a real ``mosquitto`` broker and a local HTTP endpoint.

``Mosquitto`` runs Debian's broker from PATH with a config of its own on a free
localhost port; it keeps its sessions on disk, so a bench subscriber's queue
survives the broker being stopped and started again on the same port (how the
tests take the cloud away). ``HttpEndpoint`` accepts every request and hands it,
before answering, to a callback: once a device has its answer, the bench has the record.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..influx.servers import LocalServer, ServerError, _binary, free_port

MOSQUITTO = "mosquitto"
MAX_BODY = 4 * 1024 * 1024  # a hostile device cannot make the endpoint read without end

MOSQUITTO_CONFIG = """\
per_listener_settings false
allow_anonymous true
listener {port} 127.0.0.1
persistence true
persistence_location {root}/
autosave_interval 0
max_queued_messages 100000
max_inflight_messages 100
user root
log_dest file {root}/mosquitto.log
log_type error
log_type warning
"""


class Mosquitto(LocalServer):
    """A local MQTT broker; ``address`` is its (host, port)."""

    def __init__(self, root: Path, binary: str | None = None) -> None:
        exe = _binary(binary or MOSQUITTO)
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = root / "mosquitto.conf"
        config.write_text(MOSQUITTO_CONFIG.format(port=self.port, root=root))
        super().__init__("mosquitto", [exe, "-c", str(config)], f"mqtt://127.0.0.1:{self.port}",
                         "", root)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def _wait_ready(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(f"mosquitto exited with {self.process.returncode}: "
                                  f"{self.log_tail()}")
            try:
                socket.create_connection(self.address, 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError(f"mosquitto did not listen on port {self.port} within {timeout:.0f} s")


@dataclass(frozen=True)
class HttpRequest:
    """One request a device made to the bench's endpoint."""

    method: str
    host: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: str


class HttpEndpoint:
    """A local HTTP endpoint that answers 200 to everything and reports each request."""

    def __init__(self, on_request: Callable[[HttpRequest], None]) -> None:
        self.on_request = on_request
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return (str(host), int(port))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="uplink-http",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever that never ran
            self._server.shutdown()
            self._thread.join(5.0)
            self._thread = None
        self._server.server_close()


def _handler(endpoint: HttpEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY:
                self.send_error(413)
                return
            body = self.rfile.read(length)
            endpoint.on_request(HttpRequest(
                self.command, self.headers.get("Host", ""), self.path,
                {k.lower(): v for k, v in self.headers.items()}, body, self.client_address[0]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = do_GET = _any

        def log_message(self, format: str, *args: object) -> None:
            return  # the capture is the log

    return Handler


__all__ = ["MOSQUITTO", "HttpEndpoint", "HttpRequest", "Mosquitto"]
