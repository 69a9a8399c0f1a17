"""The bench's ear on a machine's cloud: every uplink message as a capture record.

An ``UplinkTap`` subscribes to everything on the bench's MQTT broker (paho-mqtt),
runs a local HTTP endpoint, and answers the device's name lookups (``resolve``)
with them, as a lab's DNS override does for a real machine. Each message becomes
one record on channel ``uplink`` per body it carries (a batch gives one per item):

    meta: protocol "mqtt", host (the name the device looked up), topic, qos, retain
          protocol "http", host (its Host header), path, method, content_type
          and, for both, encoding ("cbor+zlib batch") and batch [index, size]

The tap is an observer of the control connection: it attributes each uplink
record to the action running when the bench received it. At the end of an
action it first lets the uplink settle: an emulated device is asked to deliver
its queue, and a marker sent through the broker must come back, so a message
the device published during the action cannot arrive after the action closed.
A broker that goes away is reported as a gap in ``capture.meta["uplink"]["gaps"]``.

The device is an adversary here too (docs/reliability.md, "The uplink"):

- uplink records go through the capture's budget with a reserved share
  (``UPLINK_SHARE``), so a flood never pushes out the control link's records;
- the settle marker carries a secret of this tap's own (``brewbench-settle
  <secret> <n>``): anything else on ``brewbench/settle`` is the device's and is
  captured like any message, and no payload there can stop the subscriber;
- a message that cannot be recorded is one line in ``meta["uplink"]["errors"]``
  and the subscriber keeps running;
- messages the broker dropped (its ``$SYS`` counter of dropped publishes, and
  in its log the clients it cut off for an oversized packet) are said in
  ``meta["uplink"]["broker_dropped"]`` and ``["oversize_disconnects"]``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ...drivers.errors import shown
from ...drivers.records import Record, Stamp
from ..capture import IDLE, Capture
from .records import CHANNEL, keep_message
from .servers import HttpEndpoint, HttpRequest, oversize_disconnects

MARKER_TOPIC = "brewbench/settle"
DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
# "#" matches no topic that starts with "$" (MQTT 5.0, 4.7.2), and the big IoT clouds
# put their device topics there: AWS IoT ($aws/things/NAME/shadow/update), Azure IoT
# Hub ($iothub/...), Huawei IoTDA ($oc/devices/...), Baidu IoT Hub ($baidu/iot/...)
CLOUD_ROOTS = ("$aws", "$iothub", "$oc", "$baidu")
UPLINK_SHARE = 0.5  # of the capture's budget held for the uplink; the control link keeps the rest
MAX_ERRORS = 20  # lines kept about messages that could not be recorded; the rest are counted
SETTLE_S = 2.0
SESSION_S = 3600  # how long the broker keeps the bench's queue while it is away
GAP_SETTLE_S = 0.2  # while the broker is away, a device cannot deliver: do not wait long
MAX_SETTLE_S = 30.0  # how long a settle waits while a backlog is still arriving
Drain = Callable[[float], bool]


class UplinkTap:
    """Captures one device's uplink into a capture; ``start`` after ``bind``.

    Args:
        broker: (address, port) of the bench's MQTT broker, or None for HTTP only.
        settle_s: how long an action's end waits for the uplink to settle.
        quiet_s: for a real device (no ``drain``), also wait until the uplink was
            quiet this long, since its publishes may still be in flight.
    """

    def __init__(self, broker: tuple[str, int] | None, settle_s: float = SETTLE_S,
                 quiet_s: float = 0.0, broker_log: Path | None = None) -> None:
        self.broker, self.settle_s, self.quiet_s = broker, settle_s, quiet_s
        self.broker_log = broker_log  # where the broker logs the clients it cut off
        self.errors: list[str] = []
        self.error_count = 0
        self.broker_dropped = 0
        self.unsettled = 0  # settles whose marker never came back: the capture may lack messages
        self.foreign_markers = 0  # messages on MARKER_TOPIC that were not this tap's
        self.oversize = 0  # clients the broker cut off for an oversized packet (its log, at stop)
        self._dropped_base: int | None = None
        self._secret = secrets.token_hex(16).encode()  # the device cannot forge a marker
        self.capture: Capture | None = None
        self.drain: Drain | None = None
        self.lookups: dict[str, dict[str, int]] = {"mqtt": {}, "http": {}}
        self.gaps: list[dict[str, Any]] = []
        self.messages = 0
        self._current = IDLE
        self._lock = threading.Lock()
        self._heard = threading.Condition()
        self._last_heard_ns = 0
        self._marker = 0
        self._marker_seen = 0
        self._seq = 0
        self._mqtt_host = ""  # the name the device last looked up for MQTT
        self._connected_once = False
        self._endpoint = HttpEndpoint(self._on_request)
        self._client: mqtt.Client | None = None
        self._stopping = False
        self._subscribed = False

    # -- wiring -----------------------------------------------------------------

    def bind(self, capture: Capture, drain: Drain | None = None) -> None:
        """Record into ``capture``; ``drain(timeout)`` delivers an emulated device's queue."""
        self.capture, self.drain = capture, drain
        capture.reserve(CHANNEL, UPLINK_SHARE)

    def resolve(self, host: str, protocol: str) -> tuple[str, int]:
        """The device's DNS: every name points at the bench's broker or endpoint."""
        with self._lock:
            names = self.lookups.setdefault(protocol, {})
            names[host] = names.get(host, 0) + 1
            if protocol == "mqtt":
                self._mqtt_host = host
        if protocol == "mqtt":
            if self.broker is None:
                raise OSError(f"{host}: the bench runs no MQTT broker")
            return self.broker
        return self._endpoint.address

    def start(self, timeout: float = 10.0) -> None:
        """Start the endpoint and subscribe to everything on the broker.

        Raises:
            TimeoutError: the broker did not accept the subscription within ``timeout``.
        """
        self._endpoint.start()
        if self.broker is None:
            return
        subscribed = threading.Event()
        # MQTT 5: a session that outlives the connection (the broker queues for the bench
        # while it is away) and retain flags as the device published them.
        client = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=f"brewbench-tap-{secrets.token_hex(4)}",
                             protocol=mqtt.MQTTv5)
        client.reconnect_delay_set(0.05, 0.5)  # type: ignore[arg-type]
        client.on_connect = lambda c, _u, _f, _rc, _p: self._connected(c)
        client.on_subscribe = lambda *_args: self._subscribed_now(subscribed)
        client.on_disconnect = lambda *_args: self._disconnected()
        client.on_message = lambda _c, _u, message: self._on_message(message)
        session = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        session.SessionExpiryInterval = SESSION_S
        client.connect_async(*self.broker, keepalive=5, clean_start=False, properties=session)
        client.loop_start()
        self._client = client
        if not subscribed.wait(timeout):
            self.stop()
            raise TimeoutError(f"the MQTT broker at {self.broker[0]}:{self.broker[1]} did not "
                               f"accept a subscription within {timeout:.0f} s")

    def stop(self) -> None:
        if self._client is not None and self._client.is_connected():
            self._round_trip()  # what the device sent after its last action, too
        self._stopping = True
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self._endpoint.stop()
        self.oversize = oversize_disconnects(self.broker_log)  # once: the log only grows
        self._publish_meta()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the subscriber is connected to the broker (after a gap); False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._client is not None and self._client.is_connected() and self._subscribed:
                return True
            time.sleep(0.02)
        return False

    @property
    def endpoint(self) -> tuple[str, int]:
        """Where the bench's HTTP endpoint listens: what a real machine's cloud URL must
        point at (bound from the start; served once ``start`` ran)."""
        return self._endpoint.address

    # -- Observer (of the control connection) ---------------------------------------

    def record(self, record: Record) -> None:
        return  # control-link records are the capture's business

    def action_started(self, action: str, stamp: Stamp) -> None:
        with self._lock:
            self._current = action

    def action_ended(self, action: str, stamp: Stamp, outcome: str, detail: str) -> None:
        self.settle()
        with self._lock:
            self._current = IDLE

    def settle(self) -> None:
        """Wait until what the device sent so far has reached the capture (bounded)."""
        gap = bool(self.gaps) and "up_wall_ns" not in self.gaps[-1]
        if self.drain is not None:
            self.drain(GAP_SETTLE_S if gap else self.settle_s)
        if self._client is not None and not gap:
            self._round_trip()
        if self.drain is None and self.quiet_s > 0:
            self._wait_quiet()

    # -- incoming ---------------------------------------------------------------------

    def _connected(self, client: mqtt.Client) -> None:
        everything = SubscribeOptions(qos=1, retainAsPublished=True)
        client.subscribe([("#", everything), *((f"{root}/#", everything) for root in CLOUD_ROOTS),
                          (DROPPED_TOPIC, SubscribeOptions(qos=0))])
        if self._connected_once and self.gaps and "up_wall_ns" not in self.gaps[-1]:
            self.gaps[-1]["up_wall_ns"] = Stamp.now().wall_ns
            self._publish_meta()
        self._connected_once = True

    def _subscribed_now(self, done: threading.Event) -> None:
        self._subscribed = True
        done.set()

    def _disconnected(self) -> None:
        self._subscribed = False
        if self._stopping or self._client is None:
            return  # our own stop
        with self._lock:
            action = self._current
        self.gaps.append({"what": "mqtt broker unreachable", "action": action,
                          "down_wall_ns": Stamp.now().wall_ns})
        self._publish_meta()

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        try:
            self._mqtt(message)
        except Exception as exc:  # a hostile message never stops the subscriber
            self._error(f"message on {shown(message.topic)} not recorded: "
                        f"{type(exc).__name__}: {shown(str(exc))}")

    def _mqtt(self, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        if message.topic == DROPPED_TOPIC:
            self._broker_counter(payload)
            return
        if message.topic == MARKER_TOPIC:
            if self._is_marker(payload):
                return
            with self._lock:
                self.foreign_markers += 1  # the device's, on the bench's own topic: said
            self._publish_meta()
        meta = {"protocol": "mqtt", "host": self._mqtt_host,
                "topic": message.topic, "qos": message.qos, "retain": bool(message.retain)}
        self._add(payload, meta)

    def _marker_payload(self, marker: int) -> bytes:
        return b"brewbench-settle " + self._secret + b" " + str(marker).encode()

    def _is_marker(self, payload: bytes) -> bool:
        """Only the tap's own markers (they carry its secret) settle anything."""
        prefix = self._marker_payload(0)[:-1]
        number = payload[len(prefix):]
        if not payload.startswith(prefix) or not number.isdigit() or len(number) > 12:
            return False
        with self._heard:
            self._marker_seen = max(self._marker_seen, int(number))
            self._heard.notify_all()
        return True

    def _broker_counter(self, payload: bytes) -> None:
        """The broker's count of publishes it dropped (for a slow subscriber, a full queue)
        since it started: what this tap was here to see is what it gained since then."""
        if not payload.isdigit() or len(payload) > 18:
            return
        value = int(payload)
        with self._lock:
            if self._dropped_base is None:
                self._dropped_base = value
            self.broker_dropped = max(self.broker_dropped, value - self._dropped_base)
        self._publish_meta()

    def _error(self, line: str) -> None:
        with self._lock:
            self.error_count += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(line)

    def _on_request(self, request: HttpRequest) -> None:
        try:
            self._http(request)
        except Exception as exc:  # a hostile request never stops the endpoint
            self._error(f"request {shown(request.method)} {shown(request.path)} not recorded: "
                        f"{type(exc).__name__}: {shown(str(exc))}")

    def _http(self, request: HttpRequest) -> None:
        meta = {"protocol": "http", "host": request.host.rsplit(":", 1)[0] if request.host
                else request.peer, "path": request.path, "method": request.method,
                "content_type": request.headers.get("content-type", "")}
        self._add(request.body, meta)

    def _add(self, payload: bytes, meta: dict[str, Any]) -> None:
        stamp = Stamp.now()
        with self._lock:
            if self.capture is not None:
                self._seq += keep_message(self.capture, self._current, payload, meta, stamp,
                                          self._seq + 1)
            self.messages += 1
        with self._heard:
            self._last_heard_ns = stamp.mono_ns
            self._heard.notify_all()

    # -- settling ---------------------------------------------------------------------

    def _round_trip(self) -> None:
        """Send a marker through the broker and wait for it: the broker delivers in order,
        so whatever it accepted from the device before has reached the capture."""
        assert self._client is not None
        with self._heard:
            self._marker += 1
            marker = self._marker
        info = self._client.publish(MARKER_TOPIC, self._marker_payload(marker), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return
        sent_ns = time.monotonic_ns()
        hard = sent_ns + int(MAX_SETTLE_S * 1e9)
        with self._heard:
            # A backlog still flowing is waited for (up to MAX_SETTLE_S); silence for
            # settle_s without the marker means it is lost: said, not assumed.
            while self._marker_seen < marker:
                now = time.monotonic_ns()
                silent_s = (now - max(sent_ns, self._last_heard_ns)) / 1e9
                if now >= hard or silent_s >= self.settle_s:
                    self.unsettled += 1
                    self._publish_meta()
                    return
                self._heard.wait(min(0.1, self.settle_s))

    def _wait_quiet(self) -> None:
        end = time.monotonic() + self.settle_s
        with self._heard:
            while time.monotonic() < end:
                quiet_for = (time.monotonic_ns() - self._last_heard_ns) / 1e9
                if quiet_for >= self.quiet_s:
                    return
                self._heard.wait(self.quiet_s - quiet_for)

    def _publish_meta(self) -> None:
        if self.capture is not None:
            self.capture.meta["uplink"] = {
                "broker": None if self.broker is None else f"{self.broker[0]}:{self.broker[1]}",
                "endpoint": "{}:{}".format(*self.endpoint), "messages": self.messages,
                "lookups": {k: dict(v) for k, v in self.lookups.items()},
                "gaps": [dict(g) for g in self.gaps],
                "broker_dropped": self.broker_dropped,
                "oversize_disconnects": self.oversize,
                "errors": list(self.errors), "error_count": self.error_count,
                "unsettled": self.unsettled, "foreign_markers": self.foreign_markers,
                "http_refused": self._endpoint.refused}


__all__ = ["CHANNEL", "MARKER_TOPIC", "UplinkTap"]
