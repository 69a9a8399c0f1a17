"""Firmware profiles: what each emulated firmware version collects.

A profile decides which fields go into the order records a machine queues for
its cloud (uploaded on SYNC), and what its logs say. The versions are modelled
on the reports in the project's seeds: 1.0 keeps product data, 2.0 adds the time
of service, payment method and machine name, 2.1 adds the owner, organisation,
floor-level location and payment details. 2.2 looks tidier but hides the owner,
card, floor and more in disguised forms (emulator/disguises.py); 1.0 is the clean
profile: product and device data only. 1.1 is as clean but adds values that change
by themselves (a nonce, a boot counter, a clock); 2.3 keeps planted values only
through a device key no hunter can know, and 2.4 hides them in fields the field
catalogue labels ``device`` (emulator/keyed.py). The last three exist to prove the
differential mode (bench/verify/differential.py), as do three with a real machine's
history and manners (emulator/field_noise.py, emulator/history.py): 1.2 is clean but
bursty, with varying record counts, padding and clocks; 2.5 keeps its owner across a
factory reset (and names the owner in its log lines); 2.6 leaks the owner only in some
sessions. Any profile takes the same manners with ``emu://?noise=field``. 3.0, 3.1 and 3.2 take spoken orders
(VOICE_ORDER) and keep what they heard: the WAV clip uploaded in record pages, the bare
samples streamed in events, only a transcript, a FLAC clip also uploaded to its cloud,
or Ogg/Opus in small events (``voice``; emulator/voice.py).
docs/data-verification.md lists what the bench finds in each.

Over Bluetooth LE a profile also decides what the machine broadcasts to anyone in
radio range (``AdvertisingPolicy``): 1.0 only its model, 2.0 its machine name once
provisioned (which tends to name the organisation) and serial number, 2.1 also its
firmware and the floor it stands on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .disguises import DISGUISES_2_2, Disguise, ssid_chunks
from .keyed import KEYED_2_3, LABELLED_2_4, noise_fields

PRODUCT = ("drink", "strength", "size_ml", "milk", "ingredients")
DEVICE = ("model", "serial", "firmware")
SERVICE = ("served_at", "payment_method", "machine_name")
PERSONAL = ("owner", "organisation", "site", "floor", "card_number", "card_expiry", "routing")


@dataclass(frozen=True)
class AdvertisingPolicy:
    """Which facts a firmware puts in its BLE advertisements.

    Attributes:
        name_from: facts tried in order for the advertised local name; the first
            one known wins (``machine_name`` is only known once provisioned).
        manufacturer: facts packed, in order, into the manufacturer-specific data.
    """

    name_from: tuple[str, ...] = ("model",)
    manufacturer: tuple[str, ...] = ("model",)

    def local_name(self, facts: Mapping[str, Any]) -> str:
        """The local name to advertise."""
        for name in self.name_from:
            value = facts.get(name)
            if value:
                return str(value)
        return str(facts.get("model", "CM"))

    def manufacturer_data(self, facts: Mapping[str, Any]) -> bytes:
        """Manufacturer-specific payload: the chosen facts as UTF-8, separated by 0x1F."""
        values = (str(facts[name]) for name in self.manufacturer if facts.get(name))
        return "\x1f".join(values).encode()


@dataclass(frozen=True)
class FirmwareProfile:
    """One emulated firmware version and the record fields it collects."""

    version: str
    summary: str
    record_fields: tuple[str, ...]
    model: str = "CM-500"
    manufacturer: str = "Acme Kaffeetechnik"
    advertising: AdvertisingPolicy = AdvertisingPolicy()
    disguises: tuple[Disguise, ...] = ()
    split_ssid: bool = False
    noisy: bool = False  # adds a nonce, a boot counter and an uptime clock to each record
    voice: str = ""  # what it keeps of a spoken order (emulator/voice.py): "", "wav", "pcm",
    # "transcript", "flac", "opus", "room", "opus-low", "features"
    field_noise: bool = False  # a real machine's manners (emulator/field_noise.py)
    history: str = ""  # a leak that depends on its history (emulator/history.py)
    log_owner: bool = False  # its order log lines name the owner

    def make_record(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """The record this firmware queues, given every fact it could know."""
        record = {name: facts[name] for name in self.record_fields if facts.get(name) is not None}
        for disguise in self.disguises:
            if facts.get(disguise.source) is not None:
                record[disguise.field] = disguise.transform(str(facts[disguise.source]))
        if self.noisy:
            record.update(noise_fields())
        return record

    def extra_events(self, facts: Mapping[str, Any]) -> list[dict[str, Any]]:
        """EVENT bodies sent after an order, beyond the brew events every firmware sends."""
        if not self.split_ssid or not facts.get("ssid"):
            return []
        return [{"event": "diag.chunk", "part": n, "data": chunk}
                for n, chunk in enumerate(ssid_chunks(str(facts["ssid"])), 1)]

    def log_line(self, facts: Mapping[str, Any]) -> str:
        """The log line written after an order."""
        line = f"order {facts['order_id']}: {facts['drink']} strength {facts['strength']}"
        if "machine_name" in self.record_fields and facts.get("machine_name"):
            line += f" on {facts['machine_name']}"
        if self.log_owner and facts.get("owner"):
            line += f" for {facts['owner']}"
        return line


PROFILES: dict[str, FirmwareProfile] = {
    p.version: p
    for p in (
        FirmwareProfile("1.0", "product data and device info only", PRODUCT + DEVICE),
        FirmwareProfile("2.0", "adds time of service, payment method and machine name",
                        PRODUCT + DEVICE + SERVICE,
                        advertising=AdvertisingPolicy(("machine_name", "serial"),
                                                      ("model", "serial"))),
        FirmwareProfile("2.1", "adds owner, organisation, floor-level location and card details",
                        PRODUCT + DEVICE + SERVICE + PERSONAL,
                        advertising=AdvertisingPolicy(("machine_name", "serial"),
                                                      ("model", "serial", "firmware", "floor"))),
        FirmwareProfile("2.2", "keeps the owner, card, floor, organisation, machine name, "
                        "email, site and Wi-Fi name in disguised forms",
                        (*PRODUCT, *DEVICE, "served_at", "payment_method"),
                        disguises=DISGUISES_2_2, split_ssid=True),
        FirmwareProfile("1.1", "1.0 plus a random nonce, a boot counter and an uptime clock in "
                        "every record: clean, but never the same twice", PRODUCT + DEVICE,
                        noisy=True),
        FirmwareProfile("2.3", "keeps the owner, card, site, floor and email only through "
                        "its device key (keyed hashes, AES), beside nonces and clocks",
                        (*PRODUCT, *DEVICE, "served_at", "payment_method"),
                        disguises=KEYED_2_3, noisy=True),
        FirmwareProfile("2.4", "hides the owner and organisation in the firmware and model "
                        "fields of its records", (*PRODUCT, *DEVICE, "served_at", "payment_method"),
                        disguises=LABELLED_2_4),
        FirmwareProfile("1.2", "1.0 with a real machine's manners: bursty telemetry, one to "
                        "three records per order, shuffled keys, random padding, clocks and "
                        "nonces: clean, and never the same twice", PRODUCT + DEVICE,
                        field_noise=True),
        FirmwareProfile("2.5", "2.0 that names the owner in its order log lines and keeps the "
                        "owner across a factory reset: the next session's records carry it "
                        "keyed and its boot log names it", PRODUCT + DEVICE + SERVICE,
                        field_noise=True, history="kept-owner", log_owner=True),
        FirmwareProfile("2.6", "2.0 that keeps the owner keyed in its records only in three "
                        "sessions out of four (by its lifetime boot counter)",
                        PRODUCT + DEVICE + SERVICE, field_noise=True, history="some-sessions"),
        FirmwareProfile("3.0", "takes spoken orders and uploads the WAV clip it heard in "
                        "record pages on SYNC", PRODUCT + DEVICE + SERVICE, voice="wav"),
        FirmwareProfile("3.1", "takes spoken orders and streams the bare 16-bit samples it "
                        "heard in events, chunk by chunk", PRODUCT + DEVICE + SERVICE, voice="pcm"),
        FirmwareProfile("3.2", "takes spoken orders and keeps only its transcript of them in "
                        "the order record", PRODUCT + DEVICE + SERVICE, voice="transcript"),
        FirmwareProfile("3.3", "takes spoken orders, keeps the clip as FLAC in record pages "
                        "and uploads them to its cloud", PRODUCT + DEVICE + SERVICE, voice="flac"),
        FirmwareProfile("3.4", "takes spoken orders and streams the clip as Ogg/Opus in small "
                        "events (a BLE notification each)", PRODUCT + DEVICE + SERVICE,
                        voice="opus"),
        FirmwareProfile("3.5", "takes spoken orders and keeps what its microphone heard across "
                        "the room (telephone band, echo, 10 dB noise) as 8 kHz samples in events; "
                        "its records hold product and device data only", PRODUCT + DEVICE,
                        voice="room"),
        FirmwareProfile("3.6", "takes spoken orders and keeps the clip as Ogg/Opus at about "
                        "10 kbit/s in record pages; its records hold product and device data only",
                        PRODUCT + DEVICE, voice="opus-low"),
        FirmwareProfile("3.7", "takes spoken orders and keeps no audio, only the features its "
                        "voice front end computes (40 bands of log power every 10 ms, float16) "
                        "in events", PRODUCT + DEVICE, voice="features"),
    )
}


def get_profile(version: str) -> FirmwareProfile:
    """The profile for ``version``; raise ValueError naming the known ones."""
    try:
        return PROFILES[version]
    except KeyError as exc:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"no emulated firmware {version!r}; known versions: {known}") from exc
