"""Serial link: the bench's capture vs plain pyserial on the same pty, side by side.

    python benchmarks/link_serial.py [--frames 20000] [--rounds 2000] [--runs 3]

Throughput: a separate process writes the same pre-built stream of telemetry frames
into a pty; once a plain ``serial.Serial`` read loop reads it, once the bench's
SerialTransport + Connection + Capture decodes and records every frame; first with
small frames, then with large ones. Latency: against one emulated machine in a
separate process (``brewbench emulate``), a raw write + read loop of a STATUS request
vs ``CoffeeMachine.status()``. Raw and bench runs alternate so both meet the same load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tty
from collections.abc import Callable
from multiprocessing import Process

import serial
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
from brewbench.drivers.serial_transport import SerialTransport


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:65536]):]


Reader = Callable[[str, Process], float]


def feed_pty(stream: bytes, reader: Reader) -> float:
    """Run ``reader`` on a fresh pty that a writer process fills; return seconds taken.

    The reader opens the port, starts the writer, reads everything and returns the
    moment it started the writer.
    """
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    writer = Process(target=_write_all, args=(master, stream))
    started = reader(os.ttyname(slave), writer)
    elapsed = time.perf_counter() - started
    writer.join()
    os.close(master)
    os.close(slave)
    return elapsed


def raw_reader(total: int) -> Reader:
    def read(path: str, writer: Process) -> float:
        with serial.Serial(path, 115200, timeout=1) as port:
            start = time.perf_counter()
            writer.start()
            got = 0
            while got < total:
                got += len(port.read(port.in_waiting or 1))
            return start
    return read


def bench_reader(frames: int) -> Reader:
    def read(path: str, writer: Process) -> float:
        connection = Connection(SerialTransport(path))
        capture = Capture(path)
        connection.attach(capture)
        connection.open()
        start = time.perf_counter()
        writer.start()
        writer.join()  # waits without the GIL, which the reader thread needs
        wait_until(lambda: len(capture.entries) >= frames)
        connection.close()
        numbers = [m.body["n"] for m in capture.messages()]
        assert numbers == list(range(frames)), "the capture lost or reordered frames"
        return start
    return read


def throughput(frames: int, pad: int, runs: int) -> None:
    stream = b"".join(telemetry_frames(frames, pad))
    raw, bench = alternate(runs, lambda: feed_pty(stream, raw_reader(len(stream))),
                           lambda: feed_pty(stream, bench_reader(frames)))
    print_throughput("pyserial", raw, bench, len(stream), frames, runs)


def raw_round_trips(path: str, rounds: int) -> list[float]:
    times = []
    with serial.Serial(path, 115200, timeout=2) as port:
        for _ in range(rounds):
            t = time.perf_counter()
            port.write(STATUS_REQUEST)
            reply = b""
            while not reply.endswith(b"\x00"):  # read_until() reads byte by byte: slower
                reply += port.read(port.in_waiting or 1)
            times.append(time.perf_counter() - t)
    return times


def bench_round_trips(path: str, rounds: int) -> list[float]:
    times = []
    with CoffeeMachine(Connection(SerialTransport(path))) as machine:
        machine.connection.attach(Capture(path))
        for _ in range(rounds):
            t = time.perf_counter()
            machine.status()
            times.append(time.perf_counter() - t)
    return times


def latency(rounds: int, runs: int) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "brewbench", "emulate"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        path = next(line.split(": ", 1)[1].strip() for line in iter(proc.stdout.readline, "")
                    if line.startswith("port:"))
        raw, bench = alternate_blocks(runs, lambda: raw_round_trips(path, rounds // runs),
                                      lambda: bench_round_trips(path, rounds // runs))
    finally:
        proc.terminate()
        proc.wait()
    print_round_trip(raw, bench, runs)


if __name__ == "__main__":
    link_main(__doc__, throughput, latency)
