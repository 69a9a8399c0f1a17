"""Each emulated firmware, driven over the real serial link: what it collects, no more, no less."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from brewbench.bench.verify.classify import CONTENT, classify
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.inventory import inventory

DEVICE = {("device", path) for path in (
    "HELLO.version", "HELLO.max_frame", "HELLO.features[]",
    "IDENTIFY.manufacturer", "IDENTIFY.model", "IDENTIFY.serial", "IDENTIFY.firmware",
    "STATUS.state", "STATUS.water_ml", "STATUS.beans_g", "STATUS.temp_c",
    "STATUS.queued_records", "STATUS.errors", "PROVISION.ok", "PAY.approved", "PAY.txn_id",
    "EVENT.event", "TELEMETRY.temp_c", "TELEMETRY.pressure_bar", "SYNC.sent", "SYNC.remaining",
    "READ_LOGS.lines[]", "READ_LOGS.next", "READ_LOGS.remaining", "RESET.ok",
    "RECORD.model", "RECORD.serial", "RECORD.firmware", "RECORD.record_id")}
PRODUCT = {("product", path) for path in (
    "BREW.order_id", "BREW.duration_ms", "EVENT.order_id", "RECORD.drink", "RECORD.strength",
    "RECORD.size_ml", "RECORD.milk", "RECORD.ingredients[]", "RECORD.ingredients")}
SERVICE = {("time", "RECORD.served_at"), ("payment", "RECORD.payment_method"),
           ("identity", "RECORD.machine_name"), ("identity", "READ_LOGS.lines[]")}
PERSONAL = {("identity", "RECORD.owner"), ("identity", "RECORD.organisation"),
            ("location", "RECORD.site"), ("location", "RECORD.floor"),
            ("payment", "RECORD.card_number"), ("payment", "RECORD.card_expiry")}
DISGUISED = {("identity", "RECORD.diag"), ("payment", "RECORD.card_ref"),
             ("location", "RECORD.loc16"), ("identity", "RECORD.org"),
             ("identity", "RECORD.cb"), ("identity", "RECORD.contact"),
             ("location", "RECORD.site_md5"), ("location", "EVENT.data"),
             ("unknown", "EVENT.part")}

#: What each profile is documented to collect (docs/data-verification.md).
DOCUMENTED = {
    "1.0": DEVICE | PRODUCT,
    "2.0": DEVICE | PRODUCT | SERVICE,
    "2.1": DEVICE | PRODUCT | SERVICE | PERSONAL,
    "2.2": DEVICE | PRODUCT | {("time", "RECORD.served_at"), ("payment", "RECORD.payment_method")}
    | DISGUISED,
}


@pytest.mark.parametrize("firmware", sorted(DOCUMENTED))
def test_inventory_matches_documented_collection(session_of: Callable, firmware: str) -> None:
    session = session_of(firmware)
    found = emissions(session.capture)
    findings = Hunter(session.canaries.canaries).hunt(found)
    rows = inventory(classify(found, findings, session.canaries.names()))
    collected = {(row.category, row.field) for row in rows}
    assert collected - DOCUMENTED[firmware] == set(), "collected beyond what is documented"
    assert DOCUMENTED[firmware] - collected == set(), "documented but not seen"
    assert {row.channel for row in rows} == {"serial"}


def test_disguised_profile_is_caught_in_every_disguise(session_of: Callable) -> None:
    session = session_of("2.2")
    findings = Hunter(session.canaries.canaries).hunt(emissions(session.capture))
    caught = {(f.canary, f.chain, f.path) for f in findings}
    assert caught == {
        ("owner", "zlib > base64", "RECORD.diag"),
        ("card_number", "sha256-hex", "RECORD.card_ref"),
        ("floor", "utf16le", "RECORD.loc16"),
        ("organisation", "HEX", "RECORD.org"),
        ("machine_name", "url", "RECORD.cb"),
        ("email", "json-escape", "RECORD.contact"),
        ("site", "md5-raw", "RECORD.site_md5"),
        ("ssid", "base64 > gzip > utf16be", "EVENT.data"),
    }
    split = [f for f in findings if f.canary == "ssid"]
    assert split and all(len(f.emissions) == 2 for f in split), "the SSID blob spans two frames"
    assert all(f.channel == "serial" and f.action in ("brew", "sync") for f in findings)


def test_disguised_fields_are_unknown_without_canaries(session_of: Callable) -> None:
    """Without planted values the bench cannot read them, but never lets them pass as clean."""
    labelled = classify(emissions(session_of("2.2").capture))
    for item in labelled:
        if item.emission.path in ("RECORD.diag", "RECORD.card_ref", "RECORD.loc16", "EVENT.data"):
            assert item.categories == ("unknown",), item


def test_clean_profile_yields_no_finding(session_of: Callable) -> None:
    session = session_of("1.0")
    found = emissions(session.capture)
    assert Hunter(session.canaries.canaries).hunt(found) == []
    labelled = classify(found, (), session.canaries.names())
    assert {c for item in labelled for c in item.categories} == {"product", "device"}
    assert [item for item in labelled if any(lb.reason == CONTENT for lb in item.labels)] == []


def test_plain_leaks_of_2_1_are_found_as_is(session_of: Callable) -> None:
    session = session_of("2.1")
    findings = Hunter(session.canaries.canaries).hunt(emissions(session.capture))
    assert {(f.canary, f.chain) for f in findings} == {
        ("owner", "plain"), ("organisation", "plain"), ("site", "plain"), ("floor", "plain"),
        ("card_number", "plain"), ("machine_name", "plain")}
