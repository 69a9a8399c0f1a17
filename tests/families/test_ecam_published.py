"""ECAM requests as the vendor app sends them, and the emulator's answers, judged by
frames public projects captured (each constant names its source): the driver must send
what the app sends where a frame is published, and the emulated machine must answer
a published request as the published answer shows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from brewbench.bench.devices import BenchDevice, open_device
from brewbench.drivers.ecam.frames import REQUEST, crc, decode, encode
from brewbench.drivers.ecam.monitor import status
from brewbench.emulator.ecam.machine import EmulatedEcam
from brewbench.emulator.ecam.serve import EcamEmulator

SPEC = "emu://?family=ecam&transport=ble"
# manekinekko/cafy src/commands.ts and README.md, Arbuzov/home_assistant_delonghi_primadonna
# custom_components/delonghi_primadonna/const.py, k-wojcik/delonghi-coffee-link-protocol
# coffee-link-commands.json: (what the bench asks, the frame the app sends)
PUBLISHED_BREWS = [
    (("espresso", 3, None), "0d 11 83 f0 01 01 01 00 28 02 03 08 00 00 00 06 8f fc"),
    (("coffee", 2, 103), "0d 0f 83 f0 02 01 01 00 67 02 02 00 00 06 77 ff"),
    (("long coffee", 3, 160), "0d 0f 83 f0 03 01 01 00 a0 02 03 00 00 06 18 7f"),
    (("2x espresso", 2, 40), "0d 0f 83 f0 04 01 01 00 28 02 02 00 00 06 ab 53"),
    (("doppio+", 3, 120), "0d 0d 83 f0 05 01 01 00 78 00 00 06 c4 7e"),
    (("americano", 3, None), "0d 12 83 f0 06 01 01 00 28 02 03 0f 00 6e 00 00 06 47 8b"),
    (("hot water", 3, None), "0d 0d 83 f0 10 01 0f 00 fa 1c 01 06 04 b4"),
    (("steam", 3, None), "0d 0d 83 f0 11 01 09 03 84 1c 01 06 c0 7b"),
]
MONITOR = "0d 05 75 0f da 25"  # k-wojcik README, Arbuzov const.py DEBUG
# cafy commands.ts machine_status: parameters 0x32 (water hardness) and 0x3f (switches)
PARAMETER_READS = {0x32: "0d 08 95 0f 00 32 01 5d df", 0x3F: "0d 08 95 0f 00 3f 01 2b 83"}
OTHER_PARAMETER_READS = ["0d 08 95 0f 00 d2 01 4d 6d", "0d 08 95 0f 00 5f 03 00 eb"]
# cafy commands.ts use_profile_1..4; the answers from Arbuzov DEBUG_NOTES.md
SELECTIONS = {1: ("0d 06 a9 f0 01 d7 c0", "d0 07 a9 f0 01 00 3b 3c"),
              2: ("0d 06 a9 f0 02 e7 a3", "d0 07 a9 f0 02 00 6e 6f"),
              3: ("0d 06 a9 f0 03 f7 82", "d0 07 a9 f0 03 00 5d 5e"),
              4: ("0d 06 a9 f0 04 87 65", "d0 07 a9 f0 04 01 d4 e8")}
ALL_GOOD = "d0 12 75 0f 01 05 00 00 00 07 00 00 00 00 00 00 00 9d 61"  # Arbuzov DEBUG_NOTES.md
# Arbuzov const.py: START_COFFEE, WATER_SHORTAGE
START_COFFEE = "d0 12 75 0f 01 05 00 00 00 07 04 00 00 00 00 00 00 5c a7"
WATER_SHORTAGE = "d0 12 75 0f 01 45 00 01 00 07 00 00 00 00 00 00 00 2f 64"
# Arbuzov const.py BYTES_STATISTICS_COMMAND (its CRC is filled in at run time) and
# BYTES_LOAD_PROFILES with its profile count set to four (device.py sets command[5])
STATISTICS_HEAD = "0d 08 a2 0f 00 64 0a"
PROFILES_HEAD = "0d 07 a4 f0 01 04"


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)


def _sent(device: BenchDevice) -> list[bytes]:
    return [bytes(e.record.raw) for e in device.capture.entries
            if e.record.direction == "tx" and e.record.raw[:1] == bytes((REQUEST,))]


@pytest.fixture(scope="module")
def ecam() -> Iterator[EcamEmulator]:
    with EcamEmulator() as emulated:
        yield emulated


@pytest.fixture(scope="module")
def device(ecam: EcamEmulator) -> Iterator[BenchDevice]:
    with open_device(ecam.spec) as opened:
        yield opened


@pytest.mark.parametrize(("asked", "frame"), PUBLISHED_BREWS)
def test_a_brew_is_the_frame_the_app_sends(device: BenchDevice, ecam: EcamEmulator,
                                           asked: tuple[str, int, int | None], frame: str) -> None:
    drink, strength, size = asked
    device.machine.brew(drink, strength=strength, size_ml=size)
    assert _sent(device)[-1] == _hex(frame)
    assert ecam.machine.brews[-1] == (_hex(frame)[4], 1)


def test_status_and_parameter_reads_are_the_apps_frames(device: BenchDevice) -> None:
    device.machine.status()
    assert _sent(device)[-1] == _hex(MONITOR)
    device.machine.read_settings()
    sent = _sent(device)
    for frame in PARAMETER_READS.values():
        assert _hex(frame) in sent
    assert all(f[2] != 0x95 or len(f) == 9 for f in sent)  # every parameter read has a count
    assert any(f[:6] == _hex(PROFILES_HEAD) for f in sent)


def test_statistics_are_read_at_most_ten_at_a_time(device: BenchDevice) -> None:
    device.machine.read_counters()
    reads = [decode(f) for f in _sent(device) if f[2] == 0xA2]
    assert reads[0].data == _hex(STATISTICS_HEAD)[3:]
    assert reads and all(frame.data[3] <= 10 for frame in reads)


def test_profile_selection_is_the_apps_frame_and_brews_follow_it(device: BenchDevice,
                                                                 ecam: EcamEmulator) -> None:
    device.machine.select_profile(2)
    assert _sent(device)[-1] == _hex(SELECTIONS[2][0])
    device.machine.brew("espresso", strength=3)
    assert _sent(device)[-1][-3] == 2 << 2 | 2 and ecam.machine.brews[-1] == (1, 2)
    device.machine.select_profile(1)


@pytest.mark.parametrize("number", sorted(SELECTIONS))
def test_the_emulator_answers_a_selection_as_published(number: int) -> None:
    request, answer = SELECTIONS[number]
    assert EmulatedEcam().answer(_hex(request)) == _hex(answer)


def test_the_emulator_answers_the_published_monitor_request_with_a_published_status() -> None:
    assert EmulatedEcam().answer(_hex(MONITOR)) == _hex(ALL_GOOD)


@pytest.mark.parametrize("request_", [*PARAMETER_READS.values(), *OTHER_PARAMETER_READS])
def test_the_emulator_answers_published_parameter_reads_as_the_apps_decoder_reads_them(
        request_: str) -> None:
    raw = _hex(request_)
    answer = EmulatedEcam().answer(raw)
    assert answer is not None
    frame = decode(answer)  # length, CRC
    count = raw[6]
    assert len(answer) == 7 + 4 * count + 1  # cafy decoder.ts getParametersFromByte: (len-7)/4
    assert frame.data[:3] == raw[3:6]


def test_a_parameter_read_without_its_count_gets_no_answer() -> None:
    machine = EmulatedEcam()
    assert machine.answer(encode(0x95, _hex("0f 00 32"))) is None
    assert machine.unknown_commands == 1


@pytest.mark.parametrize("frame", [brew for _, brew in PUBLISHED_BREWS])
def test_the_emulator_takes_every_published_brew(frame: str) -> None:
    machine = EmulatedEcam()
    answer = machine.answer(_hex(frame))
    assert answer is not None and decode(answer).data[:3] == _hex(frame)[3:6]
    assert machine.brews == [(_hex(frame)[4], 1)]


def test_the_published_power_on_is_taken_without_an_answer() -> None:
    machine = EmulatedEcam()
    assert machine.answer(_hex("0d 07 84 0f 02 01 55 12")) is None  # Arbuzov const.py BYTES_POWER
    assert machine.powered_on == 1 and machine.unknown_commands == 0


def test_a_drink_starting_is_not_ready_and_every_alarm_byte_counts() -> None:
    assert status(decode(_hex(START_COFFEE)))["function"] == "dispensing"
    assert status(decode(_hex(ALL_GOOD)))["function"] == "ready"
    assert status(decode(_hex(WATER_SHORTAGE)))["alarms_named"] == ["water_tank_empty"]
    head = _hex(ALL_GOOD)[:-2]
    high = head[:12] + bytes((0x02, 0x00)) + head[14:]  # byte 12 bit 1: alarm 17
    high = high + crc(high).to_bytes(2, "big")
    assert status(decode(high))["alarms_named"] == ["bean_hopper_absent"]


def test_a_host_that_subscribes_with_indications_gets_the_answers_so() -> None:
    """The vendor app subscribes with indications; the emulated machine answers a
    published request through them (and the server's CCCD says indications)."""
    from bleak import BleakClient

    from brewbench.drivers.ecam.gatt import CHARACTERISTIC_UUID
    from brewbench.emulator.ble_client import EmulatedClient

    with EcamEmulator() as emulated:
        link = emulated.link
        air, address = link.air, link.address

        async def ask() -> tuple[bytes, bytes]:
            got: asyncio.Queue[bytes] = asyncio.Queue()
            async with BleakClient(address, backend=EmulatedClient, air=air) as client:
                await client.start_notify(CHARACTERISTIC_UUID, lambda _c, data: got.put_nowait(
                    bytes(data)), force_indicate=True)
                await client.write_gatt_char(CHARACTERISTIC_UUID, _hex(MONITOR), response=True)
                answer = await asyncio.wait_for(got.get(), 10)
                device, connection, notifier = link._device, link._connection, link._notifier
                assert device is not None and connection is not None and notifier is not None
                cccd = device.gatt_server.read_cccd(connection, notifier)
                return answer, cccd

        answer, cccd = asyncio.run(ask())
    assert answer == _hex(ALL_GOOD) and cccd == b"\x02\x00"


def test_right_after_a_brew_starts_the_machine_is_dispensing_not_ready() -> None:
    machine = EmulatedEcam()
    machine.answer(_hex(PUBLISHED_BREWS[0][1]))
    assert machine.answer(_hex(MONITOR)) == _hex(START_COFFEE)  # the published status
    assert machine.answer(_hex(MONITOR)) == _hex(ALL_GOOD)
