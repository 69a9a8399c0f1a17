"""Field-like clouds for emulated firmware on the lab network: TLS, hard-coded addresses, own DNS.

Each lab cloud sends the same routes; they differ in what the firmware makes
of the server's certificate (``tls``) and which resolver it asks:

    validating   TLS, checks the certificate against its maker's roots (refuses the lab's)
    forged-ok    TLS, accepts any certificate (its plaintext can be read)
    pinned       TLS, accepts the handshake, then checks a pinned key and closes unsent
    plain        no TLS (MQTT 1883, HTTP 80)

Routes: order records by MQTT to ``mqtt.eu-central-1.acme-cloud.example``;
payments by HTTPS straight to a hard-coded address located in CN (Alibaba Cloud,
120.24.0.0/14); heartbeats by HTTPS to a hard-coded address in DE (Hetzner);
diagnostics by HTTPS to ``api.acme-cloud.example``. Names are looked up with the
firmware's own resolver, a hard-coded public one (8.8.8.8), never the network's.
``WORLD`` is what those names resolve to out there, for a lab to answer with.
"""

from __future__ import annotations

from dataclasses import dataclass

from .uplink_profiles import HTTP, MQTT, Route, UplinkProfile

TLS_MODES = ("validating", "forged-ok", "pinned", "plain")
HARD_CODED_RESOLVER = "8.8.8.8"  # Google Public DNS: what many firmware stacks carry
PAYMENTS_CN = "120.24.0.17"
HEARTBEAT_DE = "88.198.0.5"
MQTT_HOST = "mqtt.eu-central-1.acme-cloud.example"
API_HOST = "api.acme-cloud.example"
#: where the firmware's names are, as public DNS would answer (AWS Frankfurt addresses)
WORLD = {MQTT_HOST: "52.28.0.10", API_HOST: "52.28.0.11"}
#: the SHA-256 of the maker's server certificate a pinned firmware expects (not the lab's)
MAKER_PIN = "6b1d6a0f3c0e4b5f8e2a1c9d7b3e5f0a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f"


@dataclass(frozen=True)
class LabCloud:
    """One firmware's cloud as the lab network sees it."""

    name: str
    tls: str
    resolver: str | None = HARD_CODED_RESOLVER  # None: the network's own resolver
    routes: tuple[Route, ...] = (
        Route("record", MQTT, MQTT_HOST, "acme/{serial}/records"),
        Route("payment", HTTP, PAYMENTS_CN, "/v1/payments?device={serial}"),
        Route("heartbeat", HTTP, HEARTBEAT_DE, "/hb"),
        Route("diagnostics", HTTP, API_HOST, "/v1/{serial}/diag", "json+gzip"),
    )
    diagnostics: tuple[str, ...] = ("machine_name", "site", "floor", "ssid")

    @property
    def profile(self) -> UplinkProfile:
        return UplinkProfile(self.routes, self.diagnostics)

    def port(self, protocol: str) -> int:
        secure = self.tls != "plain"
        if protocol == MQTT:
            return 8883 if secure else 1883
        return 443 if secure else 80


LAB_CLOUDS = {name: LabCloud(name, name) for name in TLS_MODES}


def lab_cloud(name: str) -> LabCloud:
    """The lab cloud ``name``; ValueError names the known ones."""
    try:
        return LAB_CLOUDS[name]
    except KeyError as exc:
        raise ValueError(f"no lab cloud {name!r}; known: {', '.join(LAB_CLOUDS)}") from exc


__all__ = ["HARD_CODED_RESOLVER", "LAB_CLOUDS", "MAKER_PIN", "TLS_MODES", "WORLD", "LabCloud",
           "lab_cloud"]
