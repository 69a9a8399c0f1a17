"""Advertising data: fields to AD structures and back, and the capture record of one."""

from hypothesis import given
from hypothesis import strategies as st

from brewbench.drivers.ble_adverts import ADV_CHANNEL, Advert, advert_record, decode, encode
from brewbench.drivers.records import Stamp

SIG_UUID = st.integers(0, 0xFFFF).map(lambda n: f"{n:08x}-0000-1000-8000-00805f9b34fb")
VENDOR_UUID = st.uuids(version=4).map(str)
ADVERTS = st.builds(
    Advert,
    local_name=st.none() | st.text(max_size=20),
    manufacturer_data=st.dictionaries(st.integers(0, 0xFFFF), st.binary(max_size=20), max_size=2),
    service_data=st.dictionaries(SIG_UUID | VENDOR_UUID, st.binary(max_size=8), max_size=2),
    service_uuids=st.lists(SIG_UUID | VENDOR_UUID, max_size=3, unique=True),
    tx_power=st.none() | st.integers(-127, 20),
)


@given(ADVERTS)
def test_fields_survive_encoding(advert: Advert) -> None:
    back = decode(encode(advert))
    assert back.local_name == advert.local_name
    assert dict(back.manufacturer_data) == dict(advert.manufacturer_data)
    assert dict(back.service_data) == dict(advert.service_data)
    assert sorted(back.service_uuids) == sorted(advert.service_uuids)
    assert back.tx_power == advert.tx_power


def test_sig_uuids_travel_as_16_bits() -> None:
    raw = encode(Advert(service_uuids=["0000180a-0000-1000-8000-00805f9b34fb"]), flags=None)
    assert raw == bytes([3, 0x03, 0x0A, 0x18])


def test_truncated_structure_is_ignored() -> None:
    raw = encode(Advert(local_name="CM-500"), flags=None)
    assert decode(raw + bytes([9, 0xFF, 1])) == Advert(local_name="CM-500", service_uuids=[])


def test_record_carries_fields_in_meta_and_bytes_in_raw() -> None:
    advert = Advert("Initech Lobby", {0xFFFF: b"BB1"}, {}, ["c0ffee00-b7e4-4b6a-9d1e-62726577626e"])
    record = advert_record("C0:FF:EE:00:00:01", advert, -61, Stamp.now())
    assert record.channel == ADV_CHANNEL and record.direction == "rx"
    assert record.meta["local_name"] == "Initech Lobby" and record.meta["rssi"] == -61
    assert record.meta["manufacturer_data"] == {"65535": b"BB1".hex()}
    assert b"Initech Lobby" in record.raw and decode(record.raw).local_name == "Initech Lobby"
