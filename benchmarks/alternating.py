"""What the link benchmarks share: the frames they send, alternating raw and bench runs,
and the lines they print. Raw and bench runs alternate so both meet the same load."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from brewbench.drivers.messages import Kind, Message, MsgType

STATUS_REQUEST = Message(Kind.REQUEST, MsgType.STATUS, 1, {}).encode()


def telemetry_frames(count: int, pad: int = 64) -> list[bytes]:
    """``count`` encoded TELEMETRY events numbered 0.., each with ``pad`` bytes of text."""
    return [Message(Kind.EVENT, MsgType.TELEMETRY, n & 0xFFFF,
                    {"n": n, "temp_c": 92.5, "pressure_bar": 9.0, "pad": "x" * pad}).encode()
            for n in range(count)]


def wait_until(done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``done`` (cheaply: the reader thread needs the GIL) until true or time is up."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench did not receive every frame in time")
        time.sleep(0.0005)


def alternate(runs: int, raw: Callable[[], float], bench: Callable[[], float]) -> tuple[float, float]:
    """Best seconds of ``runs`` alternating raw and bench runs."""
    raw_times, bench_times = [], []
    for _ in range(runs):
        raw_times.append(raw())
        bench_times.append(bench())
    return min(raw_times), min(bench_times)


def alternate_blocks(runs: int, raw: Callable[[], list[float]],
                     bench: Callable[[], list[float]]) -> tuple[list[float], list[float]]:
    """Round-trip times from ``runs`` alternating raw and bench blocks."""
    raw_times: list[float] = []
    bench_times: list[float] = []
    for _ in range(runs):
        raw_times += raw()
        bench_times += bench()
    return raw_times, bench_times


def print_throughput(what: str, raw_s: float, bench_s: float, size: int, count: int, runs: int) -> None:
    mb = size / 1e6
    print(f"throughput  raw {what} {mb / raw_s:8.1f} MB/s   bench capture "
          f"{mb / bench_s:8.1f} MB/s   ratio bench/raw {raw_s / bench_s:5.2f}"
          f"  ({count} frames of {round(size / count)} bytes, {mb:.1f} MB, best of {runs})")


def print_round_trip(raw: list[float], bench: list[float], runs: int) -> None:
    raw_us, bench_us = (statistics.median(times) * 1e6 for times in (raw, bench))
    print(f"round trip  raw write/read {raw_us:8.0f} µs    bench status() {bench_us:8.0f} µs"
          f"   ratio bench/raw {bench_us / raw_us:5.2f}  (median of {len(raw)},"
          f" {runs} alternating blocks)")


def link_main(doc: str | None, throughput: Callable[[int, int, int], None],
              latency: Callable[[int, int], None]) -> None:
    """The command line of a link benchmark: small frames, large frames, round trips."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3,
                        help="alternating raw/bench runs (throughput) and blocks (round trip)")
    args = parser.parse_args()
    throughput(args.frames, 64, args.runs)
    throughput(args.frames // 10, 4000, args.runs)  # large frames: per-frame costs amortised
    latency(args.rounds, args.runs * 2)
