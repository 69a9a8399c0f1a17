"""The differential verdict on noisy, stateful machines (issue: a verdict that holds in the
field): a clean machine with a real machine's manners gives no finding, and leaks that
depend on the machine's history (kept across a factory reset, only in some sessions) are
found and named. Every analysis here is a full run of the bench against an emulated
machine over a real pty; each machine is its own unit, so none inherits another's flash."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from brewbench.bench.differential_results import findings_record, judge_differential
from brewbench.bench.differential_run import run_differential
from brewbench.bench.verify.contracts import load_contracts, select
from brewbench.bench.verify.differential import (
    FOLLOWS,
    KEPT,
    SOME_RUNS,
    DifferentialResult,
    breaches_of,
    findings_beyond,
)
from brewbench.bench.verify.redact import Redactor

CM500 = Path(__file__).resolve().parents[2] / "contracts" / "cm-500.toml"
REDACTOR = Redactor(b"lab" * 8)
ANALYSES = 30  # the bar: 30 consecutive analyses, both designs, no finding


def analyse(firmware: str, design: str = "one-at-a-time", seed: int | None = None,
            extra: str = "") -> DifferentialResult:
    unit = f"test-{secrets.token_hex(4)}"  # a new machine: empty flash
    spec = f"emu://?firmware={firmware}&unit={unit}{extra}"
    return run_differential(spec + (f"&seed={seed}" if seed is not None else ""), design=design)


_cache: dict[tuple[str, str], DifferentialResult] = {}


@pytest.fixture(scope="module")
def analysed() -> Callable[..., DifferentialResult]:
    def get(firmware: str, design: str = "one-at-a-time") -> DifferentialResult:
        if (firmware, design) not in _cache:
            _cache[firmware, design] = analyse(firmware, design, seed=1)
        return _cache[firmware, design]
    return get


@pytest.mark.timeout(900)  # 30 full analyses of 13 or 19 sessions each
def test_a_clean_bursty_machine_gives_no_finding_in_30_analyses() -> None:
    noisy_slots: set[str] = set()
    for number in range(ANALYSES):
        design = ("one-at-a-time", "group")[number % 2]
        result = analyse("1.2", design, seed=number)
        assert result.findings == [], "\n".join(f.describe(raw=True) for f in result.findings)
        noisy_slots |= {n.path for n in result.noise if n.why == SOME_RUNS}
    # the noise was there: burst samples and extra records present in only some runs
    assert {"TELEMETRY.temp_c", "RECORD.drink"} <= noisy_slots


def test_noise_is_named_with_its_evidence(analysed: Callable) -> None:
    result = analysed("1.2")
    summary = result.summary()
    assert "RECORD.nonce (varies between baselines; during sync)" in summary
    assert "0 follow planted values, 0 kept across reset, 0 vary and cannot be attributed" \
        in summary
    record = findings_record(judge_differential(result, CM500, REDACTOR), REDACTOR)
    noise = {(n["field"], n["why"].split(" (")[0]) for n in record["noise"]}
    assert ("RECORD.pad", "varies between baselines") in noise
    assert ("TELEMETRY.temp_c", SOME_RUNS) in noise
    assert record["ok"] is True and record["findings"] == []
    assert "within it in all 19 runs" in record["verdict"]


def test_an_owner_kept_across_a_factory_reset_is_a_finding(analysed: Callable) -> None:
    result = analysed("2.5")
    kept = {(f.canaries, f.path) for f in result.findings if f.status == KEPT}
    assert (("owner",), "RECORD.acct") in kept  # keyed: found by the lag of one run
    assert (("owner",), "READ_LOGS.lines[]") in kept  # in plain text: found by the hunter
    line = next(f for f in result.findings if f.status == KEPT and f.path == "RECORD.acct")
    assert line.lag == 1
    assert "kept across reset (holds owner as planted 1 run earlier" in line.describe(REDACTOR)
    assert "Ada Canary" not in line.describe(REDACTOR)
    contract = select(load_contracts(CM500), "CM-500", "2.5")
    assert breaches_of(line, contract) == [("identity", "kept across reset")]


@pytest.mark.timeout(400)
@pytest.mark.parametrize("design", ["one-at-a-time", "group"])
def test_a_leak_in_only_some_sessions_is_found_and_named(design: str) -> None:
    for seed in range(4):  # every phase of the boot counter that decides the quiet session
        result = analyse("2.6", design, seed=seed)
        found = [f for f in result.findings if f.path == "RECORD.acct"]
        named = [n for n in result.noise if n.path == "RECORD.acct"]
        assert found or named, f"seed {seed}: RECORD.acct neither found nor named"
        outcome = judge_differential(result, CM500, REDACTOR)
        assert not outcome.ok, outcome.line()  # never exit 0 silently
        if found:
            assert found[0].canaries == ("owner",) and found[0].status == FOLLOWS
            if found[0].some_sessions:
                assert "only in some sessions (present in" in found[0].describe(REDACTOR)


def test_the_contract_is_judged_over_every_run(analysed: Callable) -> None:
    verdict = judge_differential(analysed("2.6"), CM500, REDACTOR).verdict
    assert verdict is not None
    acct = [v for v in verdict.violations if v.field == "RECORD.acct"]
    assert acct and all(v.category in ("identity", "unknown") for v in acct)
    assert any("of 19 runs)" in v.why for v in acct)  # absent in the quiet sessions


def test_a_differential_finding_needs_its_field_named_in_the_contract(
        analysed: Callable, tmp_path: Path) -> None:
    blanket = tmp_path / "blanket.toml"
    blanket.write_text('format = "brewbench-contract"\nversion = 1\n[[contract]]\n'
                       'model = "CM-500"\nfirmware = "*"\n[contract.allow]\nidentity = {}\n'
                       'device = {}\nproduct = {}\ntime = {}\npayment = {}\nunknown = {}\n')
    # 2.6 leaks in some sessions only, and an analysis misses it now and then (the miss
    # rate is benchmarks/differential_noise.py's, in docs/data-verification.md): this test
    # is about the contract's judgement of a finding, so it takes the first of up to five
    # analyses that has one
    for _ in range(5):
        result = analyse("2.6", seed=1)
        acct = next((f for f in result.findings if f.path == "RECORD.acct"), None)
        if acct is not None:
            break
    assert acct is not None, "five analyses of 2.6 missed its leak"
    assert breaches_of(acct, select(load_contracts(blanket), "CM-500", "2.6")) == [
        ("identity", "field not named for it")]
    shipped = select(load_contracts(CM500), "CM-500", "2.6")
    own_name = [f for f in result.findings if f.canaries == ("machine_name",)]
    assert own_name and findings_beyond(result, shipped) == [acct]  # its own name may go


def test_field_noise_on_a_leaky_firmware_keeps_every_keyed_leak() -> None:
    result = analyse("2.3", seed=5, extra="&noise=field")
    assert {f.path for f in result.findings} == {"RECORD.uid", "RECORD.ref", "RECORD.loc",
                                                 "RECORD.tag", "RECORD.box"}


@pytest.mark.timeout(400)
def test_the_benchmark_measures_clean_and_leaky_machines() -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "differential_noise.py"
    done = subprocess.run([sys.executable, str(script), "--seeds", "1", "--only", "firmware=1.2",
                           "--only", "firmware=2.5"], capture_output=True, text=True, timeout=380)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("clean devices: 0/2 analyses with a false finding; leaky devices: ")
    assert "0/4 leaks missed" in last  # 2.5's kept owner, keyed and in its log, both designs
