"""Memory and time against a hostile device: peak RSS under a flood, seconds for babble.

    python benchmarks/hostile_bounds.py [--flood 10 30 60] [--babble 10 20 50]

Flood: each duration runs in a fresh process what ``brewbench run`` does for one
device (open it, plant canaries, drive the standard steps, keep the results: a
redacted capture and the points, spooled) while the emulated machine sends
telemetry back to back from another thread for the whole duration. It prints
the process's peak RSS, how many frames the device sent and how many the
capture kept and counted.

First, the real ``brewbench run`` against an emulated machine whose ``flood``
fault sends telemetry from its first answer until the link closes.

Babble: a device of our own on a real pty writes N MB of random bytes with no
frame delimiter; the bench's SerialTransport + Connection + Capture read it,
then the analysis (classification both ways, canary hunt) and a redacted save
run. It prints seconds for reading and for analysis + save, and the peak RSS.

The other hostile surfaces (docs/reliability.md, "Capture budget"), each in a
fresh process, printing seconds, peak RSS and what was kept and counted:

    --mqtt-flood S   a device publishing small JSON messages back to back for S seconds
    --bombs N        N gzip batch bombs (100,000 items in ~1.2 KB) and N compression
                     bombs (16 MiB of text) published to a real mosquitto, then analysed
    --pcap MB        a pcap of MB megabytes of HTTP posts, imported
    --btsnoop MB     a btsnoop log of MB megabytes of notifications, imported
    --tap MB         MB megabytes without a newline on a tapped pty (``lines`` framer)
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import dpkt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from brewbench.bench.bluetooth.btsnoop_import import import_btsnoop
from brewbench.bench.capture import Capture
from brewbench.bench.devices import open_device
from brewbench.bench.influx.run_log import RunLog
from brewbench.bench.influx.settings import InfluxSettings
from brewbench.bench.results import TestOutcome, keep
from brewbench.bench.scenario import standard_steps, steps_for
from brewbench.bench.uplink.pcap_import import import_pcap
from brewbench.bench.uplink.servers import Mosquitto
from brewbench.bench.uplink.tap import UplinkTap
from brewbench.bench.verify.canaries import plant
from brewbench.bench.verify.capture_redaction import save_capture
from brewbench.bench.verify.redact import Redactor
from brewbench.bench.verify.verification import verify
from brewbench.drivers.connection import Connection
from brewbench.drivers.errors import BrewbenchError
from brewbench.drivers.serial_transport import SerialTransport
from brewbench.drivers.tap.listener import Tap


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def flood_run(seconds: float, results: Path) -> dict[str, float]:
    """One device's ``brewbench run`` under a telemetry flood of ``seconds``."""
    canaries = plant()
    sent = 0
    with open_device("emu://?firmware=2.1&transport=serial") as device:
        assert device.emulator is not None
        stop = threading.Event()

        def flood() -> None:
            nonlocal sent
            while not stop.is_set():
                device.emulator.machine.burst(100)  # type: ignore[union-attr]
                sent += 100

        sender = threading.Thread(target=flood)
        sender.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for step in steps_for(device.machine, standard_steps(canaries.provisioning(),
                                                                 card=canaries.card())):
                with contextlib.suppress(BrewbenchError):  # a flooded step may time out
                    step.run(device.machine)
        stop.set()
        sender.join()
    start = time.monotonic()
    run_log = RunLog.open(InfluxSettings(spool=results / "spool"), "bounds", kind="run")
    keep(device.capture, results / "capture.jsonl", run_log,
         TestOutcome("bounds", "passed", seconds, time.time_ns()), canaries=canaries)
    run_log.close()
    overflow = device.capture.meta.get("overflow", {})
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "sent": sent,
            "kept": len(device.capture.entries), "counted": overflow.get("records", 0),
            "keep_s": time.monotonic() - start}


def babble_run(megabytes: int, results: Path) -> dict[str, float]:
    """Read ``megabytes`` of delimiter-free noise from a pty, then analyse and save it."""
    master, slave = os.openpty()
    tty.setraw(slave)
    connection = Connection(SerialTransport(os.ttyname(slave)))
    capture = Capture("babble")
    connection.attach(capture)
    connection.open()
    noise = os.urandom(1 << 20).replace(b"\x00", b"\x01")
    start = time.monotonic()
    writer = threading.Thread(target=lambda: [os.write(master, noise) for _ in range(megabytes)])
    writer.start()
    writer.join()
    last, still = -1, 0
    while still < 3:  # the reader has caught up once the count stops moving
        time.sleep(0.05)
        still = still + 1 if connection.frame_errors == last else 0
        last = connection.frame_errors
    connection.close()
    read_s = time.monotonic() - start - 0.15
    start = time.monotonic()
    save_capture(capture, results / "babble.jsonl", redactor=Redactor(b"k" * 32),
                 canaries=plant())
    os.close(master)
    os.close(slave)
    return {"mb": megabytes, "read_s": read_s, "analyse_save_s": time.monotonic() - start,
            "records": len(capture.entries), "peak_rss_mb": peak_rss_mb()}


@contextlib.contextmanager
def tapped_broker(results: Path) -> Iterator[tuple[UplinkTap, Capture, mqtt.Client]]:
    """A real mosquitto, the bench's tap on it into a fresh capture, and the hostile
    device's MQTT client; the tap settles and stops at the end."""
    with Mosquitto(results / "mosquitto") as broker:
        capture = Capture("hostile-uplink")
        tap = UplinkTap(broker.address, broker_log=broker.log_path)
        tap.bind(capture)
        tap.start()
        device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hostile",
                             protocol=mqtt.MQTTv311)
        device.connect(*broker.address)
        device.loop_start()
        yield tap, capture, device
        tap.settle()
        device.loop_stop()
        tap.stop()


def uplink_cut(capture: Capture) -> int:
    return int(capture.meta.get("overflow", {}).get("channels", {}).get("uplink", {})
               .get("records", 0))


def bombs_run(count: int, results: Path) -> dict[str, float]:
    """``count`` batch bombs and ``count`` compression bombs through a real broker."""
    batch = gzip.compress(json.dumps([{"n": 1}] * 100_000).encode())
    text = gzip.compress(json.dumps({"telemetry": "Ada " * (4 << 20)}).encode())
    start = time.monotonic()
    with tapped_broker(results) as (_tap, capture, device):
        for payload in [batch] * count + [text] * count:
            device.publish("acme/t", payload, qos=1).wait_for_publish(30)
    received = time.monotonic() - start
    start = time.monotonic()
    verify(capture, plant())
    return {"n": count, "receive_s": received, "analyse_s": time.monotonic() - start,
            "kept": len(capture.entries), "counted": uplink_cut(capture),
            "peak_rss_mb": peak_rss_mb()}


def mqtt_flood_run(seconds: float, results: Path) -> dict[str, float]:
    """A device publishing back to back (QoS 0) for ``seconds``: what was captured,
    counted, and what the broker says it dropped."""
    with tapped_broker(results) as (tap, capture, device):
        sent, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            if device.publish("acme/t", b'{"n": %d}' % sent, qos=0).rc == mqtt.MQTT_ERR_SUCCESS:
                sent += 1
        # one QoS 1 message after the flood: once it is acknowledged, the device has
        # handed the broker everything before it (one connection keeps its order)
        device.publish("acme/t", b'{"last": 1}', qos=1).wait_for_publish(60)
        time.sleep(2.5)  # the broker's $SYS counter is published every second
    return {"seconds": seconds, "sent": sent, "kept": len(capture.entries),
            "counted": uplink_cut(capture), "dropped": tap.broker_dropped,
            "peak_rss_mb": peak_rss_mb()}


def pcap_run(megabytes: int, results: Path) -> dict[str, float]:
    """Import a pcap of ``megabytes`` of HTTP posts on one connection each 1 MB."""
    path = results / "big.pcap"
    post = (b"POST /t HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1300\r\n\r\n"
            + b'{"n": "' + b"7" * 1291 + b'"}')
    with path.open("wb") as out:
        writer = dpkt.pcap.Writer(out)
        for n in range(megabytes * 1024 * 1024 // len(post)):
            ip = dpkt.ip.IP(src=b"\x0a\x00\x00\x02", dst=b"\x0a\x00\x00\x05",
                            p=dpkt.ip.IP_PROTO_TCP, data=dpkt.tcp.TCP(
                                sport=40000 + n // 800, dport=80, flags=dpkt.tcp.TH_ACK,
                                seq=1 + (n % 800) * len(post), data=post))
            ip.len = len(bytes(ip))
            writer.writepkt(bytes(dpkt.ethernet.Ethernet(
                src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip)))
    start = time.monotonic()
    capture = import_pcap(path)
    return {"mb": megabytes, "import_s": time.monotonic() - start, "kept": len(capture.entries),
            "not_read": capture.meta["pcap"]["bytes_not_read"], "peak_rss_mb": peak_rss_mb()}


def btsnoop_run(megabytes: int, results: Path) -> dict[str, float]:
    """Import a btsnoop log of ``megabytes`` of 200-byte notifications."""
    path = results / "big.log"
    value = b"Ada Canary-7F3A " * 12
    pdu = b"\x1b\x12\x00" + value
    l2cap = struct.pack("<HH", len(pdu), 4) + pdu
    h4 = b"\x02" + struct.pack("<HH", 0x40 | (0b10 << 12), len(l2cap)) + l2cap
    with path.open("wb") as out:
        out.write(b"btsnoop\0" + struct.pack(">II", 1, 1002))
        record = struct.pack(">IIIIq", len(h4), len(h4), 1, 0, 0x00E03AB44A676000) + h4
        out.write(record * (megabytes * 1024 * 1024 // len(record)))
    start = time.monotonic()
    capture = import_btsnoop(path)
    return {"mb": megabytes, "import_s": time.monotonic() - start, "kept": len(capture.entries),
            "counted": capture.meta.get("overflow", {}).get("records", 0),
            "peak_rss_mb": peak_rss_mb()}


def tap_run(megabytes: int, results: Path) -> dict[str, float]:
    """``megabytes`` without a newline on a tapped pty, then the analysis."""
    master, slave = os.openpty()
    tty.setraw(slave)
    tap = Tap({"rx": os.ttyname(slave)}, framer="lines")
    capture = Capture("tap")
    tap.attach(capture)
    tap.open()
    noise = os.urandom(1 << 20).replace(b"\n", b"-")
    start = time.monotonic()
    for _ in range(megabytes):
        os.write(master, noise)
    while tap.lines["rx"].bytes < megabytes << 20:
        time.sleep(0.05)
    tap.close()
    read_s = time.monotonic() - start
    start = time.monotonic()
    verify(capture, plant())
    os.close(master)
    os.close(slave)
    return {"mb": megabytes, "read_s": read_s, "analyse_s": time.monotonic() - start,
            "records": len(capture.entries), "peak_rss_mb": peak_rss_mb()}


RUNS = {"flood": lambda size, folder: flood_run(size, folder),
        "babble": lambda size, folder: babble_run(int(size), folder),
        "bombs": lambda size, folder: bombs_run(int(size), folder),
        "mqtt-flood": lambda size, folder: mqtt_flood_run(size, folder),
        "pcap": lambda size, folder: pcap_run(int(size), folder),
        "btsnoop": lambda size, folder: btsnoop_run(int(size), folder),
        "tap": lambda size, folder: tap_run(int(size), folder)}


def in_child(kind: str, size: float) -> dict[str, float]:
    """Run one measurement in a fresh process, so each peak RSS is its own."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(size)],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def brewbench_run_flooded(results: Path) -> tuple[float, float]:
    """The real ``brewbench run`` against a machine that floods after its first answer
    (``fault=flood``, until the link closes): seconds taken and the command's peak RSS."""
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(results / "lab.key")}
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "brewbench", "run", "--device",
                    "emu://?firmware=2.1&transport=serial&fault=flood", "--results",
                    str(results / "run")], check=False, capture_output=True, env=env)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return time.monotonic() - start, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood", type=float, nargs="*", default=[10, 30, 60])
    parser.add_argument("--babble", type=int, nargs="*", default=[10, 20, 50])
    parser.add_argument("--mqtt-flood", type=float, nargs="*", default=[10])
    parser.add_argument("--bombs", type=int, nargs="*", default=[20])
    parser.add_argument("--pcap", type=int, nargs="*", default=[100])
    parser.add_argument("--btsnoop", type=int, nargs="*", default=[50])
    parser.add_argument("--tap", type=int, nargs="*", default=[100])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, size = args.child
        with tempfile.TemporaryDirectory() as folder:
            result = RUNS[kind](float(size), Path(folder))
        print(json.dumps(result))
        return
    if args.flood:  # ``--flood`` with no duration skips the control-link floods
        with tempfile.TemporaryDirectory() as folder:
            took, peak = brewbench_run_flooded(Path(folder))
        print(f"brewbench run, machine flooding from its first answer: {took:.1f} s, peak RSS "
              f"{peak:.1f} MB", flush=True)
    for seconds in args.flood:
        r = in_child("flood", seconds)
        print(f"flood {seconds:>4g} s: peak RSS {r['peak_rss_mb']:6.1f} MB; device sent "
              f"{r['sent']:,} frames, capture kept {r['kept']:,} and counted {r['counted']:,}; "
              f"keep (redacted save + analysis) {r['keep_s']:.1f} s", flush=True)
    for megabytes in args.babble:
        r = in_child("babble", megabytes)
        print(f"babble {megabytes:>3} MB: read {r['read_s']:.2f} s, analysis + redacted save "
              f"{r['analyse_save_s']:.3f} s, {r['records']:.0f} records, peak RSS "
              f"{r['peak_rss_mb']:.1f} MB", flush=True)
    report_surfaces(args)


def report_surfaces(args: argparse.Namespace) -> None:
    """The uplink, import and tap measurements."""
    for seconds in args.mqtt_flood:
        r = in_child("mqtt-flood", seconds)
        print(f"MQTT flood {seconds:g} s: device sent {r['sent']:,}, capture kept {r['kept']:,} "
              f"and counted {r['counted']:,}, broker said it dropped {r['dropped']:,}; peak RSS "
              f"{r['peak_rss_mb']:.0f} MB", flush=True)
    for count in args.bombs:
        r = in_child("bombs", count)
        print(f"{count} batch bombs + {count} compression bombs: received in "
              f"{r['receive_s']:.1f} s, analysed in {r['analyse_s']:.1f} s, kept {r['kept']:,}, "
              f"counted {r['counted']:,}, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    for megabytes in args.pcap:
        r = in_child("pcap", megabytes)
        print(f"pcap {megabytes} MB: imported in {r['import_s']:.1f} s, kept {r['kept']:,}, "
              f"{r['not_read'] / 2**20:.0f} MiB not read, peak RSS {r['peak_rss_mb']:.0f} MB",
              flush=True)
    for megabytes in args.btsnoop:
        r = in_child("btsnoop", megabytes)
        print(f"btsnoop {megabytes} MB: imported in {r['import_s']:.1f} s, kept {r['kept']:,}, "
              f"counted {r['counted']:,}, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    for megabytes in args.tap:
        r = in_child("tap", megabytes)
        print(f"tap {megabytes} MB without a newline: read {r['read_s']:.1f} s, analysed "
              f"{r['analyse_s']:.2f} s, {r['records']:.0f} records, peak RSS "
              f"{r['peak_rss_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
