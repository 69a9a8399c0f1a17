"""Where each emulated firmware sends what it collects: its cloud routes.

A route says which kind of message goes where: protocol, the host name the
firmware is built with, the MQTT topic or HTTP path (``{serial}`` is the
machine's serial number), the encoding (emulator/uplink_formats.py), how many
messages are batched into one, and the MQTT QoS and retain flag.

Kinds: ``record`` (an order record, when brewed), ``payment`` (the payment of
the last order), ``heartbeat`` (on each status request) and ``diagnostics``
(after provisioning). 1.0 has no cloud connection. 2.1 sends payment details to
a host named as being in another region than the rest of its cloud. 3.3 uploads the
FLAC pages of the spoken orders it heard to a host in the US.
"""

from __future__ import annotations

from dataclasses import dataclass

from .uplink_formats import ENCODERS

MQTT = "mqtt"
HTTP = "http"
KINDS = ("record", "payment", "heartbeat", "diagnostics")
EU = "eu-central-1.acme-cloud.example"


@dataclass(frozen=True)
class Route:
    """One kind of message and where a firmware sends it."""

    kind: str
    protocol: str
    host: str
    target: str
    encoding: str = "json"
    batch: int = 1
    qos: int = 1
    retain: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.protocol not in (MQTT, HTTP):
            raise ValueError(f"route {self.kind}/{self.protocol}: unknown kind or protocol")
        if self.encoding not in ENCODERS or self.batch < 1 or self.qos not in (0, 1, 2):
            raise ValueError(f"route {self.kind}: bad encoding, batch or qos")


@dataclass(frozen=True)
class UplinkProfile:
    """A firmware's cloud connection: its routes and the settings its diagnostics report."""

    routes: tuple[Route, ...]
    diagnostics: tuple[str, ...] = ()

    def routes_for(self, kind: str) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route.kind == kind)


UPLINKS: dict[str, UplinkProfile] = {
    "2.0": UplinkProfile((
        Route("record", MQTT, f"mqtt.{EU}", "acme/cm500/{serial}/records"),
        Route("payment", MQTT, f"mqtt.{EU}", "acme/cm500/{serial}/payments"),
        Route("heartbeat", MQTT, f"mqtt.{EU}", "acme/cm500/{serial}/heartbeat"),
        Route("diagnostics", HTTP, f"api.{EU}", "/v1/devices/{serial}/diagnostics"),
    ), diagnostics=("machine_name",)),
    "2.1": UplinkProfile((
        Route("record", MQTT, f"mqtt.{EU}", "acme/{serial}/rec", "cbor"),
        Route("payment", HTTP, "pay.us-east-1.acme-cloud.example", "/v2/payments", "json+gzip"),
        Route("heartbeat", MQTT, f"mqtt.{EU}", "acme/{serial}/hb"),
        Route("diagnostics", MQTT, f"mqtt.{EU}", "acme/{serial}/diag", "cbor", retain=True),
    ), diagnostics=("machine_name", "site", "floor", "ssid")),
    "2.2": UplinkProfile((
        Route("record", HTTP, "ingest.ap-southeast-1.acme-cloud.example", "/batch/{serial}",
              "cbor+zlib", batch=2),
        Route("payment", MQTT, f"mqtt.{EU}", "t/{serial}/p", "cbor+zlib"),
        Route("heartbeat", HTTP, f"api.{EU}", "/hb", "json"),
        Route("diagnostics", HTTP, f"api.{EU}", "/diag", "json+gzip"),
    ), diagnostics=("site",)),
    "3.3": UplinkProfile((  # records, with the FLAC pages of what it heard
        Route("record", HTTP, "voice.us-east-1.acme-cloud.example", "/v1/{serial}/orders", "cbor"),
        Route("payment", MQTT, f"mqtt.{EU}", "acme/{serial}/pay"),
        Route("heartbeat", MQTT, f"mqtt.{EU}", "acme/{serial}/hb"),
        Route("diagnostics", MQTT, f"mqtt.{EU}", "acme/{serial}/diag"),
    ), diagnostics=("machine_name",)),
}


def uplink_profile(version: str) -> UplinkProfile | None:
    """The cloud connection of firmware ``version``; None for one without."""
    return UPLINKS.get(version)


__all__ = ["HTTP", "KINDS", "MQTT", "UPLINKS", "Route", "UplinkProfile", "uplink_profile"]
