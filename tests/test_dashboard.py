"""The Grafana dashboard's queries run on a real influxd holding a real bench run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import brewbench.fixtures.suite
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.settings import InfluxSettings

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboards" / "brewbench.json"
SUITE = Path(brewbench.fixtures.suite.__file__).parent / "test_standard.py"


def grafana_to_influxql(query: str) -> str:
    """What Grafana sends for the dashboard's macros and variables."""
    return (query.replace("$timeFilter", "time > now() - 1h")
            .replace("$__interval", "1m").replace("$model", ".*").replace("$firmware", ".*"))


def test_every_panel_query_answers_with_data(brewbench_influx: InfluxSettings,
                                             tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")},
           "INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db}
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--results",
                           str(tmp_path), "--device", "emu://?firmware=2.1"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    dashboard = json.loads(DASHBOARD.read_text())
    reader = InfluxReader(brewbench_influx)
    answered = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            series = reader.query(grafana_to_influxql(target["query"]))
            answered[(panel["title"], target["refId"])] = sum(len(s.values) for s in series)
    reader.close()
    assert answered[("Collected data categories per firmware", "A")] > 0
    assert answered[("Canary findings", "A")] > 0
    assert answered[("Action latency", "A")] > 0
    assert answered[("Test outcomes", "A")] > 0  # brewbench run logs itself as one passed test
    assert ("Contract violations", "A") in answered  # runs; no contract was checked here


def test_violations_panel_shows_a_breached_contract(brewbench_influx: InfluxSettings,
                                                    tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")},
           "INFLUX_URL": brewbench_influx.url or "", "INFLUX_DB": brewbench_influx.db}
    contract = DASHBOARD.parents[1] / "contracts" / "cm-500.toml"
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "-k", "test_data_contract",
                           "-p", "no:cacheprovider", "-p", "no:randomly",
                           "--brewbench-device", "emu://?firmware=2.1",
                           f"--brewbench-contract={contract}",
                           "--brewbench-results", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 1 and "beyond its contract" in done.stdout, done.stdout + done.stderr
    [panel] = [p for p in json.loads(DASHBOARD.read_text())["panels"]
               if p["title"] == "Contract violations"]
    reader = InfluxReader(brewbench_influx)
    series = reader.query(grafana_to_influxql(panel["targets"][0]["query"]))
    rows = reader.points("contract_violations", reader.query(
        'SELECT "run" FROM "runs"')[0].values[0][1])
    reader.close()
    assert sum(len(s.values) for s in series) > 0
    assert {s.tags["category"] for s in series} >= {"location"}
    assert rows and all(r["test"].endswith("test_data_contract[firmware=2.1]") for r in rows)
