"""Serial link: the bench's capture vs plain pyserial on the same pty, side by side.

    python benchmarks/serial.py [--frames 20000] [--rounds 2000] [--runs 3]

Throughput: a separate process writes the same pre-built stream of telemetry frames
into a pty; once a plain ``serial.Serial`` read loop reads it, once the bench's
SerialTransport + Connection + Capture decodes and records every frame; first with
small frames, then with large ones. Latency: against one emulated machine in a
separate process (``brewbench emulate``), a raw write + read loop of a STATUS request
vs ``CoffeeMachine.status()``. Raw and bench runs alternate so both meet the same load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tty
from collections.abc import Callable
from multiprocessing import Process
from pathlib import Path

# This file is called serial.py; keep its folder from shadowing pyserial.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import serial

from brewbench.bench.capture import Capture
from brewbench.drivers.connection import Connection
from brewbench.drivers.machine import CoffeeMachine
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.serial_transport import SerialTransport


def telemetry_stream(frames: int, pad: int = 64) -> bytes:
    return b"".join(Message(Kind.EVENT, MsgType.TELEMETRY, n & 0xFFFF,
                            {"n": n, "temp_c": 92.5, "pressure_bar": 9.0, "pad": "x" * pad}).encode()
                    for n in range(frames))


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
        while len(capture.entries) < frames:
            time.sleep(0.0005)
        connection.close()
        numbers = [m.body["n"] for m in capture.messages()]
        assert numbers == list(range(frames)), "the capture lost or reordered frames"
        return start
    return read


def throughput(frames: int, pad: int, runs: int) -> None:
    """Raw and bench runs alternate so both meet the same load; the best of each counts."""
    stream = telemetry_stream(frames, pad)
    raw, bench = [], []
    for _ in range(runs):
        raw.append(feed_pty(stream, raw_reader(len(stream))))
        bench.append(feed_pty(stream, bench_reader(frames)))
    mb = len(stream) / 1e6
    print(f"throughput  raw pyserial {mb / min(raw):8.1f} MB/s   bench capture "
          f"{mb / min(bench):8.1f} MB/s   ratio bench/raw {min(raw) / min(bench):5.2f}"
          f"  ({frames} frames of {len(stream) // frames} bytes, {mb:.1f} MB, best of {runs})")


def raw_round_trips(path: str, rounds: int) -> list[float]:
    request = Message(Kind.REQUEST, MsgType.STATUS, 1, {}).encode()
    times = []
    with serial.Serial(path, 115200, timeout=2) as port:
        for _ in range(rounds):
            t = time.perf_counter()
            port.write(request)
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
    """Raw and bench take turns in ``runs`` blocks so both meet the same load."""
    proc = subprocess.Popen([sys.executable, "-m", "brewbench", "emulate"],
                            stdout=subprocess.PIPE, text=True)
    raw_times: list[float] = []
    bench_times: list[float] = []
    try:
        assert proc.stdout is not None
        path = next(line.split(": ", 1)[1].strip() for line in iter(proc.stdout.readline, "")
                    if line.startswith("port:"))
        for _ in range(runs):
            raw_times += raw_round_trips(path, rounds // runs)
            bench_times += bench_round_trips(path, rounds // runs)
    finally:
        proc.terminate()
        proc.wait()
    raw_us, bench_us = (statistics.median(x) * 1e6 for x in (raw_times, bench_times))
    print(f"round trip  raw write/read {raw_us:8.0f} µs    bench status() {bench_us:8.0f} µs"
          f"   ratio bench/raw {bench_us / raw_us:5.2f}  (median of {len(raw_times)},"
          f" {runs} alternating blocks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3,
                        help="alternating raw/bench runs (throughput) and blocks (round trip)")
    args = parser.parse_args()
    throughput(args.frames, 64, args.runs)
    throughput(args.frames // 10, 4000, args.runs)  # large frames: per-frame costs amortised
    latency(args.rounds, args.runs * 2)


if __name__ == "__main__":
    main()
