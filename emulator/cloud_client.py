"""A lab firmware's cloud client: each message delivered at once over its own connection.

For every route of its lab cloud (emulator/lab_clouds.py) the client looks the
host up with the firmware's own resolver (or dials a hard-coded address), opens
a TCP connection, wraps it in TLS as the firmware does (validating, accepting
anything, or pinning), and delivers: MQTT CONNECT/PUBLISH/DISCONNECT, or one
HTTP POST. Delivery happens before the machine answers the bench, so what an
action sends is on the wire before the action ends. A failed delivery is
counted (``failed``) and not retried: a lab firmware that refuses the lab's
certificate keeps its data, which is what the bench must show.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import socket
import ssl
from typing import Any

from . import mqtt_wire
from .dns_client import is_address, lookup
from .lab_clouds import MAKER_PIN, LabCloud
from .uplink_formats import CONTENT_TYPES, encode
from .uplink_profiles import MQTT, Route

CONNECT_TIMEOUT_S = 3.0


class PinMismatch(OSError):
    """The server's certificate is not the one the firmware pins."""


class CloudClient:
    """The cloud connection of one emulated machine on a lab network."""

    def __init__(self, cloud: LabCloud, serial: str, firmware: str, network_resolver: str,
                 trust: str | None = None) -> None:
        self.cloud, self.serial, self.firmware = cloud, serial, firmware
        self.trust = trust  # a CA file the validating firmware trusts besides the system's
        self.profile = cloud.profile
        self.resolver = cloud.resolver or network_resolver
        self.delivered = 0
        self.failed = 0
        self.last_error = ""
        self._ids = itertools.count(1)

    def start(self) -> None:
        return  # nothing runs in the background: delivery is synchronous

    def stop(self) -> None:
        return

    def flush(self) -> None:
        return  # nothing is batched

    def drain(self, timeout: float) -> bool:
        return True  # every message was delivered (or failed) before send returned

    def send(self, kind: str, body: dict[str, Any]) -> None:
        message = {"kind": kind, "serial": self.serial, "msg_id": next(self._ids), **body}
        for route in self.profile.routes_for(kind):
            try:
                self._deliver(route, encode(route.encoding, message))
                self.delivered += 1
            except (OSError, ValueError, http.client.HTTPException) as exc:
                self.failed += 1
                self.last_error = f"{route.host}: {exc}"[:200]

    def _deliver(self, route: Route, payload: bytes) -> None:
        target = route.target.format(serial=self.serial)
        with self._open(route.host, self.cloud.port(route.protocol)) as sock:
            if route.protocol == MQTT:
                mqtt_wire.deliver(sock, f"cm-{self.serial}", target, payload,
                                  next(self._ids) & 0xFFFF or 1, route.retain)
                return
            self._post(sock, route, target, payload)

    def _open(self, host: str, port: int) -> socket.socket:
        address = host if is_address(host) else lookup(host, self.resolver)
        sock = socket.create_connection((address, port), timeout=CONNECT_TIMEOUT_S)
        if self.cloud.tls == "plain":
            return sock
        try:
            secure = self._context().wrap_socket(sock, server_hostname=host)  # no SNI for an address
        except BaseException:
            sock.close()
            raise
        if self.cloud.tls == "pinned":
            self._check_pin(secure)
        return secure

    def _context(self) -> ssl.SSLContext:
        if self.cloud.tls == "validating":  # the maker's roots: the system's, and ``trust``
            return ssl.create_default_context(cafile=self.trust)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def _check_pin(self, secure: ssl.SSLSocket) -> None:
        der = secure.getpeercert(binary_form=True) or b""
        if hashlib.sha256(der).hexdigest() != MAKER_PIN:
            secure.close()
            raise PinMismatch("the server certificate is not the pinned one")

    def _post(self, sock: socket.socket, route: Route, target: str, payload: bytes) -> None:
        connection = http.client.HTTPConnection(route.host, timeout=CONNECT_TIMEOUT_S)
        connection.sock = sock  # already connected (and wrapped) by _open
        headers = {"Content-Type": CONTENT_TYPES[route.encoding], "User-Agent": f"CM-500/{self.firmware}"}
        if route.encoding.endswith("+gzip"):
            headers["Content-Encoding"] = "gzip"
        connection.request("POST", target, payload, headers)
        response = connection.getresponse()
        response.read()
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


__all__ = ["CloudClient", "PinMismatch"]
