"""``--json`` on ``inventory``, ``devices`` and ``query``: one JSON document each, read
back here as a script would; and a query for a model that sent nothing is exit 1
naming the models that did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.verify.canaries import TEST_CARDS
from brewbench.fixtures.influx_servers import brewbench_influx, brewbench_influxd

__all__ = ["brewbench_influx", "brewbench_influxd"]

BREWBENCH = [sys.executable, "-m", "brewbench"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")}


def brewbench(*args: str, cwd: Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BREWBENCH, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**ENV, **(env or {})})


def test_inventory_json_lists_each_captures_rows(tmp_path: Path) -> None:
    done = brewbench("run", "--device", "emu://?firmware=2.1", "--results", str(tmp_path),
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [capture] = tmp_path.glob("*/captures/*.jsonl")
    listed = brewbench("inventory", "--json", "--category", "payment", str(capture), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    [entry] = document["captures"]
    assert (entry["capture"], entry["firmware"], entry["model"]) == (str(capture), "2.1", "CM-500")
    fields = {row["field"] for row in entry["rows"]}
    assert "RECORD.card_number" in fields
    assert {row["category"] for row in entry["rows"]} == {"payment"}
    assert set(entry["rows"][0]) == {"category", "field", "channel", "action", "count",
                                     "reasons", "example"}
    assert not [card for card in TEST_CARDS if card in listed.stdout]  # keyed hashes only


def test_devices_json_has_every_kind_with_its_specs(tmp_path: Path) -> None:
    done = brewbench("devices", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    kinds = [listing["kind"] for listing in document["listings"]]
    assert kinds[0] == "serial" and kinds[-1] == "emulated"
    for listing in document["listings"]:
        assert listing["note"] is not None or isinstance(listing["found"], list)
        for found in listing["found"]:
            assert "://" in found["spec"]
    assert document["lab"] is None


def test_query_json_reads_back_what_a_run_logged(brewbench_influx: InfluxSettings,
                                                tmp_path: Path) -> None:
    server = {"INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db}
    done = brewbench("run", "--device", "emu://?firmware=2.1", "--results", str(tmp_path),
                     cwd=tmp_path, env=server)
    assert done.returncode == 0, done.stderr
    assert "wait in the spool" not in done.stdout  # the server took every point
    found = brewbench("query", "--json", "--categories", "CM-500", cwd=tmp_path, env=server)
    assert found.returncode == 0, found.stderr
    document = json.loads(found.stdout)
    assert {"payment", "identity", "device"} <= set(document["firmware"]["2.1"])
    fields = brewbench("query", "--json", "--categories", "CM-500", "--fields", cwd=tmp_path,
                       env=server)
    rows = json.loads(fields.stdout)["firmware"]["2.1"]
    assert any(r["field"] == "RECORD.card_number" and r["count"] > 0 for r in rows)
    series = brewbench("query", "--json", 'SELECT COUNT("duration_s") FROM "tests"',
                       cwd=tmp_path, env=server)
    [only] = json.loads(series.stdout)["series"]
    assert only["name"] == "tests" and only["values"][0][1] == 1


def test_a_model_that_sent_nothing_is_exit_1_naming_the_ones_that_did(
        brewbench_influx: InfluxSettings, tmp_path: Path) -> None:
    server = {"INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db}
    assert brewbench("run", "--device", "emu://?firmware=1.0", "--results", str(tmp_path),
                     cwd=tmp_path, env=server).returncode == 0
    done = brewbench("query", "--categories", "CM-5000", cwd=tmp_path, env=server)
    assert done.returncode == 1
    assert done.stderr.strip() == ("brewbench query: no emissions of model 'CM-5000' since "
                                   "1970-01-01T00:00:00Z (models with emissions: CM-500)")
