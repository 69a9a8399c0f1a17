"""A hostile pcap cannot hang, exhaust or fool ``brewbench import pcap``.

Each test writes the hostile file with dpkt (or by hand, where dpkt would not
write something that broken) and shows the bound and the line that says so
(docs/reliability.md, "Imports").
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import cbor2
import dpkt
import pytest

from brewbench.bench.cli.main import main
from brewbench.bench.uplink import pcap_streams
from brewbench.bench.uplink.pcap_import import import_pcap
from brewbench.bench.uplink.pcap_streams import MAX_BLOCK, read_pcap

from .test_uplink_pcap import BROKER, DEVICE, PAY, RECORD, body, mqtt_stream, tcp

SYN = dpkt.tcp.TH_SYN


def write(path: Path, packets: list[bytes]) -> Path:
    with path.open("wb") as out:
        writer = dpkt.pcap.Writer(out)
        for n, packet in enumerate(packets):
            writer.writepkt(packet, ts=1_790_000_000 + n / 10)
    return path


def post(path: str, length: bytes, content: bytes = b"") -> bytes:
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: pay.example\r\nContent-Length: "
            + length + b"\r\n\r\n" + content)


def chunked(size: bytes) -> bytes:
    return (b"POST /c HTTP/1.1\r\nHost: pay.example\r\nTransfer-Encoding: chunked\r\n\r\n"
            + size + b"\r\nabcde\r\n0\r\n\r\n")


@pytest.mark.parametrize("hostile", [post("/bad", b"-5"), post("/bad", b"abc"),
                                     post("/bad", b"\xd9\xa3"), chunked(b"-5"), chunked(b"zz")],
                         ids=["negative", "letters", "non-ascii digit", "negative chunk",
                              "chunk not hex"])
def test_a_length_that_is_not_one_is_a_finding_and_the_requests_before_it_stay(
        tmp_path: Path, hostile: bytes) -> None:
    content = json.dumps({"owner": "Ada"}).encode()
    good = post("/ok", str(len(content)).encode(), content)
    stream = good + hostile + b'{"after": "the bad length"}'
    started = time.monotonic()
    capture = import_pcap(write(tmp_path / "bad-length.pcap",
                                [tcp(DEVICE, PAY, 50002, 80, 1, stream)]))
    assert time.monotonic() - started < 5  # it used to loop for ever on a negative length
    records = [e.record for e in capture.entries]
    assert [r.meta["path"] for r in records] == ["/ok", "/bad" if b"/bad" in hostile else "/c"]
    assert body(records[0]) == {"owner": "Ada"}
    assert records[1].error is not None and "is not a" in records[1].error
    assert b"the bad length" in records[1].raw  # the rest of the stream is kept for the hunter


def test_a_file_cut_inside_a_record_header_keeps_every_packet_before_it(tmp_path: Path) -> None:
    path = write(tmp_path / "copied-while-written.pcap", [
        tcp(DEVICE, BROKER, 50001, 1883, 1000, mqtt_stream()),
        tcp(DEVICE, PAY, 50002, 80, 1, b"GET /x HTTP/1.1\r\n\r\n")])
    whole = path.read_bytes()
    last = len(tcp(DEVICE, PAY, 50002, 80, 1, b"GET /x HTTP/1.1\r\n\r\n")) + 16
    path.write_bytes(whole[:len(whole) - last + 7])  # 7 bytes into the last record's header
    capture = import_pcap(path)
    assert [body(e.record) for e in capture.entries] == [RECORD]
    assert "the packets before it are kept" in capture.meta["pcap"]["damaged"]


def test_a_record_claiming_gigabytes_stops_the_reading_without_reading_them(
        tmp_path: Path) -> None:
    path = write(tmp_path / "huge-record.pcap", [tcp(DEVICE, BROKER, 50001, 1883, 1000,
                                                     mqtt_stream())])
    with path.open("ab") as out:  # a record header that claims 2 GiB
        out.write(struct.pack("<IIII", 1_790_000_001, 0, 0x7FFF_FFFF, 0x7FFF_FFFF) + b"x" * 64)
    traffic = read_pcap(path)
    assert f"claims {0x7FFF_FFFF} bytes" in traffic.damaged and traffic.packets == 1
    assert MAX_BLOCK < 0x7FFF_FFFF and len(traffic.streams) == 1


def test_a_stream_past_the_read_bound_is_cut_and_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(pcap_streams, "MAX_STREAM", 4096)
    stream = mqtt_stream()
    segments = [tcp(DEVICE, BROKER, 50001, 1883, 1000, stream)]
    segments += [tcp(DEVICE, BROKER, 50001, 1883, 1000 + len(stream) + n * 1000, b"\x00" * 1000)
                 for n in range(10)]
    source = write(tmp_path / "long.pcap", segments)
    capture = import_pcap(source)
    assert capture.meta["pcap"]["bytes_not_read"] > 6000
    assert capture.meta["overflow"]["channels"]["uplink"]["bytes"] > 6000
    assert all(e.record.meta.get("cut") for e in capture.entries if "address" in e.record.meta)
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(tmp_path / "lab.key"))
    assert main(["import", "pcap", str(source)]) == 0
    printed = capsys.readouterr().out
    assert "cut: 1 stream(s) past the import's bounds" in printed
    assert "not kept: uplink: 0 record(s)" in printed


def mqtt_publish_stream(payload: bytes) -> bytes:
    client = b"cm-BB0002"
    connect_body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client).to_bytes(2, "big") + client
    topic = b"acme/BB0002/rec"
    publish_body = len(topic).to_bytes(2, "big") + topic + payload
    return (bytes([0x10, len(connect_body)]) + connect_body
            + bytes([0x30, len(publish_body)]) + publish_body)


def with_bad_checksum(packet: bytes) -> bytes:
    frame = dpkt.ethernet.Ethernet(packet)
    frame.data.data.sum ^= 0x5A5A  # dpkt keeps a non-zero checksum as it is
    return bytes(frame)


def test_decoys_cannot_rewrite_what_the_server_received(tmp_path: Path) -> None:
    """The three evasions measured: a bad-checksum decoy, a decoy SYN, an overlapping
    rewrite. Each stream shows the real publish and says it was contradicted."""
    real = mqtt_publish_stream(cbor2.dumps(RECORD))
    fake = mqtt_publish_stream(cbor2.dumps({**RECORD, "owner": "Nobody-00000000"}))
    assert len(real) == len(fake)
    split = len(real) - 12  # inside the payload's owner
    packets = [
        # 1: a decoy with a bad checksum arrives first with the same sequence number
        tcp(DEVICE, BROKER, 50001, 1883, 100, flags=SYN),
        with_bad_checksum(tcp(DEVICE, BROKER, 50001, 1883, 101, fake)),
        tcp(DEVICE, BROKER, 50001, 1883, 101, real),
        # 2: a second SYN with another sequence number, and decoy data after it
        tcp(DEVICE, BROKER, 50002, 1883, 200, flags=SYN),
        tcp(DEVICE, BROKER, 50002, 1883, 201, real),
        tcp(DEVICE, BROKER, 50002, 1883, 9000, flags=SYN),
        tcp(DEVICE, BROKER, 50002, 1883, 9001, fake[:split]),
        # 3: the real bytes, then an overlapping segment that rewrites their tail
        tcp(DEVICE, BROKER, 50003, 1883, 301, real[:split]),
        tcp(DEVICE, BROKER, 50003, 1883, 301 + split, real[split:]),
        tcp(DEVICE, BROKER, 50003, 1883, 301 + split - 20, fake[split - 20:]),
    ]
    capture = import_pcap(write(tmp_path / "decoys.pcap", packets))
    records = [e.record for e in capture.entries]
    assert len(records) == 3 and all(body(r) == RECORD for r in records)
    assert all(r.meta.get("contradicting") for r in records)


def test_data_on_a_syn_starts_after_it(tmp_path: Path) -> None:
    real = mqtt_publish_stream(cbor2.dumps(RECORD))
    capture = import_pcap(write(tmp_path / "fast-open.pcap", [
        tcp(DEVICE, BROKER, 50004, 1883, 500, real[:30], flags=SYN),  # TCP Fast Open
        tcp(DEVICE, BROKER, 50004, 1883, 531, real[30:])]))
    [record] = [e.record for e in capture.entries]
    assert body(record) == RECORD and not record.meta.get("contradicting")


def test_a_long_file_reports_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pcap_streams, "PROGRESS_EVERY", 1000)
    packets = [tcp(DEVICE, PAY, 50002, 80, 1 + n * 100, b"x" * 100) for n in range(40)]
    seen: list[int] = []
    read_pcap(write(tmp_path / "long.pcap", packets), seen.append)
    assert len(seen) >= 5 and seen == sorted(seen)


def test_a_file_of_decoy_connections_follows_a_bounded_number_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pcap_streams, "MAX_FLOWS", 50)
    decoys = [tcp(DEVICE, BROKER, 10_000 + n, 1883, 1, flags=SYN) for n in range(200)]
    source = write(tmp_path / "decoys.pcap", decoys)
    capture = import_pcap(source)
    assert capture.meta["pcap"]["packets_not_followed"] == 150
    monkeypatch.setenv("BREWBENCH_LAB_KEY_FILE", str(tmp_path / "lab.key"))
    assert main(["import", "pcap", str(source)]) == 0
    assert "not followed: 150 TCP packet(s)" in capsys.readouterr().out
