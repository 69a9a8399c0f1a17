"""What the big IoT clouds' device SDKs send reaches the capture: MQTT topics under
``$aws/``, ``$iothub/``, ``$oc/`` and ``$baidu/`` (which a ``#`` subscription never
matches, MQTT 5.0 section 4.7.2) and HTTP bodies sent chunked; a planted value in a
topic is never raw in a redacted capture."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest

from brewbench.bench.uplink.servers import HttpEndpoint, HttpRequest, Mosquitto
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.capture_redaction import save_capture
from brewbench.bench.verify.redact import Redactor
from brewbench.fixtures.uplink_servers import brewbench_mosquitto

from .test_hostile_uplink import published, tapped, tapped_on

__all__ = ["brewbench_mosquitto", "tapped"]


@pytest.mark.parametrize("topic", ["$aws/things/cm-500/shadow/update",
                                   "$iothub/twin/PATCH/properties/reported/?$rid=1",
                                   "$oc/devices/cm-500/sys/properties/report",
                                   "$baidu/iot/shadow/cm-500/update"])
def test_a_cloud_topic_under_a_dollar_root_is_captured(brewbench_mosquitto: Mosquitto,
                                                       topic: str) -> None:
    with tapped_on(brewbench_mosquitto) as (tap, capture, device):
        published(device, topic, json.dumps({"state": {"reported": {"owner": "Ada"}}}).encode())
        tap.settle()
    kept = [e.record for e in capture.entries if e.record.meta.get("topic") == topic]
    assert len(kept) == 1, [e.record.meta for e in capture.entries]
    assert kept[0].message is not None and "Ada" in json.dumps(kept[0].message.body)


def test_a_chunked_body_reaches_the_capture_whole() -> None:
    seen: list[HttpRequest] = []
    endpoint = HttpEndpoint(seen.append)
    endpoint.start()
    try:
        body = [b'{"owner": ', b'"Ada Canary",', b' "card": "4111111111111111"}']
        connection = http.client.HTTPConnection(*endpoint.address, timeout=10)
        connection.request("POST", "/v1/telemetry", body=iter(body),
                           headers={"Host": "cloud.example"}, encode_chunked=True)
        assert connection.getresponse().status == 200
        connection.close()
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        endpoint.stop()
    [request] = seen
    assert request.body == b"".join(body)
    assert request.headers["transfer-encoding"] == "chunked"


def test_a_planted_value_in_a_topic_is_not_raw_in_the_saved_capture(
        brewbench_mosquitto: Mosquitto, tmp_path: Path) -> None:
    canaries = plant()
    owner = canaries["owner"]
    with tapped_on(brewbench_mosquitto) as (tap, capture, device):
        published(device, f"acme/{owner}/telemetry", b'{"t": 1}')
        published(device, "acme/plain/telemetry", b'{"t": 2}')
        tap.settle()
    saved = save_capture(capture, tmp_path / "c.jsonl", redactor=Redactor(b"k" * 32),
                         canaries=canaries).read_text()
    assert owner not in saved
    assert '"topic": "acme/plain/telemetry"' in saved  # what holds nothing stays readable
    raw = save_capture(capture, tmp_path / "raw.jsonl", raw=True).read_text()
    assert owner in raw  # raw on request only
