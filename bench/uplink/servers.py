"""The bench's cloud: a real ``mosquitto`` broker and a local HTTP endpoint.

``Mosquitto`` runs Debian's broker from PATH with a config of its own on a free
localhost port; it keeps its sessions on disk, so a bench subscriber's queue
survives the broker being stopped and started again on the same port (how the
tests take the cloud away). ``HttpEndpoint`` accepts every request and hands it,
before answering, to a callback: once a device has its answer, the bench has the record.

Both are bounded against a hostile device: the broker refuses a packet over
``MAX_MESSAGE`` (it cuts the client off and logs it: ``oversize_disconnects``
counts those lines), keeps at most ``max_queued_messages`` for a slow subscriber
(and counts what it drops in ``$SYS``); the endpoint serves at most
``MAX_CONNECTIONS`` at once, drops a connection idle for ``IDLE_S`` and answers
a body length that is not a number in range with one status line.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..influx.servers import LocalServer, ServerError, _binary, free_port

MOSQUITTO = "mosquitto"
MAX_BODY = 4 * 1024 * 1024  # a hostile device cannot make the endpoint read without end
MAX_MESSAGE = MAX_BODY + 64 * 1024  # an MQTT packet: a MAX_BODY payload, its topic and header
MAX_CONNECTIONS = 64  # at once, on the endpoint; more are closed at accept
IDLE_S = 10.0  # a connection that sends nothing this long is closed (slowloris)
MAX_QUEUED = 100_000  # messages the broker holds for the bench's subscriber while it is slow
OVERSIZE = "disconnected due to oversize packet"  # mosquitto's log line for one

MOSQUITTO_CONFIG = """\
per_listener_settings false
allow_anonymous true
listener {port} 127.0.0.1
persistence true
persistence_location {root}/
autosave_interval 0
max_queued_messages {max_queued}
max_queued_bytes 268435456
max_inflight_messages 100
max_packet_size {max_message}
message_size_limit {max_message}
max_connections 256
sys_interval 1
user root
log_dest file {root}/mosquitto.log
log_type error
log_type warning
log_type notice
"""


def _dies_with_parent() -> list[str]:
    """A prefix that makes the broker die (SIGKILL, so it writes no database with the
    device's retained values) when the bench's thread that started it dies, even by
    SIGKILL (util-linux ``setpriv``; PR_SET_PDEATHSIG survives the exec)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


class Mosquitto(LocalServer):
    """A local MQTT broker; ``address`` is its (host, port), ``log_path`` its log.

    ``max_queued`` bounds what it queues for a slow subscriber (past it, it drops
    and counts the drops in ``$SYS``; the uplink tap reports them).
    """

    def __init__(self, root: Path, binary: str | None = None,
                 max_queued: int = MAX_QUEUED) -> None:
        exe = _binary(binary or MOSQUITTO)
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = root / "mosquitto.conf"
        config.write_text(MOSQUITTO_CONFIG.format(port=self.port, root=root,
                                                  max_message=MAX_MESSAGE, max_queued=max_queued))
        self.log_path = root / "mosquitto.log"
        super().__init__("mosquitto", [*_dies_with_parent(), exe, "-c", str(config)],
                         f"mqtt://127.0.0.1:{self.port}", "", root)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

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
        self._server = _BoundedServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def refused(self) -> int:
        """Connections closed at accept because ``MAX_CONNECTIONS`` were open."""
        return self._server.refused

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return (str(host), int(port))

    def start(self) -> None:
        # A short poll so that stop() returns at once (shutdown waits for the next poll).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="uplink-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever that never ran
            self._server.shutdown()
            self._thread.join(5.0)
            self._thread = None
        self._server.server_close()


class _BoundedServer(ThreadingHTTPServer):
    """At most ``MAX_CONNECTIONS`` handler threads; a connection past them is closed at
    once, and a handler's failure is its connection's end, never a traceback."""

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.refused = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a device that breaks its own connection is the capture's business


def oversize_disconnects(log: Path | None) -> int:
    """How many clients the broker cut off for a packet over its limit (from its log)."""
    if log is None:
        return 0
    try:
        with log.open("rb") as lines:
            return sum(1 for line in lines if OVERSIZE.encode() in line)
    except OSError:
        return 0


def _handler(endpoint: HttpEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        timeout = IDLE_S

        def _any(self) -> None:
            if (self.headers.get("Transfer-Encoding") or "").strip().lower() == "chunked":
                body = self._chunked()
            else:
                body = self._sized()
            if body is None:
                return  # answered with the error already
            endpoint.on_request(HttpRequest(
                self.command, self.headers.get("Host", ""), self.path,
                {k.lower(): v for k, v in self.headers.items()}, body, self.client_address[0]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _sized(self) -> bytes | None:
            text = (self.headers.get("Content-Length") or "0").strip()
            if not text.isdigit():
                self.send_error(400, "Content-Length is not a number")
                return None
            if int(text) > MAX_BODY:
                self.send_error(413)
                return None
            return self.rfile.read(int(text))

        def _chunked(self) -> bytes | None:
            """A chunked body (how many HTTP clients of embedded SDKs send), read chunk by
            chunk up to MAX_BODY in all."""
            parts: list[bytes] = []
            total = 0
            while True:
                field = self.rfile.readline(66).split(b";")[0].strip()
                if not field or len(field) > 16 or field.strip(b"0123456789abcdefABCDEF"):
                    self.send_error(400, "chunk size is not a size")
                    return None
                size = int(field, 16)
                total += size
                if total > MAX_BODY:
                    self.send_error(413)
                    return None
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailer fields, up to the blank line
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.read(2)  # the CRLF after each chunk

        do_POST = do_PUT = do_GET = _any

        def log_message(self, format: str, *args: object) -> None:
            return  # the capture is the log

    return Handler


__all__ = ["MAX_BODY", "MAX_CONNECTIONS", "MAX_MESSAGE", "MOSQUITTO", "HttpEndpoint",
           "HttpRequest", "Mosquitto", "oversize_disconnects"]
