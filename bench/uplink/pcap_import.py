"""A network capture (pcap, pcapng) as a brewbench capture of uplink records.

For traffic the bench did not see live: a TLS uplink captured at the lab's access
point, or a capture made elsewhere. MQTT publishes and HTTP requests become
uplink records (bench/uplink/records.py) with:

    host      the name the device meant: the HTTP Host header, else the DNS name
              answered for the server's address in the same capture, else the TLS
              server name (SNI), else the address itself
    address   the server's "ip:port"
    topic, qos, retain (MQTT) or method, path, content_type (HTTP)

A TLS stream cannot be read; it becomes one undecodable record holding only its
size, with its SNI and DNS name as the host, so the inventory still shows where
data went. Records are attributed to the action ``idle`` (there were no bench
actions) and ordered by capture time.

A stream's records say ``truncated`` (a hole), ``cut`` (past the read bounds) and
``contradicting`` (two copies of its bytes disagreed) when they apply; a request
whose body length is not a length is a record with that error. The file's own
damage and the bytes not read are in ``meta["pcap"]``, and the records go
through the capture's budget like any device's (bench/capture_budget.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...drivers.records import RX, Record, Stamp
from ..capture import IDLE, Capture
from .pcap_streams import Stream, Traffic, read_pcap
from .records import CHANNEL, uplink_records
from .wire import http_requests, is_http, is_mqtt, is_tls, mqtt_publishes, tls_server_name

TLS_ERROR = "encrypted (TLS): the payload cannot be read; capture it in the clear or at the device"


def import_pcap(path: Path, progress: Callable[[int], None] | None = None) -> Capture:
    """The uplink records of a pcap or pcapng file (``progress(bytes_read)`` on long ones).

    Raises:
        PcapError: the file is not a capture this bench can read.
    """
    traffic = read_pcap(path, progress)
    capture = Capture(f"pcap:{path.name}", {
        "source": str(path), "imported": "pcap",
        "uplink": {"lookups": {"dns": dict(traffic.names)}},
        "pcap": {"packets": traffic.packets, "damaged": traffic.damaged,
                 "bytes_not_read": traffic.cut_bytes,
                 "packets_not_followed": traffic.unfollowed}}, bench_requests=False)
    records: list[Record] = []
    for stream in traffic.streams:
        records.extend(_stream_records(stream, traffic))
        stream.data = b""  # its records hold what is needed of it
    records.sort(key=lambda r: r.stamp.mono_ns)
    capture.keep(records, IDLE)
    if traffic.cut_bytes:
        capture.count_cut(CHANNEL, 0, traffic.cut_bytes)
    capture.meta["uplink"]["messages"] = len(records)
    return capture


def _stream_records(stream: Stream, traffic: Traffic) -> list[Record]:
    ip, port = stream.server
    address = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    named = traffic.names.get(ip)
    base: dict[str, Any] = {"address": address}
    for flag in ("truncated", "cut", "contradicting"):
        if getattr(stream, flag):
            base[flag] = True
    out: list[Record] = []
    if is_mqtt(stream.data):
        for publish in mqtt_publishes(stream.data):
            meta = {"protocol": "mqtt", "host": named or ip, **base, "topic": publish.topic,
                    "qos": publish.qos, "retain": publish.retain}
            out += uplink_records(publish.payload, meta, _stamp(stream, publish.offset), len(out))
    elif is_http(stream.data):
        for request in http_requests(stream.data):
            host = request.headers.get("host", "").rsplit(":", 1)[0] or named or ip
            meta = {"protocol": "http", "host": host, **base, "method": request.method,
                    "path": request.path, "content_type": request.headers.get("content-type", "")}
            if request.error is not None:
                out.append(Record(CHANNEL, RX, _stamp(stream, request.offset), request.body,
                                  None, request.error, meta))
                continue
            out += uplink_records(request.body, meta, _stamp(stream, request.offset), len(out))
    elif is_tls(stream.data):
        sni = tls_server_name(stream.data)
        meta = {"protocol": "tls", "host": named or sni or ip, **base, "sni": sni or "",
                "bytes": len(stream.data)}
        out.append(Record(CHANNEL, RX, _stamp(stream, 0), b"", None, TLS_ERROR, meta))
    return out


def _stamp(stream: Stream, offset: int) -> Stamp:
    ns = stream.time_at(max(0, offset - 1))
    return Stamp(ns, ns)  # a file has one clock: its capture time


__all__ = ["TLS_ERROR", "import_pcap"]
