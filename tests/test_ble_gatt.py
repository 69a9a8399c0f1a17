"""The GATT side of a machine: Device Information, frames larger than the MTU, notification order."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from bleak import BleakClient
from bleak.exc import BleakError, BleakGATTProtocolError

from brewbench.bench.devices import open_device
from brewbench.drivers.ble_profile import DIS_FIELDS, NOTIFY_UUID, WRITE_UUID
from brewbench.drivers.framing import FrameSplitter
from brewbench.drivers.messages import Kind, Message, MsgType, decode_message
from brewbench.emulator.ble_air import Air
from brewbench.emulator.ble_client import EmulatedClient
from brewbench.emulator.ble_link import BleLink
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.serve import Emulator

SERIAL_NUMBER = "BB4242"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator("2.1", transport="ble", serial=SERIAL_NUMBER) as emulator:
        yield emulator


def test_bleak_reads_device_information(emulator: Emulator) -> None:
    air = emulator.link.air  # type: ignore[attr-defined]
    address = emulator.link.address  # type: ignore[attr-defined]

    async def read() -> dict[str, str]:
        async with BleakClient(address, backend=EmulatedClient, air=air) as client:
            values = {name: (await client.read_gatt_char(uuid)).decode()
                      for uuid, name in DIS_FIELDS.items()}
            with pytest.raises(BleakGATTProtocolError, match="Write Not Permitted"):
                await client.write_gatt_char(next(iter(DIS_FIELDS)), b"Evil Corp", response=True)
            return values

    assert asyncio.run(read()) == {"manufacturer": "Acme Kaffeetechnik", "model": "CM-500",
                                   "serial": SERIAL_NUMBER, "firmware": "2.1"}


def test_bench_records_device_information_reads(emulator: Emulator) -> None:
    with open_device(emulator.spec) as device:
        reads = [e.record.meta for e in device.capture.entries if e.record.meta.get("gatt")]
        transport = device.machine.connection.transport
        assert transport.device_information["serial"] == SERIAL_NUMBER
    assert {m["field"]: m["value"] for m in reads}["serial"] == SERIAL_NUMBER
    assert all(m["gatt"] == "read" for m in reads) and len(reads) == len(DIS_FIELDS)


@pytest.mark.parametrize("write", ["response", "command"])
def test_frames_larger_than_the_mtu_both_ways(emulator: Emulator, write: str) -> None:
    drink = "ristretto " * 70  # a 700-byte request: longer than the MTU and a long write
    with open_device(f"{emulator.spec}&write={write}") as device:
        mtu = int(device.capture.meta["mtu"])
        device.machine.brew(drink)
        lines = device.machine.read_logs()
        frames = device.capture.entries
    assert any(drink.strip() in line for line in lines)
    sent = [e.record for e in frames if e.action == "brew" and e.record.direction == "tx"]
    got = [e.record for e in frames if e.action == "read_logs" and e.record.direction == "rx"]
    assert len(sent[0].raw) > 512 > mtu and len(got[0].raw) > mtu
    assert device.capture.frame_errors == 0


def test_write_without_response_is_bounded_by_the_mtu(emulator: Emulator) -> None:
    air = emulator.link.air  # type: ignore[attr-defined]
    address = emulator.link.address  # type: ignore[attr-defined]

    async def write() -> int:
        async with BleakClient(address, backend=EmulatedClient, air=air) as client:
            char = client.services.get_characteristic(WRITE_UUID)
            assert char is not None
            with pytest.raises(BleakError, match="max_write_without_response_size"):
                await client.write_gatt_char(char, bytes(char.max_write_without_response_size + 1),
                                             response=False)
            return char.max_write_without_response_size

    assert asyncio.run(write()) == 244


def test_bleak_notifications_arrive_in_order_under_load(emulator: Emulator) -> None:
    air = emulator.link.air  # type: ignore[attr-defined]
    address = emulator.link.address  # type: ignore[attr-defined]
    count = 400

    async def listen() -> list[int]:
        splitter, numbers = FrameSplitter(), []
        done = asyncio.Event()

        def on_notify(_char: object, data: bytearray) -> None:
            for span in splitter.feed(bytes(data)):
                assert span.frame is not None, span.error
                message = decode_message(span.frame)
                if message.type == MsgType.TELEMETRY:
                    numbers.append(int(message.body["n"]))
                if len(numbers) == count:
                    done.set()

        async with BleakClient(address, backend=EmulatedClient, air=air) as client:
            await client.start_notify(NOTIFY_UUID, on_notify)
            hello = Message(Kind.REQUEST, MsgType.HELLO, 1, {"versions": [1]})
            await client.write_gatt_char(WRITE_UUID, hello.encode(), response=True)
            emulator.machine.burst(count)
            await asyncio.wait_for(done.wait(), 30)
        return numbers

    assert asyncio.run(listen()) == list(range(count))


def test_bench_loses_no_notification_under_load(emulator: Emulator) -> None:
    count = 2000
    with open_device(emulator.spec) as device:
        emulator.machine.burst(count)
        numbers: list[int] = []
        while len(numbers) < count:
            batch = device.machine.connection.take(lambda m: m.type == MsgType.TELEMETRY,
                                                   timeout=10)
            assert batch, f"stalled after {len(numbers)} telemetry messages"
            numbers += [int(m.body["n"]) for m in batch]
        assert device.machine.status()["state"] == "ready"
    assert numbers == list(range(count))
    assert device.capture.frame_errors == 0


def test_emulated_air_writes_btsnoop_files(tmp_path: Path) -> None:
    with Air(snoop_dir=tmp_path) as air:
        link = BleLink(EmulatedMachine("1.0", serial=SERIAL_NUMBER), air)
        link.start()
        with open_device(f"ble://address={link.address}?backend={air.name}") as device:
            device.machine.status()
        link.stop()
    logs = {path.name: path.read_bytes() for path in tmp_path.glob("*.btsnoop")}
    assert {"machine-1.btsnoop", "central-3.btsnoop"} <= set(logs)
    assert all(data.startswith(b"btsnoop\0") for data in logs.values())
    assert SERIAL_NUMBER.encode() in logs["central-3.btsnoop"]  # the DIS read, as received
