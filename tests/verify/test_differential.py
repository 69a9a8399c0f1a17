"""Differential analysis: what follows a planted value is found whatever the encoding,
and what changes by itself (clocks, counters, nonces) is never called a leak."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from brewbench.bench.differential_run import run_differential
from brewbench.bench.influx.differential_points import differential_points
from brewbench.bench.influx.lineproto import encode
from brewbench.bench.influx.schema import RunTags, check_point
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.contracts import load_contracts, select
from brewbench.bench.verify.diff_design import (
    RunPlan,
    make_design,
    planted_for,
    run_count,
    variant_of,
)
from brewbench.bench.verify.diff_slots import CONSTANT, DEPENDS, NOISE, attribute
from brewbench.bench.verify.differential import (
    FOLLOWS,
    DifferentialResult,
    differential_verdict,
    findings_beyond,
)
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.redact import Redactor

CM500 = Path(__file__).resolve().parents[2] / "contracts" / "cm-500.toml"
REDACTOR = Redactor(b"lab" * 8)
NAMES = ("owner", "site", "floor", "email")
_runs: dict[tuple[str, str], DifferentialResult] = {}


@pytest.fixture(scope="module")
def differential_of() -> Callable[..., DifferentialResult]:
    """One differential analysis per firmware and design, shared by the tests."""
    def get(firmware: str, design: str = "one-at-a-time") -> DifferentialResult:
        if (firmware, design) not in _runs:
            _runs[firmware, design] = run_differential(f"emu://?firmware={firmware}",
                                                       design=design)
        return _runs[firmware, design]
    return get


def named(result: DifferentialResult) -> set[tuple[str, str, str, str]]:
    return {(" ".join(f.canaries), f.where, f.action, f.status) for f in result.findings}


@pytest.mark.parametrize("design", ["one-at-a-time", "group"])
def test_keyed_transform_leaks_are_found_and_named(differential_of: Callable, design: str) -> None:
    result = differential_of("2.3", design)
    assert named(result) == {
        ("owner", "RECORD.uid", "sync", FOLLOWS),          # HMAC-SHA256 under the device key
        ("card_number", "RECORD.ref", "sync", FOLLOWS),    # raw keyed hash
        ("site", "RECORD.loc", "sync", FOLLOWS),           # AES-256-CBC, fixed key and IV
        ("floor", "RECORD.tag[8:24]", "sync", FOLLOWS),    # after 8 random bytes
        ("email", "RECORD.box", "sync", "cannot attribute"),  # AES-GCM, random nonce
    }
    categories = {f.canaries[0]: f.categories for f in result.findings}
    assert categories["owner"] == ("identity",) and categories["card_number"] == ("payment",)


def test_no_hunter_sees_the_keyed_fields(differential_of: Callable) -> None:
    result = differential_of("2.3")
    baseline = result.captures[result.design.baselines[0]]
    hunted = {f.path for f in Hunter(result.base.canaries).hunt(emissions(baseline))}
    assert hunted.isdisjoint({"RECORD.uid", "RECORD.ref", "RECORD.loc", "RECORD.tag",
                              "RECORD.box"})


@pytest.mark.parametrize("design", ["one-at-a-time", "group"])
def test_clean_firmware_with_clocks_counters_and_nonces_gives_nothing(
        differential_of: Callable, design: str) -> None:
    result = differential_of("1.1", design)
    assert result.findings == []
    assert result.noisy >= 5  # serial number, nonce, boot counter, uptime, ... were seen
    assert "0 follow planted values, 0 kept across reset, 0 vary and cannot be attributed" \
        in result.summary()
    assert "RECORD.nonce (varies between baselines; during sync)" in result.summary()


def test_disguises_are_found_without_knowing_them(differential_of: Callable) -> None:
    result = differential_of("2.2")
    assert {(f.canaries, f.path) for f in result.findings} == {
        (("owner",), "RECORD.diag"), (("card_number",), "RECORD.card_ref"),
        (("floor",), "RECORD.loc16"), (("organisation",), "RECORD.org"),
        (("machine_name",), "RECORD.cb"), (("email",), "RECORD.contact"),
        (("site",), "RECORD.site_md5"), (("ssid",), "EVENT.data")}


def test_planted_values_in_device_labelled_fields_break_the_contract(
        differential_of: Callable) -> None:
    result = differential_of("2.4")
    assert named(result) == {("owner", "RECORD.firmware", "sync", FOLLOWS),
                             ("organisation", "RECORD.model", "sync", FOLLOWS)}
    verdict = differential_verdict(result, CM500, REDACTOR)
    breaches = {(v.category, v.field) for v in verdict.violations if "differential" in v.why}
    assert breaches == {("identity", "RECORD.firmware"), ("identity", "RECORD.model")}
    assert "follows planted owner" in verdict.report()


def test_evidence_is_redacted_unless_raw(differential_of: Callable) -> None:
    result = differential_of("2.4")
    owner = result.base["owner"]
    finding = next(f for f in result.findings if f.canaries == ("owner",))
    redacted = finding.describe(REDACTOR)
    assert "<identity " in redacted and "2.4+" not in redacted
    assert finding.describe(raw=True).count("'2.4+") == 3  # baseline, B1, B2
    assert owner not in result.report(REDACTOR)


# -- the attribution itself, on made-up observations --------------------------------


def observe(design_kind: str, rule: Callable[[RunPlan], object]) -> tuple:
    design = make_design(NAMES, design_kind)
    return design, [rule(run) for run in design.runs]


def test_a_slot_following_two_values_names_both() -> None:
    design, seen = observe("one-at-a-time", lambda run: (run.form("owner"), run.form("site")))
    assert attribute(seen, design).names == ("owner", "site")


def contains(name: str, run: RunPlan) -> int:
    return run.form(name)  # what a digest of the value tells apart: each form its own


def test_group_design_attributes_one_value_exactly() -> None:
    for name in NAMES:
        design, seen = observe("group", partial(contains, name))
        outcome = attribute(seen, design)
        assert (outcome.kind, outcome.names, outcome.exact) == (DEPENDS, (name,), True)


def test_differing_baselines_mean_noise_and_equal_values_mean_nothing() -> None:
    design = make_design(NAMES)
    counter = list(range(len(design.runs)))
    assert attribute(counter, design).kind == NOISE
    assert attribute([7] * len(design.runs), design).kind == CONSTANT


def test_run_counts_for_n_planted_values() -> None:
    assert [run_count("one-at-a-time", n) for n in (1, 8, 20)] == [5, 19, 43]
    assert [run_count("group", n) for n in (1, 8, 20, 35)] == [5, 13, 15, 17]
    assert run_count("one-at-a-time", 8, replicates=1) == 11
    design = make_design(tuple(f"v{i}" for i in range(8)), "group")
    assert len(design.runs) == run_count("group", 8)
    assert design.baselines[0] == 0 and design.baselines[-1] == len(design.runs) - 1


def test_variants_change_every_value_and_its_length() -> None:
    base = plant("7F3A9C2E")
    variant = variant_of(base, "0123456789AB")
    for a, b in zip(base.canaries, variant.canaries, strict=True):
        assert a.value != b.value and a.category == b.category
    assert variant["owner"] == "Ada Canary-0123456789AB"
    mixed = planted_for(make_design(("owner",), replicates=1).runs[1], base, variant)
    assert mixed["owner"] == variant["owner"] and mixed["site"] == base["site"]
    assert mixed.tag == base.tag


@pytest.mark.parametrize("kind", ["one-at-a-time", "group"])
def test_a_digest_of_every_planted_value_follows_them_all(kind: str) -> None:
    design, seen = observe(kind, lambda run: hash((run.replicate, tuple(sorted(run.varied)))))
    outcome = attribute(seen, design)
    assert (outcome.kind, set(outcome.names)) == (DEPENDS, set(NAMES))
    assert outcome.exact == (kind == "one-at-a-time")


def test_a_field_flipping_between_two_values_is_noise() -> None:
    design = make_design(NAMES)
    flips = [0 if run.baseline else 1 for run in design.runs]  # changes in every varied run
    assert attribute(flips, design).kind == NOISE


def test_group_design_names_every_value_that_could_explain_two() -> None:
    design, seen = observe("group", lambda run: (run.form("owner"), run.form("site")))
    outcome = attribute(seen, design)
    assert outcome.kind == DEPENDS and {"owner", "site"} <= set(outcome.names)


def test_points_match_the_schema_and_hold_no_value(differential_of: Callable) -> None:
    result = differential_of("2.4")
    contract = select(load_contracts(CM500), "CM-500", "2.4")
    points = differential_points(result, RunTags(run="r1", test="t1"), REDACTOR,
                                 beyond=findings_beyond(result, contract),
                                 contract=contract.source)
    for point in points:
        check_point(point)
    assert {dict(p.fields)["beyond_contract"] for p in points} == {True}
    assert {dict(p.tags)["firmware"] for p in points} == {"2.4"}
    assert "Canary" not in encode(points)
