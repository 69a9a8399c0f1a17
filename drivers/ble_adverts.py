"""BLE advertising data: AD structures to fields and back, and capture records of them.

An advertisement is what a machine broadcasts to everyone in radio range, so the
bench captures it on a channel of its own, ``ble-adv``. Platforms hand bleak the
parsed fields, not the bytes on air (BlueZ, CoreBluetooth and WinRT all merge the
advertising data with the scan response), so the record's ``raw`` holds those
fields encoded back into AD structures (Core Supplement Part A) and ``meta`` the
fields themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import RX, Record, Stamp

ADV_CHANNEL = "ble-adv"
BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"

FLAGS = 0x01
UUID16_LISTS = (0x02, 0x03)
UUID32_LISTS = (0x04, 0x05)
UUID128_LISTS = (0x06, 0x07)
SHORT_NAME, COMPLETE_NAME = 0x08, 0x09
TX_POWER = 0x0A
SERVICE_DATA16, SERVICE_DATA32, SERVICE_DATA128 = 0x16, 0x20, 0x21
MANUFACTURER = 0xFF


@dataclass(frozen=True)
class Advert:
    """The fields of one advertisement, as bleak reports them."""

    local_name: str | None = None
    manufacturer_data: Mapping[int, bytes] = field(default_factory=dict)
    service_data: Mapping[str, bytes] = field(default_factory=dict)
    service_uuids: Sequence[str] = ()
    tx_power: int | None = None


def uuid_text(raw: bytes) -> str:
    """A little-endian UUID of 2, 4 or 16 bytes as lower-case 128-bit text."""
    if len(raw) == 16:
        return str(uuid.UUID(bytes=raw[::-1]))
    return f"{int.from_bytes(raw, 'little'):08x}{BASE_UUID_TAIL}"


def uuid_bytes(text: str) -> bytes:
    """The shortest little-endian form of a UUID (16 bits for SIG-assigned ones)."""
    value = uuid.UUID(text)
    if str(value).endswith(BASE_UUID_TAIL):
        short = value.int >> 96
        return short.to_bytes(2 if short <= 0xFFFF else 4, "little")
    return value.bytes[::-1]


def encode(advert: Advert, flags: int | None = 0x06) -> bytes:
    """AD structures for ``advert``; ``flags`` None leaves the Flags structure out."""
    parts: list[tuple[int, bytes]] = []
    if flags is not None:
        parts.append((FLAGS, bytes([flags])))
    by_size: dict[int, list[bytes]] = {}
    for text in advert.service_uuids:
        raw = uuid_bytes(text)
        by_size.setdefault(len(raw), []).append(raw)
    for size, kind in ((2, UUID16_LISTS[1]), (4, UUID32_LISTS[1]), (16, UUID128_LISTS[1])):
        if by_size.get(size):
            parts.append((kind, b"".join(by_size[size])))
    for text, data in advert.service_data.items():
        raw = uuid_bytes(text)
        kind = {2: SERVICE_DATA16, 4: SERVICE_DATA32}.get(len(raw), SERVICE_DATA128)
        parts.append((kind, raw + data))
    for company, data in advert.manufacturer_data.items():
        parts.append((MANUFACTURER, company.to_bytes(2, "little") + data))
    if advert.tx_power is not None:
        parts.append((TX_POWER, advert.tx_power.to_bytes(1, "little", signed=True)))
    if advert.local_name is not None:
        parts.append((COMPLETE_NAME, advert.local_name.encode()))
    return b"".join(bytes([len(value) + 1, kind]) + value for kind, value in parts)


def decode(raw: bytes) -> Advert:
    """The fields of AD structures; a truncated last structure is ignored."""
    name: str | None = None
    makers: dict[int, bytes] = {}
    services: dict[str, bytes] = {}
    uuids: list[str] = []
    tx_power: int | None = None
    at = 0
    while at + 1 < len(raw):
        length = raw[at]
        if length == 0 or at + 1 + length > len(raw):
            break
        kind, value = raw[at + 1], raw[at + 2 : at + 1 + length]
        at += 1 + length
        if kind in (SHORT_NAME, COMPLETE_NAME) and (name is None or kind == COMPLETE_NAME):
            name = value.decode(errors="replace")
        elif kind == MANUFACTURER and len(value) >= 2:
            makers[int.from_bytes(value[:2], "little")] = value[2:]
        elif kind in UUID16_LISTS + UUID32_LISTS + UUID128_LISTS:
            size = 2 if kind in UUID16_LISTS else 4 if kind in UUID32_LISTS else 16
            uuids += [uuid_text(value[i : i + size]) for i in range(0, len(value) - size + 1, size)]
        elif kind in (SERVICE_DATA16, SERVICE_DATA32, SERVICE_DATA128):
            size = {SERVICE_DATA16: 2, SERVICE_DATA32: 4}.get(kind, 16)
            services[uuid_text(value[:size])] = value[size:]
        elif kind == TX_POWER and value:
            tx_power = int.from_bytes(value[:1], "little", signed=True)
    return Advert(name, makers, services, list(dict.fromkeys(uuids)), tx_power)


def advert_record(address: str, advert: Advert, rssi: int | None, stamp: Stamp) -> Record:
    """A ``ble-adv`` capture record of one advertisement heard from ``address``."""
    meta: dict[str, Any] = {
        "address": address,
        "local_name": advert.local_name,
        "manufacturer_data": {str(k): v.hex() for k, v in advert.manufacturer_data.items()},
        "service_data": {k: v.hex() for k, v in advert.service_data.items()},
        "service_uuids": list(advert.service_uuids),
        "tx_power": advert.tx_power,
        "rssi": rssi,
    }
    return Record(ADV_CHANNEL, RX, stamp, encode(advert, flags=None), meta=meta)
