"""The De'Longhi ECAM frame codec against frames published with their checksums."""

from __future__ import annotations

import binascii

import pytest

from brewbench.drivers.ecam.frames import (
    ANSWER,
    REQUEST,
    EcamSplitter,
    crc,
    decode,
    encode,
)
from brewbench.drivers.ecam.monitor import status
from brewbench.drivers.errors import FrameError

# Frames captured from real machines and published with their meaning:
# k-wojcik/delonghi-coffee-link-protocol (README: the monitor request, ECAM 370.95.S),
# manekinekko/cafy (README: brew start/stop, ECAM 650.75.MS),
# Arbuzov/home_assistant_delonghi_primadonna (DEBUG_NOTES.md: status answers).
MONITOR_REQUEST = "0d 05 75 0f da 25"
COFFEE_START = "0d 0f 83 f0 02 01 01 00 67 02 02 00 00 06 77 ff"
COFFEE_STOP = "0d 08 83 f0 02 02 06 c4 b1"
DOPPIO_START = "0d 0d 83 f0 05 01 01 00 78 00 00 06 c4 7e"
ALL_GOOD = "d0 12 75 0f 01 05 00 00 00 07 00 00 00 00 00 00 00 9d 61"
NO_WATER_TANK = "d0 12 75 0f 01 15 00 00 00 07 00 00 00 00 00 00 00 aa 31"
NO_RECYCLE_TANK = "d0 12 75 0f 01 0d 00 00 00 07 00 00 00 00 00 00 00 86 c9"
POWER_OFF = "d0 12 75 0f 01 01 00 00 00 00 03 64 00 00 00 00 00 d6 96"
TURNING_ON = "d0 12 75 0f 01 01 00 00 00 01 07 64 00 00 00 00 00 50 83"
RINSING = "d0 12 75 0f 01 05 00 04 08 04 09 00 00 00 00 00 00 fa 12"
SET_PROFILE_2 = "d0 07 a9 f0 02 00 6e 6f"
PUBLISHED = [MONITOR_REQUEST, COFFEE_START, COFFEE_STOP, DOPPIO_START, ALL_GOOD,
             NO_WATER_TANK, NO_RECYCLE_TANK, POWER_OFF, TURNING_ON, RINSING, SET_PROFILE_2]


@pytest.mark.parametrize("text", PUBLISHED)
def test_every_published_frame_checks_and_re_encodes_to_itself(text: str) -> None:
    raw = bytes.fromhex(text)
    frame = decode(raw)
    assert frame.lead == raw[0] and frame.command == raw[2]
    assert encode(frame.command, frame.data, frame.lead) == raw


def test_published_frames_mean_what_their_authors_saw() -> None:
    request = decode(bytes.fromhex(MONITOR_REQUEST))
    assert request.is_request and request.command_name == "monitor" and request.data == b"\x0f"
    assert decode(bytes.fromhex(COFFEE_START)).command_name == "brew"
    assert decode(bytes.fromhex(SET_PROFILE_2)).command_name == "set_profile"
    good = status(decode(bytes.fromhex(ALL_GOOD)))
    assert good["function"] == "ready" and good["alarms"] == [] and good["switches_named"] == []
    assert good["accessory"] == "water_spout"
    assert status(decode(bytes.fromhex(NO_WATER_TANK)))["switches_named"] == ["water_tank_out"]
    assert (status(decode(bytes.fromhex(NO_RECYCLE_TANK)))["switches_named"]
            == ["grounds_container_out"])
    off = status(decode(bytes.fromhex(POWER_OFF)))
    assert off["function"] == "standby" and off["progress"] == 100
    assert status(decode(bytes.fromhex(TURNING_ON)))["function"] == "turning_on"
    rinsing = status(decode(bytes.fromhex(RINSING)))  # the decoder output published with it
    assert rinsing["switches"] == [0, 2] and rinsing["alarms"] == [2, 11]
    assert rinsing["function"] == "function 4" and rinsing["progress"] == 0


def test_the_checksum_is_crc_ccitt_seeded_0x1d0f_computed_independently() -> None:
    def bitwise(data: bytes) -> int:  # the polynomial long division, bit by bit
        value = 0x1D0F
        for byte in data:
            value ^= byte << 8
            for _ in range(8):
                value = ((value << 1) ^ 0x1021 if value & 0x8000 else value << 1) & 0xFFFF
        return value

    for length in range(0, 300, 7):
        data = bytes((i * 37 + length) % 256 for i in range(length))
        assert crc(data) == bitwise(data) == binascii.crc_hqx(data, 0x1D0F)


@pytest.mark.parametrize("lead", [REQUEST, ANSWER])
def test_round_trips_for_every_command_and_data_length(lead: int) -> None:
    for command in range(256):
        data = bytes(range(command % 252))[:251]
        frame = decode(encode(command, data, lead))
        assert (frame.lead, frame.command, frame.data) == (lead, command, data)


@pytest.mark.parametrize(("raw", "says"), [
    (bytes.fromhex("0d 05 75 0f da 24"), "CRC mismatch"),
    (bytes.fromhex("0e 05 75 0f da 25"), "starts 0x0d or 0xd0"),
    (bytes.fromhex("0d 06 75 0f da 25"), "length byte says 7"),
    (b"\x0d\x03", "shorter than 5"),
])
def test_a_damaged_frame_is_one_frame_error(raw: bytes, says: str) -> None:
    with pytest.raises(FrameError, match=says):
        decode(raw)


def test_encode_refuses_what_no_frame_can_hold() -> None:
    with pytest.raises(FrameError, match="at most 251"):
        encode(0x75, bytes(252))
    with pytest.raises(FrameError, match="0x0d or 0xd0"):
        encode(0x75, b"", lead=0x42)


def test_the_splitter_joins_frames_however_notifications_cut_them() -> None:
    stream = b"".join(bytes.fromhex(t) for t in PUBLISHED)
    for size in (1, 3, 20, len(stream)):
        splitter = EcamSplitter()
        frames: list[bytes] = []
        for start in range(0, len(stream), size):
            got, skipped = splitter.feed(stream[start:start + size])
            frames += got
            assert skipped == []
        assert frames == [bytes.fromhex(t) for t in PUBLISHED] and splitter.pending == b""


def test_the_splitter_skips_noise_up_to_the_next_frame() -> None:
    frames, skipped = EcamSplitter().feed(b"\x01\x02" + bytes.fromhex(ALL_GOOD))
    assert frames == [bytes.fromhex(ALL_GOOD)] and skipped == [b"\x01\x02"]
