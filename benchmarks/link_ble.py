"""Bluetooth LE link: the bench vs plain bleak calls on the same emulated peripheral.

    python benchmarks/link_ble.py [--rounds 500] [--frames 3000]

One emulated 2.1 machine advertises on an emulated air (bumble, in this process).
Round trip: a STATUS request written with ``write_gatt_char`` and its response
awaited from ``start_notify`` (raw bleak on an asyncio loop) vs ``CoffeeMachine.status()``
through ``BleTransport`` + ``Connection`` + ``Capture``.
Throughput: the machine bursts telemetry notifications; raw bleak counts frame
delimiters in what arrives, the bench decodes and records every frame.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bleak import BleakClient

from brewbench.bench.devices import open_device
from brewbench.drivers.ble_profile import NOTIFY_UUID, WRITE_UUID
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.emulator.ble_air import Air
from brewbench.emulator.ble_client import EmulatedClient
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.serve import Emulator


class RawCentral:
    """Plain bleak: counts frames (0x00 delimiters) in notifications; no decoding."""

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.wanted = 0
        self.reached: asyncio.Event = asyncio.Event()

    def on_notify(self, _char: object, data: bytearray) -> None:
        self.bytes += len(data)
        self.frames += data.count(0)
        if self.frames >= self.wanted:
            self.reached.set()

    def arm(self, frames: int) -> None:
        """Wait for ``frames`` more frames from now (call before causing them)."""
        self.wanted = self.frames + frames
        self.reached.clear()

    async def arrived(self) -> None:
        if self.frames < self.wanted:
            await asyncio.wait_for(self.reached.wait(), 60)


async def raw_run(address: str, air: Air, machine: EmulatedMachine, rounds: int,
                  frames: int) -> tuple[list[float], float, int]:
    central = RawCentral()
    async with BleakClient(address, backend=EmulatedClient, air=air) as client:
        await client.start_notify(NOTIFY_UUID, central.on_notify)
        times = []
        for seq in range(1, rounds + 1):
            request = Message(Kind.REQUEST, MsgType.STATUS, seq, {}).encode()
            start = time.perf_counter()
            central.arm(1)
            await client.write_gatt_char(WRITE_UUID, request, response=True)
            await central.arrived()
            times.append(time.perf_counter() - start)
        before = central.bytes
        start = time.perf_counter()
        central.arm(frames)
        machine.burst(frames)
        await central.arrived()
        return times, time.perf_counter() - start, central.bytes - before


def bench_run(spec: str, machine: EmulatedMachine, rounds: int,
              frames: int) -> tuple[list[float], float]:
    with open_device(spec) as device:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            device.machine.status()
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        machine.burst(frames)
        got = 0
        while got < frames:
            got += len(device.machine.connection.take(
                lambda m: m.type == MsgType.TELEMETRY, timeout=60))
        return times, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args()
    raw_times: list[float] = []
    bench_times: list[float] = []
    raw_rates: list[float] = []
    bench_rates: list[float] = []
    with Emulator("2.1", transport="ble") as emulator:
        link = emulator.link
        address, air = link.address, link.air  # type: ignore[attr-defined]
        for _ in range(args.repeat):
            times, raw_s, size = asyncio.run(raw_run(address, air, emulator.machine,
                                                     args.rounds, args.frames))
            raw_times += times
            raw_rates.append(size / raw_s / 1e3)
            times, bench_s = bench_run(emulator.spec, emulator.machine, args.rounds, args.frames)
            bench_times += times
            bench_rates.append(size / bench_s / 1e3)
    raw_us, bench_us = (statistics.median(t) * 1e6 for t in (raw_times, bench_times))
    print(f"round trip  raw bleak {raw_us:8.0f} µs   bench status() {bench_us:8.0f} µs"
          f"   ratio bench/raw {bench_us / raw_us:5.2f}  (median of {len(raw_times)})")
    raw_kbs, bench_kbs = statistics.median(raw_rates), statistics.median(bench_rates)
    print(f"throughput  raw bleak {raw_kbs:8.0f} kB/s  bench capture {bench_kbs:8.0f} kB/s"
          f"   ratio bench/raw {bench_kbs / raw_kbs:5.2f}  (median of {args.repeat} bursts of "
          f"{args.frames} notified frames, {size / 1e3:.0f} kB each)")


if __name__ == "__main__":
    main()
