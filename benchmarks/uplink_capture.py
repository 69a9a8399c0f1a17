"""Uplink capture: messages per second the bench's tap captures on a real broker,
against a plain paho-mqtt subscriber on the same broker.

    python benchmarks/uplink_capture.py [--messages 20000] [--repeat 3]

One local ``mosquitto`` (Debian's, on PATH) in a temporary folder. For each run a
publisher in another process (so it does not share this one's interpreter lock)
sends ``--messages`` CBOR records of about 200 bytes at QoS 1 to one topic; the
receiver is either

1. plain: a paho-mqtt subscriber (QoS 1) that counts messages, or
2. tap: ``UplinkTap`` recording into a ``Capture`` (decode, one record per body,
   attributed to the running action);

timed from the first message received to the last. Plain and tap runs alternate,
the best of each counts, and the ratio tap/plain is printed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from alternating import alternate
from paho.mqtt.enums import CallbackAPIVersion

from brewbench.bench.capture import Capture
from brewbench.bench.uplink.servers import Mosquitto
from brewbench.bench.uplink.tap import UplinkTap

PUBLISHER = """
import sys, cbor2, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
port, count = int(sys.argv[1]), int(sys.argv[2])
client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
client.max_inflight_messages_set(100)
client.max_queued_messages_set(0)
client.connect("127.0.0.1", port)
client.loop_start()
body = {"kind": "record", "serial": "BB0001", "drink": "latte", "strength": 4, "size_ml": 250,
        "milk": "oat", "served_at": "2026-12-02T03:00:00+00:00", "owner": "Ada Canary-7F3A",
        "organisation": "Bench Lab", "site": "HQ", "floor": "Floor 7F3A"}
last = None
for n in range(count):
    last = client.publish("acme/BB0001/rec", cbor2.dumps({**body, "msg_id": n}), qos=1)
last.wait_for_publish(120)
client.disconnect()
client.loop_stop()
"""


class Clock:
    """First and last arrival of ``count`` messages."""

    def __init__(self, count: int) -> None:
        self.count, self.seen, self.first, self.last = count, 0, 0.0, 0.0
        self.done = threading.Event()

    def tick(self) -> None:
        now = time.perf_counter()
        self.seen += 1
        if self.seen == 1:
            self.first = now
        if self.seen >= self.count:
            self.last = now
            self.done.set()

    def seconds(self) -> float:
        return self.last - self.first


def publish(port: int, count: int) -> None:
    subprocess.run([sys.executable, "-c", PUBLISHER, str(port), str(count)], check=True,
                   timeout=600)


def plain(broker: Mosquitto, count: int) -> float:
    clock = Clock(count)
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="plain-subscriber")
    client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda *_: clock.tick()
    client.connect(*broker.address)
    client.loop_start()
    subscribed.wait(10)
    publish(broker.port, count)
    clock.done.wait(600)
    client.disconnect()
    client.loop_stop()
    return clock.seconds()


def tap(broker: Mosquitto, count: int) -> float:
    capture = Capture("bench")
    uplink = UplinkTap(broker.address)
    uplink.bind(capture)
    uplink.start()
    publish(broker.port, count)
    deadline = time.monotonic() + 600
    while uplink.messages < count and time.monotonic() < deadline:
        time.sleep(0.01)
    uplink.stop()
    stamps = [e.record.stamp.mono_ns for e in capture.entries]
    assert len(stamps) == count, f"captured {len(stamps)} of {count}"
    return (stamps[-1] - stamps[0]) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root, Mosquitto(Path(root)) as broker:
        plain_s, tap_s = alternate(args.repeat, lambda: plain(broker, args.messages),
                                   lambda: tap(broker, args.messages))
    rate = (args.messages - 1) / plain_s, (args.messages - 1) / tap_s
    print(f"uplink  plain paho subscriber {rate[0]:9,.0f} msg/s   bench tap {rate[1]:9,.0f} msg/s"
          f"   ratio tap/plain {plain_s / tap_s:5.2f}  ({args.messages} messages, best of "
          f"{args.repeat})")


if __name__ == "__main__":
    main()
