"""Reading a pcap or pcapng file: TCP streams reassembled, and the DNS names answered.

dpkt parses the file and the packet headers (Ethernet, Linux cooked v1/v2, raw
IP, BSD loopback; IPv4 and IPv6). Each TCP connection's client-to-server bytes
are put back in sequence order (retransmissions and reordering undone); a
stream stops at the first hole, since nothing after it can be parsed reliably.
Memory is bounded per stream: a capture cannot make the bench hold without end.
"""

from __future__ import annotations

import bisect
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import dpkt

from ...drivers.errors import BrewbenchError

MAX_STREAM = 64 * 1024 * 1024
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
Address = tuple[str, int]


class PcapError(BrewbenchError, ValueError):
    """The file is not a pcap/pcapng this bench can read."""


@dataclass
class Stream:
    """What a TCP client sent to a server, in order, and when each piece arrived."""

    client: Address
    server: Address
    data: bytes = b""
    offsets: list[int] = field(default_factory=list)  # where each segment starts in data
    times: list[int] = field(default_factory=list)  # its capture time (ns)
    truncated: bool = False

    def time_at(self, offset: int) -> int:
        """When the byte at ``offset`` was captured."""
        index = max(0, bisect.bisect_right(self.offsets, offset) - 1)
        return self.times[index] if self.times else 0


@dataclass
class Traffic:
    streams: list[Stream]
    names: dict[str, str]  # address -> the DNS name it was the answer for


@dataclass
class _Flow:
    segments: dict[int, tuple[bytes, int]] = field(default_factory=dict)  # seq -> (data, ns)
    syn_seq: int | None = None
    size: int = 0


def read_pcap(path: Path) -> Traffic:
    """The TCP streams and DNS answers of a pcap or pcapng file.

    Raises:
        PcapError: the file is unreadable, not a capture, or of an unsupported link type.
    """
    try:
        with path.open("rb") as file:
            return _read(file, path)
    except OSError as exc:
        raise PcapError(f"{path}: cannot read it: {exc.strerror or exc}") from exc


def _read(file: BinaryIO, path: Path) -> Traffic:
    flows: dict[tuple[Address, Address], _Flow] = {}
    names: dict[str, str] = {}
    try:
        magic = file.read(4)
        file.seek(0)
        reader: Any = dpkt.pcapng.Reader(file) if magic == PCAPNG_MAGIC else dpkt.pcap.Reader(file)
        unwrap = _link(reader.datalink(), path)
        for ts, frame in reader:
            _packet(unwrap, frame, int(ts * 1_000_000_000), flows, names)
    except (ValueError, dpkt.UnpackError, dpkt.NeedData) as exc:
        raise PcapError(f"{path}: not a pcap or pcapng capture ({exc})") from exc
    return Traffic([_stream(key, flow) for key, flow in flows.items()], names)


def _link(datalink: int, path: Path) -> Any:
    links: dict[int, Any] = {
        dpkt.pcap.DLT_EN10MB: lambda b: dpkt.ethernet.Ethernet(b).data,
        dpkt.pcap.DLT_LINUX_SLL: lambda b: dpkt.sll.SLL(b).data,
        276: lambda b: dpkt.sll2.SLL2(b).data,  # LINUX_SLL2, what "any" captures give today
        dpkt.pcap.DLT_NULL: lambda b: dpkt.loopback.Loopback(b).data,
        dpkt.pcap.DLT_LOOP: lambda b: dpkt.loopback.Loopback(b).data,
        dpkt.pcap.DLT_RAW: _raw_ip, 12: _raw_ip, 101: _raw_ip,
    }
    if datalink not in links:
        raise PcapError(f"{path}: link type {datalink} is not supported (Ethernet, Linux "
                        "cooked, raw IP and loopback captures are)")
    return links[datalink]


def _raw_ip(buf: bytes) -> Any:
    return dpkt.ip6.IP6(buf) if buf[:1] and buf[0] >> 4 == 6 else dpkt.ip.IP(buf)


def _packet(unwrap: Any, frame: bytes, ns: int, flows: dict[tuple[Address, Address], _Flow],
            names: dict[str, str]) -> None:
    try:
        ip = unwrap(frame)
    except (dpkt.UnpackError, dpkt.NeedData, ValueError, IndexError):
        return  # a damaged frame: skip it, keep the rest of the capture
    if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
        return
    src, dst = _address(ip.src), _address(ip.dst)
    segment = ip.data
    if isinstance(segment, dpkt.udp.UDP) and segment.sport == 53:
        names.update(_dns_answers(bytes(segment.data)))
    elif isinstance(segment, dpkt.tcp.TCP):
        flow = flows.setdefault(((src, segment.sport), (dst, segment.dport)), _Flow())
        if segment.flags & dpkt.tcp.TH_SYN:
            flow.syn_seq = segment.seq
        data = bytes(segment.data)
        if data and segment.seq not in flow.segments and flow.size + len(data) <= MAX_STREAM:
            flow.segments[segment.seq] = (data, ns)
            flow.size += len(data)


def _address(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _dns_answers(payload: bytes) -> Iterator[tuple[str, str]]:
    """(address, asked name) for each A/AAAA answer, following CNAMEs back to the question."""
    try:
        dns = dpkt.dns.DNS(payload)
    except (dpkt.UnpackError, dpkt.NeedData, ValueError, IndexError):
        return
    if not dns.qd:
        return
    asked = dns.qd[0].name
    for answer in dns.an:
        if answer.type == dpkt.dns.DNS_A:
            yield socket.inet_ntop(socket.AF_INET, answer.rdata), asked
        elif answer.type == dpkt.dns.DNS_AAAA:
            yield socket.inet_ntop(socket.AF_INET6, answer.rdata), asked


def _first_seq(seqs: list[int]) -> int:
    """Without the SYN: the sequence number after the widest gap (numbers wrap at 2**32)."""
    if not seqs:
        return 0
    seqs.sort()
    gaps = [((seqs[(n + 1) % len(seqs)] - seq) % 2**32, (n + 1) % len(seqs))
            for n, seq in enumerate(seqs)]
    return seqs[max(gaps)[1]] if len(seqs) > 1 else seqs[0]


def _stream(key: tuple[Address, Address], flow: _Flow) -> Stream:
    """Put one direction's segments in order (sequence numbers relative to the first)."""
    client, server = key
    base = flow.syn_seq + 1 if flow.syn_seq is not None else _first_seq(list(flow.segments))
    ordered = sorted(flow.segments.items(), key=lambda item: (item[0] - base) % 2**32)
    stream = Stream(client, server)
    chunks: list[bytes] = []
    cursor = 0
    for seq, (data, ns) in ordered:
        start = (seq - base) % 2**32
        if start > cursor:
            stream.truncated = True  # a hole: what follows cannot be parsed reliably
            break
        fresh = data[cursor - start:]
        if fresh:
            stream.offsets.append(cursor)
            stream.times.append(ns)
            chunks.append(fresh)
            cursor += len(fresh)
    stream.data = b"".join(chunks)
    return stream


__all__ = ["MAX_STREAM", "PcapError", "Stream", "Traffic", "read_pcap"]
