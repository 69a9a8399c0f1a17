"""Content detectors: they find what they should and stay quiet on ordinary data."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brewbench.bench.verify.classify import CONTENT, classify
from brewbench.bench.verify.detectors import detect, is_card_number, is_iban, luhn_valid
from brewbench.bench.verify.emissions import emissions

POSITIVES = [
    ("card_number", "paid with 4111 1111 1111 1111 today"),
    ("card_number", 5555555555554444),
    ("card_number", "378282246310005"),
    ("iban", "IBAN DE89 3704 0044 0532 0130 00"),
    ("iban", "GB82WEST12345698765432"),
    ("email", "contact: ada.lovelace@example.org"),
    ("phone", "call +49 30 1234567"),
    ("phone", "+1 (415) 555-0132"),
    ("mac_address", "ap=3c:22:fb:12:9a:0e"),
    ("mac_address", "3C-22-FB-12-9A-0E"),
    ("ipv4", "uplink 192.168.17.42 ok"),
    ("ipv6", "fe80::1c2b:3ff:fe4a:12"),
    ("ipv6", "2001:db8:85a3::8a2e:370:7334"),
    ("lat_lon", "pos 48.13743, 11.57549"),
    ("place", "Floor 7, Room 7.21"),
    ("place", "3rd floor east wing"),
    ("place", "Bldg. C"),
    ("ssid", 'wifi: "CoffeeNet-5G"'),
    ("ssid", "SSID=Office_Guest"),
]

NEGATIVES = [
    "latte", "espresso strength 4", "2026-11-28T02:13:00+00:00", "brew.started", "T000002",
    "CM-500", "Acme Kaffeetechnik", "BB3F2A1C", "boot firmware 2.1", "order 12: latte strength 3",
    "4111111111111112", "1764295348123456789", "1234567812345678", "version 1.2.0.3",
    "temp 93.5 pressure 9.1", "12:30:45", "00:00:00:00:00:00", "DE00 1234 5678 9012 3456 78",
    "water_ml 1500", "reset soft", "https://cloud.example/api/v1/orders", "::", "a::b",
]


@pytest.mark.parametrize(("detector", "value"), POSITIVES)
def test_detectors_find_what_they_should(detector: str, value: object) -> None:
    assert detector in {hit.detector for hit in detect(value)}


@pytest.mark.parametrize("value", NEGATIVES)
def test_ordinary_values_light_nothing(value: str) -> None:
    assert detect(value) == []


def test_checks_behind_the_patterns() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert is_card_number("4242424242424242") and not is_card_number("9242424242424242")
    assert is_iban("DE89370400440532013000") and not is_iban("DE89370400440532013001")


def test_planted_names_are_found_case_insensitively() -> None:
    hits = detect("Owner: ADA CANARY-7F3A9C2E", names=["Ada Canary-7F3A9C2E"])
    assert [hit.detector for hit in hits] == ["planted_name"]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_light_nothing(data: bytes) -> None:
    assert detect(data) == []


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=10, max_size=256))
def test_hex_and_base64_text_light_nothing(data: bytes) -> None:
    """Digests, keys and blobs as text hold digit runs that pass Luhn by chance."""
    for text in (data.hex(), data.hex().upper(), base64.b64encode(data).decode(),
                 base64.urlsafe_b64encode(data).decode()):
        assert detect(text) == [], text


def test_ordinary_telemetry_lights_nothing(session_of: Callable) -> None:
    labelled = classify(emissions(session_of("1.0").capture))
    assert [item for item in labelled if any(lb.reason == CONTENT for lb in item.labels)] == []


def test_every_detector_reaches_its_measured_precision_and_recall() -> None:
    """The labelled corpus (detector_corpus.py): >= 30 positives and 30 hard negatives each."""
    from .detector_corpus import CORPUS, score

    assert set(CORPUS) == {"card_number", "iban", "email", "phone", "mac_address", "ipv4",
                           "ipv6", "lat_lon", "place", "ssid"}
    for name, result in score(detect).items():
        positives, negatives = CORPUS[name]
        assert len(positives) >= 30 and len(negatives) >= 30, name
        assert result.precision >= 0.95, (name, result.false_alarms)
        assert result.recall >= 0.95, (name, result.missed)
