"""A hostile cloud client cannot exhaust, stall or blind the bench through its uplink.

Each test builds the hostile input with a real MQTT client (paho-mqtt, the
device's end) against a real mosquitto, or with a raw socket against the live
HTTP endpoint, and shows the bound and the line that says what was cut
(docs/reliability.md, "Capture budget" and "The uplink").
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dpkt
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from brewbench.bench.capture import Capture
from brewbench.bench.capture_budget import BYTES_ENV, BudgetError
from brewbench.bench.cli.main import main
from brewbench.bench.cli.run_uplink import PREFIX, remove_stale_folders
from brewbench.bench.cli.run_verdict import RunVerdict
from brewbench.bench.devices import BenchDevice, open_device
from brewbench.bench.printout import print_capture
from brewbench.bench.uplink import servers
from brewbench.bench.uplink.decode import MAX_INFLATED
from brewbench.bench.uplink.losses import uplink_losses
from brewbench.bench.uplink.records import MAX_BATCH
from brewbench.bench.uplink.servers import MAX_CONNECTIONS, MAX_MESSAGE, HttpEndpoint, Mosquitto
from brewbench.bench.uplink.tap import MARKER_TOPIC, UplinkTap
from brewbench.bench.verify.canaries import CanarySet, plant
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.hunter import Hunter
from brewbench.bench.verify.verification import verify
from brewbench.drivers.messages import Kind, Message, MsgType
from brewbench.drivers.records import NOTE_KEY, RX, Record, Stamp
from brewbench.fixtures.influx_servers import start_or_skip

from .test_uplink import drive


def device_client(broker: tuple[str, int]) -> mqtt.Client:
    """The hostile machine's MQTT client (its own paho-mqtt), connected."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hostile-{time.monotonic_ns()}",
                         protocol=mqtt.MQTTv311)
    client.connect(*broker)
    client.loop_start()
    return client


Tapped = tuple[UplinkTap, Capture, mqtt.Client]


@contextlib.contextmanager
def tapped_on(broker: Mosquitto) -> Iterator[Tapped]:
    """A tap on ``broker`` into a fresh capture, and the hostile device's client."""
    capture = Capture("hostile-uplink")
    tap = UplinkTap(broker.address, broker_log=broker.log_path)
    tap.bind(capture)
    tap.start()
    device = device_client(broker.address)
    try:
        yield tap, capture, device
    finally:
        device.loop_stop()
        device.disconnect()
        tap.stop()


@pytest.fixture
def tapped(brewbench_mosquitto: Mosquitto) -> Iterator[Tapped]:
    with tapped_on(brewbench_mosquitto) as tapped:
        yield tapped


def sync_event(n: int) -> Record:
    """A record the control link's SYNC delivers (device-initiated, so bounded)."""
    return Record("serial", RX, Stamp.now(), b"\x01" * 8,
                  Message(Kind.EVENT, MsgType.RECORD, n & 0xFFFF, {"owner": f"Ada {n}"}))


def published(device: mqtt.Client, topic: str, payload: bytes, qos: int = 1) -> None:
    info = device.publish(topic, payload, qos=qos)
    info.wait_for_publish(10)


def test_a_gzip_batch_bomb_is_cut_to_the_budget_and_the_control_link_keeps_its_share(
        tapped: Tapped) -> None:
    tap, capture, device = tapped
    capture.max_records = 4_000
    bomb = gzip.compress(json.dumps([{"n": 1}] * 100_000).encode())
    assert len(bomb) < 2_000  # 1-2 KB on the wire, 100,000 items inside
    started = time.monotonic()
    for _ in range(5):
        published(device, "acme/telemetry", bomb)
    tap.settle()
    took = time.monotonic() - started
    uplink = [e for e in capture.entries if e.record.channel == "uplink" and e.record.message]
    assert len(uplink) <= MAX_BATCH * 2  # its share of 4,000; never 500,000 records
    capture.records([sync_event(n) for n in range(3_000)])  # the control link after the flood
    kept_sync = [e for e in capture.entries if e.record.channel == "serial"]
    assert len(kept_sync) >= 4_000 // 2 - 2  # its reserved half is still there
    overflow = capture.meta["overflow"]
    # Two bombs are expanded (each to MAX_BATCH records, the rest of its items counted);
    # once the share is full, a message is counted as one record without being decoded.
    assert overflow["channels"]["uplink"]["records"] == 2 * 100_000 - len(uplink) + 3
    assert len(overflow["channels"]["uplink"]["sha256"]) == 64
    assert took < 30
    printed = io.StringIO()
    print_capture(capture, printed)
    assert "not kept: uplink:" in printed.getvalue() and "not kept: serial:" in printed.getvalue()
    verdict = RunVerdict()
    verdict.add("emu://", 0, verify(capture))
    assert "not fully analysed" in verdict.line()


def test_a_flood_past_the_uplink_share_is_counted_without_being_decoded(
        tapped: Tapped) -> None:
    tap, capture, device = tapped
    capture.max_records = 200
    for n in range(600):
        device.publish("acme/telemetry", json.dumps({"n": n}).encode(), qos=1)
    published(device, "acme/telemetry", b'{"last": true}')
    tap.settle()
    uplink = [e for e in capture.entries if e.record.channel == "uplink"
              and NOTE_KEY not in e.record.meta]
    counted = capture.meta["overflow"]["channels"]["uplink"]["records"]
    assert len(uplink) <= 100 and len(uplink) + counted == 601
    notes = [e.record.meta for e in capture.notes() if e.record.meta[NOTE_KEY] == "capture_full"]
    assert [n["max_records"] for n in notes] == [200]


def test_the_settle_topic_is_neither_a_kill_switch_nor_a_hiding_place(
        tapped: Tapped) -> None:
    tap, capture, device = tapped
    card = b"4111111111111111"
    for payload in (b"not a number", card, b"99999999999999999999999999999", b"\xff\xfe"):
        published(device, MARKER_TOPIC, payload)
    published(device, "acme/after", b'{"still": "heard"}')
    tap.settle()
    on_marker = [e.record.raw for e in capture.entries if e.record.meta.get("topic") == MARKER_TOPIC]
    assert card in on_marker and b"not a number" in on_marker and len(on_marker) == 4
    assert any(e.record.meta.get("topic") == "acme/after" for e in capture.entries)
    started = time.monotonic()
    tap.settle()  # the tap's own marker, with its secret, still settles at once
    assert time.monotonic() - started < tap.settle_s
    printed = io.StringIO()
    print_capture(capture, printed)
    said = [line for line in printed.getvalue().splitlines() if "brewbench/settle" in line]
    assert len(said) == 1 and "4 message(s)" in said[0]


def test_messages_the_broker_drops_for_a_slow_bench_are_said(tmp_path: Path) -> None:
    broker = start_or_skip(lambda root: Mosquitto(root, max_queued=20), tmp_path / "mosquitto")
    try:
        with tapped_on(broker) as (tap, capture, device):
            with capture._keep_lock:  # the bench is busy: its subscriber cannot take messages
                for n in range(400):
                    device.publish("acme/flood", json.dumps({"n": n}).encode(), qos=1)
                time.sleep(0.5)
            deadline = time.monotonic() + 10  # the broker's $SYS counter updates every second
            while tap.broker_dropped == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        broker.stop()
    captured = sum(1 for e in capture.entries if e.record.meta.get("topic") == "acme/flood")
    assert tap.broker_dropped > 0 and captured < 400
    assert capture.meta["uplink"]["broker_dropped"] == tap.broker_dropped
    printed = io.StringIO()
    print_capture(capture, printed)
    assert "the MQTT broker dropped" in printed.getvalue()


def test_an_oversized_message_is_refused_by_the_broker_in_bounded_time_and_said(
        tapped: Tapped, brewbench_mosquitto: Mosquitto) -> None:
    tap, capture, device = tapped
    started = time.monotonic()
    device.publish("acme/huge", b"\x00" * (MAX_MESSAGE + 1), qos=1)
    deadline = time.monotonic() + 10
    while (b"oversize" not in brewbench_mosquitto.log_path.read_bytes()
           and time.monotonic() < deadline):
        time.sleep(0.05)
    late = device_client(brewbench_mosquitto.address)
    published(late, "acme/after", b'{"ok": 1}')
    late.loop_stop()
    tap.settle()
    tap.stop()
    assert time.monotonic() - started < 15
    assert not any(e.record.meta.get("topic") == "acme/huge" for e in capture.entries)
    assert any(e.record.meta.get("topic") == "acme/after" for e in capture.entries)
    assert capture.meta["uplink"]["oversize_disconnects"] >= 1
    printed = io.StringIO()
    print_capture(capture, printed)
    assert "for a packet over its size limit" in printed.getvalue()


def http_exchange(address: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as connection:
        connection.sendall(request)
        return connection.recv(200)


@pytest.mark.parametrize("length", [b"abc", b"-5", b"99999999999999999999999"])
def test_a_bad_content_length_is_one_status_line_and_the_endpoint_keeps_serving(
        length: bytes, capfd: pytest.CaptureFixture[str]) -> None:
    seen: list[object] = []
    endpoint = HttpEndpoint(seen.append)
    endpoint.start()
    try:
        answer = http_exchange(endpoint.address,
                               b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: " + length
                               + b"\r\n\r\n")
        assert answer.split(b"\r\n")[0] in (b"HTTP/1.1 400 Content-Length is not a number",
                                            b"HTTP/1.1 413 Request Entity Too Large")
        ok = http_exchange(endpoint.address,
                           b"POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
        assert ok.startswith(b"HTTP/1.1 200")
    finally:
        endpoint.stop()
    assert len(seen) == 1
    assert "Traceback" not in capfd.readouterr().err


def test_slow_clients_cannot_start_a_thread_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "IDLE_S", 120.0)  # none of them times out during the test
    endpoint = HttpEndpoint(lambda _request: None)
    endpoint.start()
    before = threading.active_count()
    idle = []
    try:
        for _ in range(MAX_CONNECTIONS + 40):
            idle.append(socket.create_connection(endpoint.address, timeout=5))
            idle[-1].sendall(b"POST /slow HTTP/1.1\r\n")  # and never the rest
        deadline = time.monotonic() + 10  # the server accepts them one by one
        while endpoint.refused < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() - before <= MAX_CONNECTIONS
        assert endpoint.refused == 40  # counted, so the tap can say it
    finally:
        for connection in idle:
            connection.close()
        endpoint.stop()
    assert "the HTTP endpoint refused 3 connection(s)" in " ".join(
        uplink_losses({"uplink": {"http_refused": 3}}))


def test_compression_bombs_are_bounded_in_time_and_the_capture_says_what_it_cut(
        tapped: Tapped) -> None:
    tap, capture, device = tapped
    bomb = gzip.compress(json.dumps({"telemetry": "Ada " * (4 << 20)}).encode())
    assert len(bomb) < 100_000  # 16 MiB of text inside
    started = time.monotonic()
    for _ in range(20):
        published(device, "acme/telemetry", bomb)
    tap.settle()
    result = verify(capture, plant())
    took = time.monotonic() - started
    assert took < 60, f"{took:.1f} s"  # each bomb took about 10 s of analysis before
    kept = [e for e in capture.entries if e.record.channel == "uplink" and e.record.raw == bomb]
    cut = capture.meta["overflow"]["channels"]["uplink"]
    assert kept and len(kept) + cut["records"] == 20
    assert cut["bytes"] >= cut["records"] * MAX_INFLATED  # weighed as what they inflate to
    assert result.capture is capture


def test_a_budget_set_in_the_environment_is_a_whole_number_or_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(BYTES_ENV, "1000")
    assert Capture("small").max_bytes == 1000
    monkeypatch.setenv(BYTES_ENV, "lots")
    with pytest.raises(BudgetError, match="BREWBENCH_CAPTURE_MAX_BYTES='lots'"):
        Capture("bad")
    pcap = tmp_path / "empty.pcap"
    with pcap.open("wb") as out:
        dpkt.pcap.Writer(out)
    assert main(["import", "pcap", str(pcap)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def control_findings(device: BenchDevice, canaries: CanarySet) -> set[tuple[str, str]]:
    found = [e for e in emissions(device.capture) if e.channel != "uplink"]
    return {(f.canary, f.action) for f in Hunter(canaries.canaries).hunt(found)}


def test_an_uplink_flood_cannot_crowd_the_control_links_leaks_out(
        brewbench_mosquitto: Mosquitto) -> None:
    canaries = plant()
    with open_device("emu://?firmware=2.1",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        drive(device, canaries)
    clean = control_findings(device, canaries)
    bomb = gzip.compress(json.dumps([{"n": 1}] * 100_000).encode())
    with open_device("emu://?firmware=2.1",
                     uplink=UplinkTap(brewbench_mosquitto.address)) as device:
        hostile = device_client(brewbench_mosquitto.address)
        for _ in range(40):  # 4,000,000 uplink records' worth, from 40 KB
            published(hostile, "acme/flood", bomb)
        hostile.loop_stop()
        drive(device, canaries)
    assert len(clean) >= 3 and control_findings(device, canaries) == clean
    assert device.capture.meta["overflow"]["channels"]["uplink"]["records"] > 3_000_000 // 100


def test_a_killed_run_leaves_no_broker_and_the_next_run_removes_its_folder(
        tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "k")}
    run = subprocess.Popen([sys.executable, "-m", "brewbench", "run", "--uplink", "--device",
                            "emu://?firmware=2.1", "--results", str(tmp_path / "results")],
                           stdout=subprocess.PIPE, text=True, env=env)
    assert run.stdout is not None
    address = ""
    for line in run.stdout:
        if "MQTT broker mqtt://" in line:
            address = line.split("mqtt://", 1)[1].split(",")[0].strip()
            break
    host, port = address.rsplit(":", 1)
    socket.create_connection((host, int(port)), 5).close()  # the broker is up
    run.kill()
    run.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), 0.5).close()
        except OSError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"mosquitto still listens on {address} after its run was killed")
    left = list(tmp_path.glob(PREFIX + "*"))
    assert left and not list(left[0].glob("*.db"))  # no database of the device's values
    assert remove_stale_folders(tmp_path) == left and not list(tmp_path.glob(PREFIX + "*"))


def test_a_settle_whose_marker_never_comes_back_is_said(tapped: Tapped) -> None:
    tap, capture, device = tapped
    tap.settle_s = 0.3
    with capture._keep_lock:  # the subscriber is stuck on a message: nothing arrives
        device.publish("acme/t", b'{"n": 1}', qos=1)
        time.sleep(0.2)
        started = time.monotonic()
        tap.settle()
        waited = time.monotonic() - started
    assert tap.unsettled == 1 and 0.3 <= waited < 5
    printed = io.StringIO()
    print_capture(capture, printed)
    assert "the uplink did not settle 1 time(s)" in printed.getvalue()
