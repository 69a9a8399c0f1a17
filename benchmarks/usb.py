"""USB link: the bench's capture vs plain pyusb on the emulated bus, side by side.

    python benchmarks/usb.py [--frames 20000] [--rounds 2000]

Throughput: a device-side thread writes the same pre-built telemetry frames to
bulk IN of an emulated machine; once a plain ``dev.read`` loop reads them, once
the bench's UsbTransport + Connection + Capture decodes and records every frame.
Round trip: a raw ``dev.write`` + ``dev.read`` of a STATUS request vs
``CoffeeMachine.status()``, against the same emulated machine.
Both sides run the same pyusb calls over the same backend, so the ratios show
what the bench adds on top of pyusb, not the speed of a real USB wire.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

# This file is called usb.py; keep its folder from shadowing pyusb.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import usb.core
import usb.util

from brewbench.bench.capture import Capture
from brewbench.drivers.connection import Connection
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.specs import parse_spec
from brewbench.drivers.usb_protocol import EP_IN, EP_OUT, PRODUCT_ID, VENDOR_ID
from brewbench.drivers.usb_transport import READ_SIZE, UsbTransport
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.usb_link import UsbLink


def telemetry_frames(count: int) -> list[bytes]:
    return [Message(Kind.EVENT, MsgType.TELEMETRY, n & 0xFFFF,
                    {"n": n, "temp_c": 92.5, "pressure_bar": 9.0, "pad": "x" * 64}).encode()
            for n in range(count)]


def device_writer(link: UsbLink, frames: list[bytes]) -> threading.Thread:
    return threading.Thread(target=lambda: [link.device.send_in(f) for f in frames], daemon=True)


def raw_throughput(link: UsbLink, frames: list[bytes]) -> float:
    total = sum(len(f) for f in frames)
    dev = usb.core.find(backend=link.bus, idVendor=VENDOR_ID, idProduct=PRODUCT_ID)
    usb.util.claim_interface(dev, 0)
    writer = device_writer(link, frames)
    start = time.perf_counter()
    writer.start()
    got = 0
    while got < total:
        got += len(dev.read(EP_IN, READ_SIZE, timeout=2000))
    elapsed = time.perf_counter() - start
    usb.util.dispose_resources(dev)
    return elapsed


def bench_throughput(link: UsbLink, frames: list[bytes]) -> float:
    connection = Connection(UsbTransport.from_spec(parse_spec(link.url)))
    capture = Capture(link.url)
    connection.attach(capture)
    connection.open()
    already = len(capture.entries)  # the link-status control transfer at open
    writer = device_writer(link, frames)
    start = time.perf_counter()
    writer.start()
    while len(capture.entries) < already + len(frames):
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    connection.close()
    numbers = [m.body["n"] for m in capture.messages()]
    assert numbers == list(range(len(frames))), "the capture lost or reordered frames"
    return elapsed


def throughput(count: int) -> None:
    frames = telemetry_frames(count)
    mb = sum(len(f) for f in frames) / 1e6
    link = UsbLink(EmulatedMachine("2.1"))
    link.start()
    try:
        raw = raw_throughput(link, frames)
        bench = bench_throughput(link, frames)
    finally:
        link.stop()
    print(f"throughput  raw pyusb read {mb / raw:8.1f} MB/s   bench capture {mb / bench:8.1f} MB/s"
          f"   ratio bench/raw {raw / bench:5.2f}  ({count} frames, {mb:.1f} MB)")


def raw_round_trips(link: UsbLink, rounds: int) -> list[float]:
    request = Message(Kind.REQUEST, MsgType.STATUS, 1, {}).encode()
    dev = usb.core.find(backend=link.bus, idVendor=VENDOR_ID, idProduct=PRODUCT_ID)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        dev.write(EP_OUT, request)
        reply = b""
        while not reply.endswith(b"\x00"):
            reply += bytes(dev.read(EP_IN, READ_SIZE, timeout=2000))
        times.append(time.perf_counter() - t)
    usb.util.dispose_resources(dev)
    return times


def bench_round_trips(link: UsbLink, rounds: int) -> list[float]:
    times = []
    with CoffeeMachine(Connection(UsbTransport.from_spec(parse_spec(link.url)))) as machine:
        machine.connection.attach(Capture(link.url))
        for _ in range(rounds):
            t = time.perf_counter()
            machine.status()
            times.append(time.perf_counter() - t)
    return times


def latency(rounds: int) -> None:
    link = UsbLink(EmulatedMachine("2.1"))
    link.start()
    try:
        raw_us, bench_us = (statistics.median(times) * 1e6 for times in (
            raw_round_trips(link, rounds), bench_round_trips(link, rounds)))
    finally:
        link.stop()
    print(f"round trip  raw write/read {raw_us:8.0f} µs    bench status() {bench_us:8.0f} µs"
          f"   ratio bench/raw {bench_us / raw_us:5.2f}  (median of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    throughput(args.frames)
    latency(args.rounds)


if __name__ == "__main__":
    main()
