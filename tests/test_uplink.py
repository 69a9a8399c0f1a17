"""The uplink on real servers: a real mosquitto, a local HTTP endpoint, paho-mqtt on both ends."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import pytest

from brewbench.bench.capture import Capture
from brewbench.bench.devices import BenchDevice, open_device
from brewbench.bench.influx.query import InfluxReader
from brewbench.bench.influx.schema import RunTags
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.influx.sink import open_sink
from brewbench.bench.influx.verification_points import destination_points
from brewbench.bench.uplink.decode import MAX_INFLATED, decode
from brewbench.bench.uplink.records import uplink_records
from brewbench.bench.uplink.servers import MAX_BODY, HttpEndpoint, HttpRequest, Mosquitto
from brewbench.bench.uplink.tap import CHANNEL, UplinkTap
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.contracts import check
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.residency import destinations
from brewbench.bench.verify.verification import verify
from brewbench.drivers.records import Stamp
from brewbench.emulator.uplink import Uplink
from brewbench.emulator.uplink_profiles import UPLINKS

CLOUD_CONTRACT = Path(__file__).parent.parent / "contracts" / "cm-500-cloud.toml"


def uplink_entries(capture: Capture) -> list:
    return [e for e in capture.entries if e.record.channel == CHANNEL]


def cloud_of(device: BenchDevice) -> Uplink:
    """The emulated machine's cloud client."""
    assert device.emulator is not None
    uplink = device.emulator.machine.uplink
    assert isinstance(uplink, Uplink)
    return uplink


def drive(device: BenchDevice, canaries=None) -> None:
    machine = device.machine
    canaries = canaries or plant()
    machine.provision(**canaries.provisioning())
    machine.brew("latte", strength=4, size_ml=250, milk="oat")
    machine.pay("card", 350, card=canaries.card())
    machine.brew("espresso", strength=5, size_ml=40)
    machine.status()
    machine.sync()


@pytest.mark.parametrize("firmware", sorted(UPLINKS))
def test_each_profile_uplink_is_captured_in_full_per_action(firmware, brewbench_mosquitto):
    with open_device(f"emu://?firmware={firmware}",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device)
        cloud = cloud_of(device)
        assert cloud.pending == 0
        sent = cloud.delivered
    entries = uplink_entries(device.capture)
    assert device.capture.meta["uplink"]["messages"] == sent
    kinds = Counter((e.action, e.record.message.body["kind"]) for e in entries)
    assert kinds == Counter({("provision", "diagnostics"): 1, ("brew", "record"): 2,
                             ("pay", "payment"): 1, ("status", "heartbeat"): 1})
    # Every message the firmware sent arrived once (a batch waits for its second record),
    # with where it was meant to go.
    assert sorted(e.record.message.body["msg_id"] for e in entries) == [1, 2, 3, 4, 5]
    routes = {route.kind: route for route in UPLINKS[firmware].routes}
    for entry in entries:
        meta, body = entry.record.meta, entry.record.message.body
        route = routes[body["kind"]]
        assert (meta["protocol"], meta["host"]) == (route.protocol, route.host)
        target = route.target.format(serial=body["serial"])
        if route.protocol == "mqtt":
            assert (meta["topic"], meta["qos"], meta["retain"]) == (target, route.qos, route.retain)
        else:
            assert (meta["path"], meta["method"]) == (target, "POST")
        assert meta["encoding"].split(" ")[0] == route.encoding
        assert ("batch" in meta) == (route.batch > 1)


def test_planted_values_are_found_in_the_uplink(brewbench_mosquitto):
    canaries = plant()
    with open_device("emu://?firmware=2.1",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device, canaries)
    found = [e for e in emissions(device.capture) if e.channel == CHANNEL]
    hits = {(f.canary, f.action) for f in Hunter(canaries.canaries).hunt(found)}
    assert ("owner", "brew") in hits  # in the CBOR record over MQTT
    assert ("card_number", "pay") in hits  # in the gzipped JSON over HTTP
    assert ("floor", "provision") in hits  # in the retained diagnostics
    where = destinations(device.capture, classify(found, [], ()))
    assert where["payment"] == {"pay.us-east-1.acme-cloud.example": 3}


def test_payment_details_sent_out_of_region_fail_the_residency_contract(brewbench_mosquitto):
    with open_device("emu://?firmware=2.1",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device)
    verdict = check(device.capture, CLOUD_CONTRACT)
    residency = [v for v in verdict.violations if v.destination]
    card = next(v for v in residency if v.field == "RECORD.card_number")
    assert (card.category, card.destination, card.action, card.channel) == (
        "payment", "pay.us-east-1.acme-cloud.example", "pay", "uplink")
    assert "(region us); allowed: region eu" in card.why
    assert "pay.us-east-1.acme-cloud.example (region us)" in verdict.report()
    # What stays in the EU (the MQTT records) breaks no residency rule.
    assert all(v.destination.startswith("pay.") for v in residency)


def test_a_profile_that_stays_in_region_keeps_its_residency(brewbench_mosquitto):
    with open_device("emu://?firmware=2.0",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device)
    verdict = check(device.capture, CLOUD_CONTRACT)
    assert [v for v in verdict.violations if v.destination] == []


def test_broker_down_queues_on_the_device_reports_the_gap_and_loses_nothing(
        brewbench_mosquitto: Mosquitto):
    tap = UplinkTap(brewbench_mosquitto.address)
    with open_device("emu://?firmware=2.0", uplink=tap) as device:
        machine, cloud = device.machine, cloud_of(device)
        machine.brew("latte")
        brewbench_mosquitto.stop()
        machine.brew("espresso")
        machine.brew("mocha")
        assert cloud.pending == 2  # queued on the device, not dropped
        gap = device.capture.meta["uplink"]["gaps"][-1]
        assert gap["what"] == "mqtt broker unreachable" and "up_wall_ns" not in gap
        brewbench_mosquitto.start()
        assert tap.wait_connected(10.0)
        machine.status()
        assert cloud.pending == 0  # the backlog went out (retries may or may not have been needed)
    drinks = [e.record.message.body.get("drink") for e in uplink_entries(device.capture)]
    # QoS 1 is at least once: a publish whose acknowledgement the broker's restart lost
    # comes again, and the capture keeps both copies as sent
    once = [d for i, d in enumerate(drinks) if i == 0 or d != drinks[i - 1]]
    assert once == ["latte", "espresso", "mocha", None]  # the backlog, then the heartbeat
    gap = device.capture.meta["uplink"]["gaps"][-1]
    assert gap["up_wall_ns"] > gap["down_wall_ns"]


def test_the_tap_waits_for_the_broker_with_a_bounded_wait(tmp_path):
    tap = UplinkTap(("127.0.0.1", 9), settle_s=0.1)  # the discard port: nothing answers MQTT
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not accept a subscription"):
        tap.start(timeout=0.5)
    assert time.monotonic() - started < 5


@pytest.mark.brewbench_devices("emu://?firmware=2.1")
def test_the_uplink_device_fixture_captures_the_cloud_with_the_control_link(
        brewbench_uplink_device: BenchDevice):
    brewbench_uplink_device.machine.brew("latte")
    entries = uplink_entries(brewbench_uplink_device.capture)
    assert [(e.action, e.record.meta["topic"]) for e in entries] == [
        ("brew", f"acme/{brewbench_uplink_device.capture.meta['serial']}/rec")]


def test_influxdb_gets_destinations_per_category_with_the_residency_breach(
        brewbench_mosquitto: Mosquitto, brewbench_influx: InfluxSettings):
    with open_device("emu://?firmware=2.1",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device)
    points = destination_points(verify(device.capture, contract=CLOUD_CONTRACT),
                                RunTags(run="run-uplink"))
    with open_sink(brewbench_influx) as sink:
        sink.write(points)
        assert sink.flush(timeout=30)
    reader = InfluxReader(brewbench_influx)
    rows = reader.points("uplink", "run-uplink")
    reader.close()
    where = {(r["category"], r["destination"], r["action"]): r["residency_breach"] for r in rows}
    assert where[("payment", "pay.us-east-1.acme-cloud.example", "pay")] is True
    assert where[("product", "mqtt.eu-central-1.acme-cloud.example", "brew")] is False
    assert all("/" not in r["destination"] for r in rows)  # hosts, never URLs or topics


def test_the_inventory_shows_which_destinations_received_each_category(
        brewbench_mosquitto: Mosquitto, tmp_path: Path):
    with open_device("emu://?firmware=2.1",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device)
    saved = device.capture.save(tmp_path / "c.jsonl")
    done = subprocess.run([sys.executable, "-m", "brewbench", "inventory", str(saved)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")})
    assert done.returncode == 0, done.stderr
    where = done.stdout.split("where it went (uplink):")[1]
    assert re.search(r"payment\s+pay\.us-east-1\.acme-cloud\.example\s+3", where)
    assert re.search(r"location\s+mqtt\.eu-central-1\.acme-cloud\.example", where)


def test_hostile_payloads_are_kept_as_bytes_and_bombs_are_not_inflated():
    bomb = zlib.compress(b"\x00" * (MAX_INFLATED + 1024))
    for payload in (bomb, b"\x1f\x8b" + b"\xff" * 40, b"[1, 2]", b"\xa1"):
        decoded = decode(payload)
        assert decoded.bodies == () and decoded.error
    records = uplink_records(bomb, {"protocol": "mqtt", "host": "h"}, Stamp.now())
    assert len(records) == 1 and records[0].raw == bomb and records[0].message is None


def test_the_endpoint_refuses_an_oversized_body_and_keeps_serving():
    seen: list[HttpRequest] = []
    endpoint = HttpEndpoint(seen.append)
    endpoint.start()
    try:
        connection = http.client.HTTPConnection(*endpoint.address, timeout=5)
        connection.putrequest("POST", "/huge")
        connection.putheader("Content-Length", str(MAX_BODY + 1))
        connection.endheaders()
        assert connection.getresponse().status == 413
        connection.close()
        connection = http.client.HTTPConnection(*endpoint.address, timeout=5)
        connection.request("POST", "/ok", b"{}", {"Host": "api.example"})
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        endpoint.stop()
    assert [(r.host, r.path) for r in seen] == [("api.example", "/ok")]


def test_brewbench_run_uplink_captures_each_devices_cloud(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--uplink",
                           "--device", "emu://?firmware=2.1", "--device", "emu://?firmware=1.0",
                           "--results", str(tmp_path), "--fail-on-leak"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # 2.1 sends the owner's name home
    assert done.stdout.count("   uplink: MQTT broker mqtt://127.0.0.1:") == 2  # one per device
    # ... and the endpoint a lab points a machine's HTTP uplink at
    assert done.stdout.count(", HTTP endpoint http://127.0.0.1:") == 2
    channels = {}
    for saved in tmp_path.glob("*/captures/*.jsonl"):
        lines = [json.loads(line) for line in saved.read_text().splitlines()[1:]]
        channels[saved.stem] = {line.get("channel") for line in lines}
    assert "uplink" in channels["firmware=2.1"]
    assert "uplink" not in channels["firmware=1.0"]  # 1.0 has no cloud
    assert "owner as plain in RECORD.owner on uplink" in done.stdout


def test_brewbench_run_uplink_without_mosquitto_is_one_line(tmp_path: Path) -> None:
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if not (Path(p) / "mosquitto").exists())
    done = subprocess.run([sys.executable, "-m", "brewbench", "run", "--uplink",
                           "--results", str(tmp_path)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PATH": path})
    assert done.returncode == 2
    assert done.stderr == ("brewbench run --uplink: mosquitto is not on PATH; install it "
                           "(Debian: apt-get install mosquitto)\n")
