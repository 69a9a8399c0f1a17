"""USB link: the bench's capture vs plain pyusb on the emulated bus, side by side.

    python benchmarks/link_usb.py [--frames 20000] [--rounds 2000] [--runs 3]

Throughput: a device-side thread writes the same pre-built telemetry frames to
bulk IN of an emulated machine; once a plain ``dev.read`` loop reads them, once
the bench's UsbTransport + Connection + Capture decodes and records every frame.
Round trip: a raw ``dev.write`` + ``dev.read`` of a STATUS request vs
``CoffeeMachine.status()``, against the same emulated machine.
Raw and bench runs alternate, with small then large frames.
Both sides run the same pyusb calls over the same backend, so the ratios show
what the bench adds on top of pyusb, not the speed of a real USB wire.
"""

from __future__ import annotations

import threading
import time

import usb.core
import usb.util
from alternating import (
    STATUS_REQUEST,
    alternate,
    alternate_blocks,
    link_main,
    print_round_trip,
    print_throughput,
    telemetry_frames,
    wait_until,
)

from brewbench.bench.capture import Capture
from brewbench.drivers.connection import Connection
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.specs import parse_spec
from brewbench.drivers.usb_protocol import EP_IN, EP_OUT, PRODUCT_ID, VENDOR_ID
from brewbench.drivers.usb_transport import READ_SIZE, UsbTransport
from brewbench.emulator.machine import EmulatedMachine
from brewbench.emulator.usb_link import UsbLink


def device_writer(link: UsbLink, frames: list[bytes]) -> threading.Thread:
    def send() -> None:
        for frame in frames:
            link.device.send_in(frame)
    return threading.Thread(target=send, daemon=True)


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
    wait_until(lambda: len(capture.entries) >= already + len(frames))
    elapsed = time.perf_counter() - start
    connection.close()
    numbers = [m.body["n"] for m in capture.messages()]
    assert numbers == list(range(len(frames))), "the capture lost or reordered frames"
    return elapsed


def throughput(count: int, pad: int, runs: int) -> None:
    frames = telemetry_frames(count, pad)
    link = UsbLink(EmulatedMachine("2.1"))
    link.start()
    try:
        raw, bench = alternate(runs, lambda: raw_throughput(link, frames),
                               lambda: bench_throughput(link, frames))
    finally:
        link.stop()
    print_throughput("pyusb read", raw, bench, sum(len(f) for f in frames), count, runs)


def raw_round_trips(link: UsbLink, rounds: int) -> list[float]:
    dev = usb.core.find(backend=link.bus, idVendor=VENDOR_ID, idProduct=PRODUCT_ID)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        dev.write(EP_OUT, STATUS_REQUEST)
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


def latency(rounds: int, runs: int) -> None:
    link = UsbLink(EmulatedMachine("2.1"))
    link.start()
    try:
        raw, bench = alternate_blocks(runs, lambda: raw_round_trips(link, rounds // runs),
                                      lambda: bench_round_trips(link, rounds // runs))
    finally:
        link.stop()
    print_round_trip(raw, bench, runs)


if __name__ == "__main__":
    link_main(__doc__, throughput, latency)
