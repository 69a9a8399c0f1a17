"""Alignment and attribution on made-up runs: what a noisy device does between runs
never becomes a finding, and what follows a planted value through every variant does."""

from __future__ import annotations

import random
import zlib
from typing import Any

from brewbench.bench.capture import Capture, Entry
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.diff_align import MAX_CELLS, align
from brewbench.bench.verify.diff_design import make_design, variants_of
from brewbench.bench.verify.diff_slots import DEPENDS, NOISE, attribute, view_of
from brewbench.bench.verify.differential import FOLLOWS, KEPT, SOME_RUNS, analyse
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import RX, Record, Stamp

NAMES = ("owner", "site", "floor", "email")
BASE = plant("1A2B3C4D")


def capture(bodies: list[tuple[str, MsgType, dict[str, Any]]]) -> Capture:
    out = Capture("emu://?firmware=1.0", meta={"model": "CM-500", "firmware": "1.0"})
    for n, (action, kind, body) in enumerate(bodies):
        message = Message(Kind.EVENT, kind, n + 1, body)
        out.entries.append(Entry(action, Record("serial", RX, Stamp(n, n), message.encode(),
                                                message)))
    return out


def records(drinks: list[str], rng: random.Random, extra: dict[str, Any] | None = None
            ) -> list[tuple[str, MsgType, dict[str, Any]]]:
    """One to three records per drink, as a field machine queues them, with a nonce each."""
    out = []
    for drink in drinks:
        for _ in range(rng.randint(1, 3)):
            out.append(("sync", MsgType.RECORD, {"drink": drink, "size_ml": len(drink) * 10,
                                                  "nonce": rng.getrandbits(32), **(extra or {})}))
    return out


def test_records_of_varying_count_are_compared_drink_with_drink() -> None:
    rng = random.Random(3)
    runs = [capture(records(["latte", "espresso"], rng)) for _ in range(5)]
    aligned = align(runs, 0)
    for run in aligned.runs:
        for key, emission in run.items():
            if key.path == "RECORD.drink":  # the latte's record is never an espresso's
                reference = aligned.runs[0].get(key)
                assert reference is None or reference.value == emission.value


def test_a_burst_sample_is_present_in_some_runs_and_no_finding() -> None:
    design = make_design(NAMES)
    variants = variants_of(BASE, design)
    rng = random.Random(11)
    captures = []
    for _ in design.runs:
        burst = [("brew", MsgType.TELEMETRY, {"temp_c": 93.5})] * (1 + (rng.random() < 0.3))
        captures.append(capture(burst + records(["latte"], rng)))
    result = analyse(design, BASE, variants, captures)
    assert result.findings == []
    assert ("TELEMETRY.temp_c", SOME_RUNS) in {(n.path, n.why) for n in result.noise}


def test_a_field_following_the_owner_through_both_variants_is_found() -> None:
    design = make_design(NAMES)
    variants = variants_of(BASE, design)
    rng = random.Random(5)
    captures = []
    for run in design.runs:
        owner = (BASE, *variants)[run.form("owner")]["owner"]
        captures.append(capture(records(["latte", "espresso"], rng,
                                        {"uid": hash(owner) & 0xFFFFFFFF})))
    result = analyse(design, BASE, variants, captures)
    assert {(f.canaries, f.path, f.status) for f in result.findings} == {
        (("owner",), "RECORD.uid", FOLLOWS)}


def test_the_previous_runs_owner_is_kept_across_reset() -> None:
    design = make_design(NAMES)
    variants = variants_of(BASE, design)
    rng = random.Random(7)
    captures, before = [], None
    for run in design.runs:
        owner = (BASE, *variants)[run.form("owner")]["owner"]
        # a stable digest: str hash() changes with every process (PYTHONHASHSEED)
        kept: dict[str, Any] = {"acct": zlib.crc32(before.encode())} if before else {}
        captures.append(capture(records(["latte"], rng, kept)))
        before = owner
    result = analyse(design, BASE, variants, captures)
    [found] = result.findings
    assert (found.path, found.status, found.lag) == ("RECORD.acct", KEPT, 1)


def test_a_value_flipping_between_two_states_follows_nothing() -> None:
    design = make_design(NAMES)
    for pattern in range(1, 2 ** len(design.runs), 997):  # many on/off patterns
        seen = [(pattern >> i) & 1 for i in range(len(design.runs))]
        assert attribute(seen, design).kind != DEPENDS


def test_one_run_that_differs_by_chance_is_not_enough() -> None:
    design = make_design(NAMES)
    first_owner_run = next(i for i, r in enumerate(design.runs) if "owner" in r.varied)
    seen = [1 if i == first_owner_run else 0 for i in range(len(design.runs))]
    assert attribute(seen, design).kind == NOISE
    lone = make_design(NAMES, replicates=1)
    only = next(i for i, r in enumerate(lone.runs) if "owner" in r.varied)
    assert attribute([1 if i == only else 0 for i in range(len(lone.runs))],
                     lone).kind == DEPENDS  # one replicate: what the user asked for


def test_a_lagged_view_judges_a_run_by_the_run_before() -> None:
    design = make_design(NAMES)
    view = view_of(design, lag=1)
    assert view.runs[0] == 1 and len(view.runs) == len(design.runs) - 1
    assert view.forms[0] == tuple(design.runs[0].form(n) for n in NAMES)


def test_a_flood_is_aligned_by_position_and_named() -> None:
    flood = [("idle", MsgType.TELEMETRY, {"n": n}) for n in range(int(MAX_CELLS ** 0.5) + 2)]
    aligned = align([capture(flood), capture(flood)], 0)
    assert aligned.by_position == ["idle/serial/TELEMETRY"]
    assert len(aligned.runs[1]) == len(flood)
