"""Fuzz what a hostile device can send through decode, save and analysis.

    python benchmarks/fuzz_hostile.py [--count 1000000] [--seed 1] [--hunt-every 16]

Each input is the body of one frame a device sends: a generated CBOR value
(tags, self-reference and shared parts via tags 28/29, non-text keys, huge
integers, NaN/inf, undefined, simple values, bytes, deep nesting, known tags
with wrong content) or one of those mutated (bytes flipped, inserted, deleted,
cut, spliced). Every input goes through what the bench does with a frame:

    decode   decode_wire, exactly as the connection does
    save     the capture's own JSON Lines form (to_lines / from_lines), json text
             in between, then a check that the reloaded body is the same value
    analyse  emissions, classification, redaction (map_leaves with tokens) and,
             every --hunt-every input, the canary hunter

and is counted by outcome:

    frame_error      the codec refused it (its own FrameError: expected)
    saved_analysed   decoded, saved, reloaded identical, analysed
    unanalysed       analysis of the record failed and was reported as a finding
    save_mismatch    reloaded body differs from the decoded one (a bug)
    crash            any other exception escaped (a bug)

Exit status 1 if any input ended in save_mismatch or crash.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from typing import Any

import cbor2

from brewbench.bench.capture import Capture
from brewbench.bench.values import to_json
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.capture_redaction import redact_capture
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.redact import Redactor
from brewbench.drivers.errors import FrameError
from brewbench.drivers.framing import encode_frame
from brewbench.drivers.messages import Kind, MsgType, decode_wire
from brewbench.drivers.records import RX, Record, Stamp

CANARIES = plant("7F3A9C2E")
REDACTOR = Redactor(b"fuzz key, not a lab key" + bytes(8))
TAGS = (0, 1, 2, 3, 4, 5, 21, 22, 23, 24, 25, 30, 32, 33, 34, 35, 36, 37, 256, 258, 260, 261,
        1001, 55799, 99, 12345)
KEYS = ("card_number", "owner", "n", "x", "$bytes", "$ref", "$graph", "$redacted", "lat", "lon")


class Generator:
    """Random device bodies, as CBOR bytes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def body(self) -> bytes:
        r = self.rng.random()
        if r < 0.05:  # deep nesting around the decoder's limit
            depth = self.rng.choice((50, 100, 399, 400, 401, 1000))
            return b"\xa1\x61x" + b"\x81" * depth + b"\x00"
        value = self.value(0)
        if r < 0.3:  # shared and self-referring parts (tags 28/29)
            shared = [value, self.value(2)]
            body: Any = {"a": shared, "b": shared, "c": [shared, {"d": shared}]}
            if self.rng.random() < 0.5:
                shared.append(shared)
            return cbor2.dumps(body, value_sharing=True)
        if not isinstance(value, dict) or self.rng.random() < 0.7:
            value = {self.key(): value, self.key(): self.value(1)}
        return cbor2.dumps(value)

    def key(self) -> Any:
        r = self.rng.random()
        if r < 0.6:
            return self.rng.choice(KEYS)
        return self.rng.choice((7, -1, 2**70, b"k", 1.5, True, None, (1, "t"),
                                cbor2.frozendict({1: 2}), "Ada Canary-7F3A"))

    def value(self, depth: int) -> Any:
        rng = self.rng
        kind = rng.randrange(14 if depth < 6 else 9)
        if kind == 0:
            return rng.choice((0, 1, -1, 2**53, -(2**53) - 1, 2**64, -(2**64) - 1,
                               10 ** rng.randrange(1, 8000), -(10 ** rng.randrange(1, 500))))
        if kind == 1:
            return rng.choice((math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, rng.random()))
        if kind == 2:
            return rng.choice(("", "latte", CANARIES["owner"], CANARIES["card_number"],
                               "\u0000\u202e<script>", "x" * rng.randrange(0, 3000)))
        if kind == 3:
            return rng.randbytes(rng.randrange(0, 64))
        if kind == 4:
            return rng.choice((None, True, False, cbor2.undefined,
                               cbor2.CBORSimpleValue(rng.choice((0, 19, 32, 99, 255)))))
        if kind == 5:
            return CANARIES["card_number"].encode()
        if kind == 6:
            return 3.25
        if kind == 7:
            return rng.randrange(-1000, 1000)
        if kind == 8:
            return "text"
        if kind == 9:
            return [self.value(depth + 1) for _ in range(rng.randrange(0, 5))]
        if kind == 10:
            return {self.key(): self.value(depth + 1) for _ in range(rng.randrange(0, 5))}
        if kind == 11:
            return cbor2.CBORTag(rng.choice(TAGS), self.value(depth + 1))
        if kind == 12:
            return {(1, 2): self.value(depth + 1), b"\x00": [], 3.5: {}}
        return cbor2.CBORTag(258, [1, 2, "x"])  # a set


def mutate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """One to four random edits of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(6)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[at:at] = bytes([rng.choice((0x00, 0x18, 0x1b, 0x5f, 0x7f, 0x9f, 0xbf, 0xd8, 0xd9,
                                            0xf7, 0xf9, 0xfb, 0xff, rng.randrange(256)))])
        elif op == 2 and out:
            del out[at : at + rng.randrange(1, 8)]
        elif op == 3:
            del out[at:]
        elif op == 4:
            out[at:at] = out[at : at + rng.randrange(1, 32)]
        else:
            out[at:at] = other[: rng.randrange(len(other) + 1)]
    return bytes(out)


def one(body: bytes, hunter: Hunter | None) -> str:
    """Run one body through decode, save and analysis; return its outcome."""
    try:
        wire = encode_frame(Kind.EVENT, 1, MsgType.RECORD, body)  # refuses oversize frames,
        message = decode_wire(wire[:-1])  # which a device's splitter-side sees as FrameError too
    except FrameError:
        return "frame_error"
    capture = Capture("fuzz", {})
    capture.record(Record("serial", RX, Stamp(1, 1), wire, message))
    text = [json.dumps(line, ensure_ascii=False, allow_nan=False) for line in capture.to_lines()]
    loaded = Capture.from_lines(json.loads(line) for line in text)
    (reloaded,) = loaded.messages()
    if json.dumps(to_json(reloaded.body), sort_keys=True) != \
            json.dumps(to_json(message.body), sort_keys=True):
        return "save_mismatch"
    problems: list[str] = []
    found = emissions(loaded, direction=None, problems=problems)
    findings = hunter.hunt(found) if hunter is not None else []
    classified = classify(found, findings, CANARIES.names())
    redacted = redact_capture(loaded, REDACTOR, classified)
    for line in redacted.to_lines():
        json.dumps(line, ensure_ascii=False, allow_nan=False)
    return "unanalysed" if problems else "saved_analysed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="inputs to try")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hunt-every", type=int, default=16,
                        help="run the canary hunter on every Nth input (it dominates the time)")
    parser.add_argument("--progress", type=int, default=0, metavar="N",
                        help="print the counts so far every N inputs (to stderr)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    generator = Generator(rng)
    hunter = Hunter(CANARIES.canaries)
    counts: Counter[str] = Counter()
    first_bug: dict[str, str] = {}
    previous = generator.body()
    start = time.monotonic()
    for number in range(args.count):
        fresh = generator.body()
        body = fresh if number % 2 == 0 else mutate(rng, fresh, previous)
        previous = fresh
        try:
            outcome = one(body, hunter if number % args.hunt_every == 0 else None)
        except Exception as exc:  # a bug: counted, and the first one of each kind shown
            outcome = "crash"
            kind = f"{type(exc).__name__}: {exc}"[:200]
            if kind not in first_bug:
                first_bug[kind] = body.hex()
                print(f"  crash at input {number}: {kind}\n    body {body.hex()}",
                      file=sys.stderr, flush=True)
        if outcome == "save_mismatch":
            first_bug.setdefault("save_mismatch", body.hex())
        counts[outcome] += 1
        if args.progress and (number + 1) % args.progress == 0:
            print(f"  ... {number + 1} inputs, {time.monotonic() - start:.0f} s: "
                  f"{dict(counts)}", file=sys.stderr, flush=True)
    seconds = time.monotonic() - start
    print(f"{args.count} inputs (seed {args.seed}) in {seconds:.0f} s, "
          f"{args.count / max(seconds, 1e-9):.0f}/s")
    for outcome in ("frame_error", "saved_analysed", "unanalysed", "save_mismatch", "crash"):
        print(f"  {outcome:<15} {counts[outcome]:>9}")
    for error, hexed in first_bug.items():
        print(f"  first {error}\n    body {hexed}")
    return 1 if counts["save_mismatch"] or counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
