"""brewbench import pcap: MQTT and HTTP over TCP (with DNS and TLS) from a pcap made here."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import cbor2
import dpkt
import pytest

from brewbench.bench.uplink.pcap_import import TLS_ERROR, import_pcap
from brewbench.bench.uplink.pcap_streams import PcapError
from brewbench.bench.verify.classify import classify
from brewbench.bench.verify.emissions import emissions
from brewbench.bench.verify.residency import destinations

DEVICE, BROKER, PAY, TLS = "192.168.7.20", "10.0.0.5", "10.0.0.6", "10.0.0.7"
BROKER_NAME = "mqtt.eu-central-1.acme-cloud.example"
PAY_HOST = "pay.us-east-1.acme-cloud.example"
SNI = "ota.ap-southeast-1.acme-cloud.example"
RECORD = {"kind": "record", "drink": "latte", "owner": "Ada Canary-7F3A", "record_id": 1}
PAYMENT = {"kind": "payment", "card_number": "4111111111117F3A", "record_id": 1}


def frame(src: str, dst: str, segment: dpkt.Packet, proto: int) -> bytes:
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=segment)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6,
                                        type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def tcp(src: str, dst: str, sport: int, dport: int, seq: int, data: bytes = b"",
        flags: int = dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH) -> bytes:
    return frame(src, dst, dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, flags=flags, data=data),
                 dpkt.ip.IP_PROTO_TCP)


def dns_answer(name: str, address: str) -> bytes:
    answer = dpkt.dns.DNS(id=7, qr=dpkt.dns.DNS_R, qd=[dpkt.dns.DNS.Q(name=name)],
                          an=[dpkt.dns.DNS.RR(name=name, type=dpkt.dns.DNS_A,
                                              rdata=socket.inet_aton(address))])
    return frame("192.168.7.1", DEVICE, dpkt.udp.UDP(sport=53, dport=40000, data=bytes(answer)),
                 dpkt.ip.IP_PROTO_UDP)


def mqtt_stream() -> bytes:
    client = b"cm-BB0001"
    connect_body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client).to_bytes(2, "big") + client
    connect = bytes([0x10, len(connect_body)]) + connect_body
    topic = b"acme/BB0001/rec"
    payload = cbor2.dumps(RECORD)
    body = len(topic).to_bytes(2, "big") + topic + b"\x00\x01" + payload
    publish = bytes([0x32 | 0x01, len(body)]) + body  # QoS 1, retained
    return connect + publish


def http_stream() -> bytes:
    body = gzip.compress(json.dumps(PAYMENT).encode())
    first = (f"POST /v2/payments HTTP/1.1\r\nHost: {PAY_HOST}\r\nContent-Type: application/json\r\n"
             f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    chunked = json.dumps({"kind": "heartbeat", "serial": "BB0001"}).encode()
    second = (f"POST /hb HTTP/1.1\r\nHost: {PAY_HOST}:8080\r\nTransfer-Encoding: chunked\r\n\r\n"
              f"{len(chunked[:10]):x}\r\n").encode() + chunked[:10] + (
              f"\r\n{len(chunked[10:]):x}\r\n").encode() + chunked[10:] + b"\r\n0\r\n\r\n"
    return first + second


def client_hello(name: str) -> bytes:
    sni = name.encode()
    entry = b"\x00" + len(sni).to_bytes(2, "big") + sni
    ext = b"\x00\x00" + (len(entry) + 2).to_bytes(2, "big") + len(entry).to_bytes(2, "big") + entry
    hello = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
             + len(ext).to_bytes(2, "big") + ext)
    handshake = b"\x01" + len(hello).to_bytes(3, "big") + hello
    return b"\x16\x03\x01" + len(handshake).to_bytes(2, "big") + handshake


def write_capture(path: Path, pcapng: bool) -> Path:
    mqtt, http = mqtt_stream(), http_stream()
    packets = [
        dns_answer(BROKER_NAME, BROKER),
        tcp(DEVICE, BROKER, 50001, 1883, 999, flags=dpkt.tcp.TH_SYN),
        tcp(BROKER, DEVICE, 1883, 50001, 5000, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK),
        # out of order, and the middle segment sent twice
        tcp(DEVICE, BROKER, 50001, 1883, 1000, mqtt[:20]),
        tcp(DEVICE, BROKER, 50001, 1883, 1000 + 40, mqtt[40:]),
        tcp(DEVICE, BROKER, 50001, 1883, 1000 + 20, mqtt[20:40]),
        tcp(DEVICE, BROKER, 50001, 1883, 1000 + 20, mqtt[20:40]),
        tcp(BROKER, DEVICE, 1883, 50001, 5001, b"\x20\x02\x00\x00"),  # CONNACK: not an uplink
        tcp(DEVICE, PAY, 50002, 80, 2**32 - 30, http[:100]),  # sequence numbers wrap
        tcp(DEVICE, PAY, 50002, 80, (2**32 - 30 + 100) % 2**32, http[100:]),
        tcp(DEVICE, TLS, 50003, 443, 77, client_hello(SNI)),
    ]
    with path.open("wb") as out:
        writer = dpkt.pcapng.Writer(out) if pcapng else dpkt.pcap.Writer(out)
        for n, packet in enumerate(packets):
            writer.writepkt(packet, ts=1_790_000_000 + n / 10)
    return path


@pytest.mark.parametrize("pcapng", [False, True], ids=["pcap", "pcapng"])
def test_import_reads_mqtt_http_dns_and_tls_as_sent(tmp_path: Path, pcapng: bool) -> None:
    capture = import_pcap(write_capture(tmp_path / "uplink.cap", pcapng))
    records = [entry.record for entry in capture.entries]
    mqtt = [r for r in records if r.meta["protocol"] == "mqtt"]
    http = [r for r in records if r.meta["protocol"] == "http"]
    tls = [r for r in records if r.meta["protocol"] == "tls"]
    assert len(mqtt) == 1 and mqtt[0].message is not None and mqtt[0].message.body == RECORD
    assert {k: mqtt[0].meta[k] for k in ("host", "address", "topic", "qos", "retain")} == {
        "host": BROKER_NAME, "address": f"{BROKER}:1883", "topic": "acme/BB0001/rec", "qos": 1,
        "retain": True}
    bodies = [r.message.body for r in http if r.message is not None]
    assert bodies == [PAYMENT, {"kind": "heartbeat", "serial": "BB0001"}]
    assert [(r.meta["host"], r.meta["method"], r.meta["path"]) for r in http] == [
        (PAY_HOST, "POST", "/v2/payments"), (PAY_HOST, "POST", "/hb")]
    assert http[0].meta["encoding"] == "json+gzip"
    assert len(tls) == 1 and (tls[0].meta["host"], tls[0].error) == (SNI, TLS_ERROR)
    assert [r.stamp.wall_ns for r in records] == sorted(r.stamp.wall_ns for r in records)
    where = destinations(capture, classify(emissions(capture)))
    assert where["payment"] == {PAY_HOST: 1} and where["identity"] == {BROKER_NAME: 1}


def test_the_command_saves_a_redacted_capture_and_prints_destinations(tmp_path: Path) -> None:
    source = write_capture(tmp_path / "uplink.pcap", pcapng=False)
    env = {**os.environ, "BREWBENCH_LAB_KEY_FILE": str(tmp_path / "lab.key")}
    done = subprocess.run([sys.executable, "-m", "brewbench", "import", "pcap", str(source)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "4 uplink records" in done.stdout and PAY_HOST in done.stdout
    saved = tmp_path / "uplink.jsonl"
    assert "4111111111117F3A" not in saved.read_text() and "Canary-7F3A" not in saved.read_text()


def test_a_file_that_is_not_a_capture_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.pcap"
    bogus.write_text("not a capture at all\n")
    done = subprocess.run([sys.executable, "-m", "brewbench", "import", "pcap", str(bogus)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a pcap or pcapng capture" in done.stderr
    with pytest.raises(PcapError, match="cannot read it"):
        import_pcap(tmp_path / "missing.pcap")
