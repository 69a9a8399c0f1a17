"""The emulated firmware's cloud client: MQTT publishes and HTTP POSTs, queued and retried.

What a machine sends home goes through ``Uplink.send``: each route of the firmware's
profile (emulator/uplink_profiles.py) gets the message, encoded its own way, and
a background thread delivers the queue in order with paho-mqtt or http.client.
While the cloud is unreachable the queue grows and delivery is retried with
backoff; nothing is dropped, as a real machine's store-and-forward would.

The machine reaches its cloud through ``resolve(host, protocol) -> (address, port)``,
the emulated device's DNS: the bench answers every name with its own broker or
endpoint, as a lab points a real machine's DNS at a bench access point.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .uplink_formats import CONTENT_TYPES, encode
from .uplink_profiles import MQTT, Route, UplinkProfile

Resolve = Callable[[str, str], tuple[str, int]]
RETRY_MIN_S = 0.05
RETRY_MAX_S = 0.5
SEND_TIMEOUT_S = 2.0


class CloudLink(Protocol):
    """What a machine's cloud connection offers the firmware (``Uplink``, or the lab
    firmware's ``CloudClient`` in emulator/cloud_client.py)."""

    profile: UplinkProfile

    def send(self, kind: str, body: dict[str, Any]) -> None: ...

    def flush(self) -> None: ...

    def drain(self, timeout: float) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    """One message waiting for delivery."""

    route: Route
    target: str
    payload: bytes


class Uplink:
    """The cloud connection of one emulated machine; ``start`` before ``send``."""

    def __init__(self, profile: UplinkProfile, serial: str, firmware: str,
                 resolve: Resolve) -> None:
        self.profile, self.serial, self.firmware = profile, serial, firmware
        self.resolve = resolve
        self.delivered = 0
        self.failed_attempts = 0
        self._queue: deque[Outgoing] = deque()
        self._batches: dict[Route, list[dict[str, Any]]] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._mqtt: dict[str, mqtt.Client] = {}
        self._ids = itertools.count(1)

    # -- the firmware's side ----------------------------------------------------

    def send(self, kind: str, body: dict[str, Any]) -> None:
        """Queue ``body`` on every route of ``kind`` (batched routes wait for a full batch)."""
        message = {"kind": kind, "serial": self.serial, "msg_id": next(self._ids), **body}
        with self._cond:
            for route in self.profile.routes_for(kind):
                if route.batch == 1:
                    self._enqueue(route, message)
                    continue
                batch = self._batches.setdefault(route, [])
                batch.append(message)
                if len(batch) >= route.batch:
                    self._enqueue(route, self._batches.pop(route))

    def flush(self) -> None:
        """Queue the partial batches too (the firmware does so when asked to sync)."""
        with self._cond:
            for route in list(self._batches):
                self._enqueue(route, self._batches.pop(route))

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def drain(self, timeout: float) -> bool:
        """Wait until everything queued was delivered; False when ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue, timeout)

    # -- lifetime ---------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emulator-uplink", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5.0)
        for client in self._mqtt.values():
            client.disconnect()
            client.loop_stop()
        self._mqtt.clear()

    # -- delivery -----------------------------------------------------------------

    def _enqueue(self, route: Route, body: Any) -> None:
        target = route.target.format(serial=self.serial)
        self._queue.append(Outgoing(route, target, encode(route.encoding, body)))
        self._cond.notify_all()

    def _run(self) -> None:
        backoff = RETRY_MIN_S
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                head = self._queue[0]
            if self._deliver(head):
                backoff = RETRY_MIN_S
                with self._cond:
                    self._queue.popleft()
                    self.delivered += 1
                    self._cond.notify_all()
                continue
            self.failed_attempts += 1
            with self._cond:  # back off, but wake at once to stop
                self._cond.wait_for(lambda: self._stopping, backoff)
            backoff = min(backoff * 2, RETRY_MAX_S)

    def _deliver(self, item: Outgoing) -> bool:
        try:
            if item.route.protocol == MQTT:
                return self._publish(item)
            return self._post(item)
        except (OSError, ValueError, RuntimeError, http.client.HTTPException):
            return False  # unreachable or refused: stays queued, retried

    def _publish(self, item: Outgoing) -> bool:
        client = self._mqtt_client(item.route.host)
        if not client.is_connected():
            return False
        info = client.publish(item.target, item.payload, item.route.qos, item.route.retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        info.wait_for_publish(SEND_TIMEOUT_S)
        return info.is_published()

    def _mqtt_client(self, host: str) -> mqtt.Client:
        client = self._mqtt.get(host)
        if client is None:
            address, port = self.resolve(host, MQTT)
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cm-{self.serial}",
                                 protocol=mqtt.MQTTv311)
            client.reconnect_delay_set(RETRY_MIN_S, RETRY_MAX_S)  # type: ignore[arg-type]
            client.connect_async(address, port, keepalive=10)
            client.loop_start()
            self._mqtt[host] = client
        return client

    def _post(self, item: Outgoing) -> bool:
        address, port = self.resolve(item.route.host, "http")
        connection = http.client.HTTPConnection(address, port, timeout=SEND_TIMEOUT_S)
        headers = {"Host": item.route.host, "Content-Type": CONTENT_TYPES[item.route.encoding],
                   "User-Agent": f"CM-500/{self.firmware}"}
        if item.route.encoding.endswith("+gzip"):
            headers["Content-Encoding"] = "gzip"
        try:
            connection.request("POST", item.target, item.payload, headers)
            response = connection.getresponse()
            response.read()
            return 200 <= response.status < 300
        finally:
            connection.close()


__all__ = ["CloudLink", "Outgoing", "Resolve", "Uplink"]
