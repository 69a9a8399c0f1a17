"""The protocol's field catalogue: which data category each known field carries.

Keys are emission paths (bench.emissions). A field not listed here is
uncatalogued: the classifier reports it as ``unknown`` unless a content
detector or a canary says more. Requests (host -> device) are listed too, so
that the bench can redact what it sent itself.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from ...drivers.ecam.catalogue import CATALOGUE as ECAM_CATALOGUE
from ...drivers.families import catalogues

PRODUCT = "product"
PAYMENT = "payment"
TIME = "time"
LOCATION = "location"
IDENTITY = "identity"
DEVICE = "device"
VOICE = "voice"
UNKNOWN = "unknown"
CATEGORIES = (PRODUCT, PAYMENT, TIME, LOCATION, IDENTITY, DEVICE, VOICE, UNKNOWN)

#: Categories whose values are personal or business data: redacted by default.
SENSITIVE = frozenset({PAYMENT, LOCATION, IDENTITY, VOICE, UNKNOWN})


def _fields(message_type: str, category: str, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {f"{message_type}.{name}": (category,) for name in names}


_PRODUCT_FIELDS = ("drink", "strength", "size_ml", "milk", "ingredients[]")
_DEVICE_FIELDS = ("manufacturer", "model", "serial", "firmware")

#: Emission path -> categories. Extend it when the protocol gains a field.
CATALOGUE: dict[str, tuple[str, ...]] = {
    **_fields("HELLO", DEVICE, ("version", "versions[]", "max_frame", "features[]", "client")),
    **_fields("IDENTIFY", DEVICE, _DEVICE_FIELDS),
    **_fields("STATUS", DEVICE, ("state", "water_ml", "beans_g", "temp_c", "queued_records",
                                 "errors[]", "errors")),
    **_fields("BREW", PRODUCT, (*_PRODUCT_FIELDS, "ingredients", "order_id", "duration_ms")),
    **_fields("PAY", PAYMENT, ("method", "amount_cents", "currency", "card.number",
                               "card.expiry", "routing")),
    # The machine's own bookkeeping of a payment: an outcome and a running counter.
    **_fields("PAY", DEVICE, ("approved", "txn_id")),
    "PAY.card.holder": (PAYMENT, IDENTITY),
    **_fields("PROVISION", IDENTITY, ("machine_name", "owner", "organisation", "email")),
    **_fields("PROVISION", LOCATION, ("site", "floor", "location.lat", "location.lon",
                                      "network.ssid")),
    "PROVISION.network.psk": (IDENTITY,),  # a secret: always redacted
    "PROVISION.ok": (DEVICE,),
    **_fields("SYNC", DEVICE, ("max_records", "sent", "remaining")),
    **_fields("READ_LOGS", DEVICE, ("lines[]", "lines", "from", "next", "remaining")),
    **_fields("RESET", DEVICE, ("mode", "ok")),
    **_fields("EVENT", DEVICE, ("event", "n")),
    "EVENT.order_id": (PRODUCT,),
    **_fields("TELEMETRY", DEVICE, ("n", "temp_c", "pressure_bar")),
    **_fields("ERROR", DEVICE, ("code", "message")),
    # Order records a machine queues for its cloud (uploaded on SYNC).
    **_fields("RECORD", PRODUCT, (*_PRODUCT_FIELDS, "ingredients")),
    **_fields("RECORD", DEVICE, ("model", "serial", "firmware", "record_id")),
    "RECORD.served_at": (TIME,),
    **_fields("RECORD", PAYMENT, ("payment_method", "card_number", "card_expiry", "routing")),
    **_fields("RECORD", IDENTITY, ("machine_name", "owner", "organisation", "email")),
    **_fields("RECORD", LOCATION, ("site", "floor", "ssid", "location.lat", "location.lon")),
    # Spoken orders (VOICE_ORDER) and what a listening firmware keeps of them.
    **_fields("VOICE_ORDER", DEVICE, ("part", "parts", "received")),
    "VOICE_ORDER.order_id": (PRODUCT,),
    "VOICE_ORDER.audio": (VOICE,),
    **_fields("RECORD", DEVICE, ("clip_part", "clip_parts")),
    "RECORD.order_id": (PRODUCT,),
    **_fields("RECORD", VOICE, ("voice_clip", "transcript")),
    **_fields("EVENT", DEVICE, ("chunk", "rate")),
    "EVENT.pcm": (VOICE,),
    "EVENT.audio": (VOICE,),  # compressed chunks (Ogg/Opus), one notification each
    # Bookkeeping of field-like firmware (emulator/field_noise.py, keyed.py): a nonce,
    # clocks since boot, a boot counter and padding; they change by themselves.
    **_fields("RECORD", DEVICE, ("nonce", "uptime_ms", "boot", "pad")),
    "TELEMETRY.t_ms": (DEVICE,),
    "EVENT.uptime_ms": (DEVICE,),
    # What a machine adds when it sends a record to its cloud (bench/uplink/).
    **_fields("RECORD", DEVICE, ("kind", "msg_id", "queued_records")),
}


#: The fields of the lab network's records: what the bench saw of the machine's
#: lookups and connections (docs/lab-network.md, "What a record holds").
NETWORK_FIELDS = ("protocol", "name", "qtype", "answer", "resolver", "located", "registered",
                  "operator", "asn", "event", "address", "port", "destination", "sni",
                  "tls_verdict", "tls_version", "app", "bytes_up", "bytes_down")


#: Details of link-level records (``link.<channel>.<key>``), as globs. What a
#: vendor packs into manufacturer or service data is not listed: it stays
#: ``unknown`` unless a detector or canary explains it.
LINK_CATALOGUE: dict[str, tuple[str, ...]] = {
    # BLE advertisements (drivers/ble_adverts.py) and GATT reads (drivers/ble_transport.py)
    **{f"link.*.{key}": (DEVICE,) for key in (
        "address", "local_name", "tx_power", "rssi", "service_uuids[]", "service_uuids",
        "service_data", "manufacturer_data", "gatt", "uuid", "field", "value",
        "handle", "connection", "packet")},  # the last three: imported btsnoop logs
    # USB transfers the link reported (drivers/usb_transport.py)
    **{f"link.*.{key}": (DEVICE,) for key in (
        "endpoint", "transfer", "request_type", "request", "value", "index", "length",
        "status", "detail", "recovery")},
    # Machine families whose records are link-level (drivers/families.py), e.g. link.jura.*
    **{glob: categories for catalogue in catalogues() for glob, categories in catalogue.items()},
    # ECAM frames decoded from imported Bluetooth logs (bench/bluetooth/ecam_values.py)
    **ECAM_CATALOGUE,
    # The lab network's records (bench/labnet/findings.py): how the machine used the
    # network. Canaries are still hunted in them (a name can carry a planted value).
    **{f"link.network.{key}": (DEVICE,) for key in NETWORK_FIELDS},
}


#: Fields that hold the device's own link identifiers (its Bluetooth address is how
#: the host reaches it), and the lab network's facts about where it went (an address
#: there is a destination, not a location it revealed): content detectors do not read
#: them; canaries still do.
OWN_IDENTIFIERS = ("link.*.address", "link.*.uuid", "link.*.service_uuids[]", "link.network.*")


def own_identifier(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in OWN_IDENTIFIERS)


def categories_of(path: str) -> tuple[str, ...]:
    """Catalogued categories of an emission path; ``()`` when the field is uncatalogued.

    Opaque paths (``unknown.*``, and the raw bytes of a link record at
    ``link.<channel>``) are ``unknown`` by definition.
    """
    if path == UNKNOWN or path.startswith(UNKNOWN + "."):
        return (UNKNOWN,)
    if path.startswith("link."):
        if path.count(".") == 1:
            return (UNKNOWN,)
        return next((c for glob, c in LINK_CATALOGUE.items()
                     if fnmatch.fnmatchcase(path, glob)), ())
    return CATALOGUE.get(path, ())
